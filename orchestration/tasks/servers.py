"""Celery task for server health. Thin: it calls one service."""

from __future__ import annotations

from celery import shared_task

from orchestration.services.servers import server_health_check_all

HEALTH_POLL_SECONDS = 30.0  # the beat period asked for in settings.CELERY_BEAT_SCHEDULE


@shared_task(name="orchestration.server_health_poll", ignore_result=True)
def server_health_poll() -> int:
    """Poll every server; returns how many were polled."""
    return len(server_health_check_all())
