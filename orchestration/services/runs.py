"""Starting, cancelling and answering runs. Views, the CLI and tasks call these."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from orchestration.models import (
    Conversation,
    ConversationDefaults,
    Escalation,
    Message,
    Specialist,
    Step,
    Thread,
    ToolCall,
)
from orchestration.services.events import event_publish
from orchestration.services.journal import seq_next
from orchestration.services.run_state import ARBITER_THREAD
from orchestration.services.steps import conversation_continue, conversation_status_set, step_create

MAX_TASK_LENGTH = 20_000
BUDGET_LIMITS = {
    "max_steps": 10_000,
    "max_tool_calls": 100_000,
    "max_tokens": 100_000_000,
    "max_wall_seconds": 7 * 86400,
    "max_models": 64,
}


class RunError(Exception):
    """A request about a run that cannot be carried out; the message says why."""


def _user_name(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else "automation"


@transaction.atomic
def conversation_start(
    *,
    task: str,
    user: AbstractBaseUser | None = None,
    mode: str = Conversation.Mode.ARBITER_MEDIATED,
    allowed_specialists: list[str] | tuple[str, ...] = (),
    budgets: dict[str, int] | None = None,
    forked_from: Conversation | None = None,
    first_step: bool = True,
) -> Conversation:
    """Create the run with the task as its first message and enqueue its first step on commit.

    Raises ``RunError`` for an empty or oversized task, an unknown mode or specialist, a budget
    out of range, or when no arbiter is configured.
    """
    task = (task or "").strip()
    if not task:
        raise RunError("The task is empty.")
    if len(task) > MAX_TASK_LENGTH:
        raise RunError(f"The task is longer than {MAX_TASK_LENGTH} characters.")
    if mode not in Conversation.Mode.values:
        raise RunError(f"Unknown mode {mode!r}.")
    if not Specialist.objects.filter(role=Specialist.ARBITER, enabled=True).exists():
        raise RunError("No arbiter is configured: load a configuration first (mmos_config load).")
    known = set(Specialist.objects.filter(enabled=True).values_list("role", flat=True))
    unknown = sorted(set(allowed_specialists) - known)
    if unknown:
        raise RunError(f"Unknown specialists: {', '.join(unknown)}.")
    defaults = ConversationDefaults.load()
    limits = {
        "max_steps": defaults.max_steps,
        "max_tool_calls": defaults.max_tool_calls,
        "max_tokens": defaults.max_tokens,
        "max_wall_seconds": defaults.max_wall_seconds,
        "max_models": defaults.max_models_per_conversation,
    }
    for name, value in (budgets or {}).items():
        if name not in BUDGET_LIMITS:
            raise RunError(f"Unknown budget {name!r}.")
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1 <= value <= BUDGET_LIMITS[name]
        ):
            raise RunError(f"{name} must be a whole number from 1 to {BUDGET_LIMITS[name]}.")
        limits[name] = value
    conversation = Conversation.objects.create(
        task=task,
        mode=mode,
        phases=list(defaults.phases),
        phase=defaults.phases[0],
        allowed_specialists=sorted(set(allowed_specialists)),
        policy={
            "include_full_history": defaults.include_full_history,
            "allow_model_to_model": defaults.allow_model_to_model,
            "arbiter_reviews_all": defaults.arbiter_reviews_all,
        },
        created_by=user if user is not None and user.is_authenticated else None,
        forked_from=forked_from,
        **limits,
    )
    thread = Thread.objects.create(
        conversation=conversation, key=ARBITER_THREAD, participant="arbiter"
    )
    seq = seq_next(conversation.pk)
    Message.objects.create(
        conversation=conversation,
        thread=thread,
        seq=seq,
        journal_key="task",
        sender="operator",
        recipient="arbiter",
        role=Message.Role.USER,
        content=task,
    )
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    conversation_status_set(conversation, Conversation.Status.QUEUED)
    if first_step:
        step_create(conversation=conversation, kind="classify")
    event_publish(conversation_id=conversation.pk, type="message.created", seq=seq, runs_list=True)
    return conversation


@transaction.atomic
def conversation_cancel(*, conversation: Conversation, user: AbstractBaseUser | None) -> bool:
    """Cancel a run that has not ended. Returns ``False`` if it had already ended. A worker in
    the middle of a step notices at its next write or lease renewal and stops."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.is_terminal:
        return False
    conversation.steps.filter(status=Step.Status.PENDING).update(
        status=Step.Status.CANCELLED, finished_at=timezone.now()
    )
    for escalation in conversation.escalations.filter(status=Escalation.Status.OPEN):
        _escalation_close(escalation, Escalation.Status.CANCELLED, user=user, answer="")
    conversation_status_set(
        conversation, Conversation.Status.CANCELLED, reason=f"Cancelled by {_user_name(user)}."
    )
    return True


def _escalation_close(
    escalation: Escalation,
    status: str,
    *,
    user: AbstractBaseUser | None,
    answer: str,
    arguments=None,
) -> bool:
    """Close an open escalation once. ``False`` when it was already closed (duplicate answer)."""
    seq = seq_next(escalation.conversation_id)
    closed = Escalation.objects.filter(pk=escalation.pk, status=Escalation.Status.OPEN).update(
        status=status,
        answer=answer,
        edited_arguments=arguments,
        answered_by=user if user is not None and user.is_authenticated else None,
        answered_at=timezone.now(),
        seq=seq,
    )
    if closed:
        event_publish(
            conversation_id=escalation.conversation_id,
            type="escalation.closed",
            seq=seq,
            escalation_id=escalation.pk,
        )
    return bool(closed)


def _tool_result_record(
    conversation: Conversation, tool_call: ToolCall, *, content: str, status: str, sender: str
) -> None:
    """The answer to a waiting call, as the tool result the arbiter reads next."""
    seq = seq_next(conversation.pk)
    thread = Thread.objects.get(conversation=conversation, key=ARBITER_THREAD)
    Message.objects.create(
        conversation=conversation,
        thread=thread,
        seq=seq,
        journal_key=f"{tool_call.journal_key}:result",
        sender=sender,
        recipient="arbiter",
        role=Message.Role.TOOL,
        content=content,
        tool_call_id=tool_call.call_id,
    )
    event_publish(conversation_id=conversation.pk, type="message.created", seq=seq)
    tool_seq = seq_next(conversation.pk)
    ToolCall.objects.filter(pk=tool_call.pk).update(status=status, result=content, seq=tool_seq)
    event_publish(
        conversation_id=conversation.pk,
        type="tool_call.updated",
        seq=tool_seq,
        tool_call_id=tool_call.pk,
    )


def _locked_open(escalation: Escalation, kind: str) -> tuple[Conversation, Escalation]:
    conversation = Conversation.objects.select_for_update().get(pk=escalation.conversation_id)
    escalation = Escalation.objects.select_related("tool_call").get(pk=escalation.pk)
    if escalation.kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        raise RunError(f"This is a {escalation.get_kind_display().lower()}, not {article} {kind}.")
    if escalation.status != Escalation.Status.OPEN:
        raise RunError("This was already answered.")
    if conversation.is_terminal:
        raise RunError(f"The run has ended ({conversation.get_status_display().lower()}).")
    return conversation, escalation


@transaction.atomic
def escalation_answer(
    *, escalation: Escalation, text: str, user: AbstractBaseUser | None
) -> Escalation:
    """Answer a question once; the answer becomes the tool result and the run goes on.

    Raises ``RunError`` for an empty answer, a second answer, or a run that has ended.
    """
    text = (text or "").strip()
    if not text:
        raise RunError("The answer is empty.")
    conversation, escalation = _locked_open(escalation, Escalation.Kind.QUESTION)
    if not _escalation_close(escalation, Escalation.Status.ANSWERED, user=user, answer=text):
        raise RunError("This was already answered.")
    if escalation.tool_call is not None:
        _tool_result_record(
            conversation,
            escalation.tool_call,
            content=json.dumps({"tool": "escalate_to_user", "success": True, "answer": text}),
            status=ToolCall.Status.SUCCEEDED,
            sender="operator",
        )
    conversation_continue(conversation)
    escalation.refresh_from_db()
    return escalation


APPROVAL_DECISIONS = ("approve", "reject", "edit")


@transaction.atomic
def approval_decide(
    *,
    escalation: Escalation,
    decision: str,
    user: AbstractBaseUser | None,
    reason: str = "",
    arguments: dict[str, Any] | None = None,
) -> Escalation:
    """Approve, reject (with a reason) or edit-and-run a call that waits for approval, once."""
    if decision not in APPROVAL_DECISIONS:
        raise RunError(f"Unknown decision {decision!r}.")
    if decision == "reject" and not reason.strip():
        raise RunError("Say why the call is rejected: the arbiter reads the reason.")
    if decision == "edit" and not isinstance(arguments, dict):
        raise RunError("Edited arguments must be a JSON object.")
    conversation, escalation = _locked_open(escalation, Escalation.Kind.APPROVAL)
    tool_call = escalation.tool_call
    if tool_call is None:
        raise RunError("This approval is not attached to a tool call.")
    status = {
        "approve": Escalation.Status.APPROVED,
        "reject": Escalation.Status.REJECTED,
        "edit": Escalation.Status.EDITED,
    }[decision]
    if not _escalation_close(
        escalation,
        status,
        user=user,
        answer=reason.strip(),
        arguments=arguments if decision == "edit" else None,
    ):
        raise RunError("This was already answered.")
    if decision == "reject":
        _tool_result_record(
            conversation,
            tool_call,
            content=json.dumps(
                {"tool": tool_call.name, "success": False, "rejected_by_operator": reason.strip()}
            ),
            status=ToolCall.Status.REJECTED,
            sender="operator",
        )
        conversation_continue(conversation)
    else:
        if conversation.status != Conversation.Status.RUNNING:
            conversation_status_set(conversation, Conversation.Status.RUNNING)
        step_create(
            conversation=conversation,
            kind="tool",
            payload={
                "tool_call_key": tool_call.journal_key,
                "arguments": arguments if decision == "edit" else tool_call.arguments,
            },
        )
    escalation.refresh_from_db()
    return escalation
