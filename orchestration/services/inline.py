"""Drive a run in this process, step by step, with the same step code the workers run."""

from __future__ import annotations

import os
import time

from orchestration.models import Conversation, Step
from orchestration.services.step_execution import step_execute
from orchestration.services.steps import inline_dispatch

WAITING = frozenset(
    {Conversation.Status.WAITING_FOR_USER, Conversation.Status.WAITING_FOR_APPROVAL}
)


def run_drive_inline(*, conversation: Conversation, timeout_s: float) -> Conversation:
    """Run pending steps until the run ends, waits for a person, or ``timeout_s`` passes."""
    owner = f"inline:{os.getpid()}"
    deadline = time.monotonic() + timeout_s
    with inline_dispatch():
        while time.monotonic() < deadline:
            conversation.refresh_from_db()
            if conversation.is_terminal or conversation.status in WAITING:
                break
            step = conversation.steps.filter(status=Step.Status.PENDING).order_by("number").first()
            if step is None:
                break
            step_execute(step_id=step.pk, owner=owner)
    conversation.refresh_from_db()
    return conversation


def run_wait(*, conversation: Conversation, timeout_s: float, poll_s: float = 0.2) -> Conversation:
    """Wait while workers run the conversation, until it ends or waits for a person."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        conversation.refresh_from_db()
        if conversation.is_terminal or conversation.status in WAITING:
            break
        time.sleep(poll_s)
    return conversation
