"""Reads of escalations: the inbox across runs and the count in the navigation."""

from __future__ import annotations

from django.db.models import QuerySet

from orchestration.models import Escalation


def escalation_open_list() -> QuerySet[Escalation]:
    """Open questions and pending approvals across runs, oldest first (they waited longest)."""
    return (
        Escalation.objects.filter(status=Escalation.Status.OPEN)
        .select_related("conversation", "tool_call")
        .order_by("created_at")
    )


def escalation_recent_closed(*, limit: int = 20) -> QuerySet[Escalation]:
    return (
        Escalation.objects.exclude(status=Escalation.Status.OPEN)
        .select_related("conversation", "answered_by")
        .order_by("-answered_at", "-pk")[:limit]
    )


def escalation_open_count() -> int:
    return Escalation.objects.filter(status=Escalation.Status.OPEN).count()


def escalation_get(*, escalation_id: int) -> Escalation | None:
    return (
        Escalation.objects.select_related("conversation", "tool_call")
        .filter(pk=escalation_id)
        .first()
    )
