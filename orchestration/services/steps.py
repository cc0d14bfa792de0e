"""Durable steps: create, claim with a lease, renew, complete once, and reap expired leases.

A worker claims a step with a conditional UPDATE (pending → running, its name as owner, a lease).
It renews the lease while it works; if it dies, the lease runs out and ``steps_reap`` (Celery beat)
hands the step back, so a run recovers in well under a minute without waiting for the broker's
visibility timeout. Completing a step is conditional on still owning it: a stale worker's commit
is refused. No transaction is held across a model call.
"""

from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from orchestration.engine.ports import StepOutcome
from orchestration.models import Conversation, Escalation, Step
from orchestration.services.events import event_publish
from orchestration.services.journal import LeaseLost, seq_next

logger = logging.getLogger(__name__)

MAX_STEP_ATTEMPTS = 3


def lease_seconds() -> float:
    return settings.MMOS_STEP_LEASE_SECONDS


def renew_every_seconds() -> float:
    return settings.MMOS_STEP_LEASE_SECONDS / 4


def requeue_after_seconds() -> float:
    # A pending step whose task message may have been lost is enqueued again after this long.
    return settings.MMOS_STEP_LEASE_SECONDS * 1.5


_inline_dispatch: contextvars.ContextVar[bool] = contextvars.ContextVar("inline", default=False)


@contextmanager
def inline_dispatch():
    """Within this block new steps are not sent to Celery; the caller runs them itself."""
    token = _inline_dispatch.set(True)
    try:
        yield
    finally:
        _inline_dispatch.reset(token)


def step_enqueue(step: Step) -> None:
    """Send the step to a worker once the current transaction commits."""
    if _inline_dispatch.get():
        return
    step_id = step.pk

    def send() -> None:
        from orchestration.tasks.steps import step_run

        step_run.delay(step_id)

    transaction.on_commit(send)


def step_create(
    *,
    conversation: Conversation,
    kind: str,
    payload: dict[str, Any] | None = None,
    after_number: int = 0,
) -> Step:
    """Add the conversation's next step and enqueue it on commit. Call inside a transaction that
    holds the conversation row (``select_for_update``). ``after_number``: number it after this
    (a fork continues the numbering of the run it copies, so journal keys never collide)."""
    last = conversation.steps.order_by("-number").values_list("number", flat=True).first() or 0
    number = max(last, after_number) + 1
    step = Step.objects.create(
        conversation=conversation,
        enqueued_at=timezone.now(),
        number=number,
        idempotency_key=f"c{conversation.pk}:s{number}",
        kind=kind,
        payload=payload or {},
    )
    step_enqueue(step)
    return step


def step_claim(*, step_id: int, owner: str) -> Step | None:
    """Take the step if it is pending. Returns it, or ``None`` when someone else has it or it
    is finished (a duplicate task message is then a no-op)."""
    now = timezone.now()
    claimed = Step.objects.filter(
        pk=step_id,
        status=Step.Status.PENDING,
        conversation__status__in=[Conversation.Status.QUEUED, Conversation.Status.RUNNING],
    ).update(
        status=Step.Status.RUNNING,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1,
        started_at=now,
    )
    if not claimed:
        return None
    step = Step.objects.select_related("conversation").get(pk=step_id)
    conversation = step.conversation
    if conversation.status == Conversation.Status.QUEUED:
        with transaction.atomic():
            seq = seq_next(conversation.pk)
            Conversation.objects.filter(pk=conversation.pk).update(
                status=Conversation.Status.RUNNING, started_at=now, status_seq=seq
            )
            event_publish(conversation_id=conversation.pk, type="conversation.status", seq=seq)
        step.conversation.refresh_from_db()
    return step


def step_lease_renew(*, step_id: int, owner: str) -> bool:
    """Extend the lease. ``False`` means the lease is lost or the run has ended: stop working."""
    return bool(
        Step.objects.filter(
            pk=step_id,
            lease_owner=owner,
            status=Step.Status.RUNNING,
            conversation__status=Conversation.Status.RUNNING,
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
    )


def conversation_status_set(
    conversation: Conversation, status: str, *, reason: str = "", final_answer: str | None = None
) -> None:
    """Change a locked conversation's status and tell the watchers. Call inside a transaction."""
    conversation.status = status
    conversation.status_reason = reason
    if final_answer is not None:
        conversation.final_answer = final_answer
    if status in Conversation.TERMINAL:
        conversation.finished_at = timezone.now()
    conversation.status_seq = seq_next(conversation.pk)
    conversation.last_seq = conversation.status_seq
    conversation.save(
        update_fields=[
            "status",
            "status_reason",
            "final_answer",
            "finished_at",
            "status_seq",
            "last_seq",
            "updated_at",
        ]
    )
    event_publish(
        conversation_id=conversation.pk,
        type="conversation.status",
        seq=conversation.status_seq,
        status=status,
    )


def _locked_owned_step(step_id: int, owner: str) -> Step:
    step = Step.objects.select_for_update().filter(pk=step_id).first()
    if step is None or step.status != Step.Status.RUNNING or step.lease_owner != owner:
        raise LeaseLost(f"step {step_id} is no longer leased to {owner}")
    return step


def open_escalations(conversation: Conversation) -> bool:
    return conversation.escalations.filter(status=Escalation.Status.OPEN).exists()


def conversation_continue(conversation: Conversation) -> None:
    """After something the run waited for has arrived: enqueue the next arbiter step, unless the
    run still waits for another answer or for an approved call still to run."""
    if conversation.is_terminal or open_escalations(conversation):
        return
    if conversation.steps.filter(status__in=[Step.Status.PENDING, Step.Status.RUNNING]).exists():
        return
    if conversation.status != Conversation.Status.RUNNING:
        conversation_status_set(conversation, Conversation.Status.RUNNING)
    step_create(conversation=conversation, kind="arbiter")


@transaction.atomic
def step_complete(*, step_id: int, owner: str, outcome: StepOutcome) -> None:
    """Commit the step's outcome once. Raises ``LeaseLost`` for a stale worker."""
    step = _locked_owned_step(step_id, owner)
    conversation = Conversation.objects.select_for_update().get(pk=step.conversation_id)
    step.status = Step.Status.DONE
    step.outcome = asdict(outcome)
    step.finished_at = timezone.now()
    step.lease_expires_at = None
    step.save(update_fields=["status", "outcome", "finished_at", "lease_expires_at"])
    conversation.steps_used = F("steps_used") + 1
    conversation.save(update_fields=["steps_used"])
    conversation.refresh_from_db()
    if conversation.is_terminal:
        return
    if outcome.next == "finished":
        conversation_status_set(
            conversation, outcome.status, reason=outcome.reason, final_answer=outcome.final_answer
        )
    elif outcome.next == "wait_for_user":
        conversation_status_set(conversation, Conversation.Status.WAITING_FOR_USER)
    elif outcome.next == "wait_for_approval":
        conversation_status_set(conversation, Conversation.Status.WAITING_FOR_APPROVAL)
    elif open_escalations(conversation):
        # An approved call ran while other questions are still open: wait for them.
        waiting = conversation.escalations.filter(status=Escalation.Status.OPEN).first()
        conversation_status_set(
            conversation,
            Conversation.Status.WAITING_FOR_APPROVAL
            if waiting.kind == Escalation.Kind.APPROVAL
            else Conversation.Status.WAITING_FOR_USER,
        )
    else:
        step_create(conversation=conversation, kind="arbiter")


@transaction.atomic
def step_fail(*, step_id: int, owner: str, error: str) -> None:
    """A step raised. Retry it (a fresh attempt replays its journal) or fail the run."""
    step = _locked_owned_step(step_id, owner)
    conversation = Conversation.objects.select_for_update().get(pk=step.conversation_id)
    step.error = error[:4000]
    step.lease_owner = ""
    step.lease_expires_at = None
    if step.attempts >= MAX_STEP_ATTEMPTS or conversation.is_terminal:
        step.status = Step.Status.FAILED
        step.finished_at = timezone.now()
        step.save(
            update_fields=["error", "lease_owner", "lease_expires_at", "status", "finished_at"]
        )
        if not conversation.is_terminal:
            conversation_status_set(
                conversation,
                Conversation.Status.FAILED,
                reason=(
                    f"step {step.number} ({step.kind}) failed {step.attempts} times: {error[:500]}"
                ),
            )
        return
    step.status = Step.Status.PENDING
    step.enqueued_at = timezone.now()
    step.save(update_fields=["error", "lease_owner", "lease_expires_at", "status", "enqueued_at"])
    step_enqueue(step)


@transaction.atomic
def step_release_cancelled(*, step_id: int, owner: str) -> None:
    """The run ended (e.g. cancelled) while this worker held the step."""
    Step.objects.filter(pk=step_id, lease_owner=owner, status=Step.Status.RUNNING).update(
        status=Step.Status.CANCELLED, finished_at=timezone.now(), lease_expires_at=None
    )


def steps_reap(*, now=None) -> int:
    """Hand back steps whose worker stopped renewing its lease, and re-send pending steps whose
    task message may have been lost. Returns how many steps were sent to workers."""
    now = now or timezone.now()
    sent = 0
    for step in Step.objects.filter(status=Step.Status.RUNNING, lease_expires_at__lt=now):
        with transaction.atomic():
            released = Step.objects.filter(
                pk=step.pk,
                status=Step.Status.RUNNING,
                lease_owner=step.lease_owner,
                lease_expires_at__lt=now,
            ).update(
                status=Step.Status.PENDING, lease_owner="", lease_expires_at=None, enqueued_at=now
            )
            if released:
                logger.warning(
                    "step %s: lease of %s expired; handing it back", step.pk, step.lease_owner
                )
                step_enqueue(step)
                sent += 1
    stale = now - timedelta(seconds=requeue_after_seconds())
    for step in Step.objects.filter(
        Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True, created_at__lt=stale),
        status=Step.Status.PENDING,
        conversation__status__in=[Conversation.Status.QUEUED, Conversation.Status.RUNNING],
    ):
        Step.objects.filter(pk=step.pk).update(enqueued_at=now)
        step_enqueue(step)
        sent += 1
    return sent
