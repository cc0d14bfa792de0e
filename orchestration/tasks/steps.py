"""Celery tasks for durable steps. Thin: each calls one service."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from orchestration.services.step_execution import step_execute
from orchestration.services.steps import steps_reap


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@shared_task(name="orchestration.step_run", acks_late=True, reject_on_worker_lost=True)
def step_run(step_id: int) -> str:
    return step_execute(step_id=step_id, owner=worker_name())


@shared_task(name="orchestration.steps_reap")
def steps_reap_task() -> int:
    return steps_reap()
