"""Re-run one hop of a run with another specialist, as a new run that keeps the original."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from orchestration.models import Conversation, Message, Specialist, Thread, ToolCall
from orchestration.services.journal import seq_next
from orchestration.services.run_state import ARBITER_THREAD
from orchestration.services.runs import RunError, conversation_start
from orchestration.services.steps import conversation_status_set, step_create

_CONSULT = re.compile(r"^consult_([a-z][a-z0-9_]*)_specialist$")
_STEP_OF_KEY = re.compile(r"^s(\d+):")


@transaction.atomic
def conversation_fork(
    *,
    conversation: Conversation,
    tool_call: ToolCall,
    specialist: str,
    user: AbstractBaseUser | None,
) -> Conversation:
    """A new run that repeats ``conversation`` up to the arbiter's reply that made
    ``tool_call`` (a specialist consult), then asks ``specialist`` instead and goes on from there.

    Raises ``RunError`` when the call is not a consult of this run, or the specialist is unknown,
    disabled, the arbiter, or the one already consulted.
    """
    match = _CONSULT.match(tool_call.name)
    if tool_call.conversation_id != conversation.pk or match is None or tool_call.message is None:
        raise RunError("Only a specialist consult of this run can be re-run.")
    if specialist == match.group(1):
        raise RunError(f"The {specialist} specialist already answered this; choose another.")
    if (
        specialist == Specialist.ARBITER
        or not Specialist.objects.filter(role=specialist, enabled=True).exists()
    ):
        raise RunError(f"There is no specialist {specialist!r} to ask.")
    hop = tool_call.message
    hop_step = hop.step.number if hop.step_id else _step_of(hop.journal_key)
    fork = conversation_start(
        task=conversation.task,
        user=user,
        mode=conversation.mode,
        allowed_specialists=list(conversation.allowed_specialists or ()),
        budgets={
            "max_steps": conversation.max_steps,
            "max_tool_calls": conversation.max_tool_calls,
            "max_tokens": conversation.max_tokens,
            "max_wall_seconds": conversation.max_wall_seconds,
            "max_models": conversation.max_models,
        },
        forked_from=conversation,
        first_step=False,
    )
    fork = Conversation.objects.select_for_update().get(pk=fork.pk)
    fork.classification = conversation.classification
    fork.routing_decision = conversation.routing_decision
    fork.phase = conversation.phase
    fork.policy = conversation.policy
    fork.save(update_fields=["classification", "routing_decision", "phase", "policy"])
    thread = Thread.objects.get(conversation=fork, key=ARBITER_THREAD)
    _copy_arbiter_thread(conversation, fork, thread, hop, tool_call)
    step_create(
        conversation=fork,
        kind="tool",
        payload={"tool_call_key": tool_call.journal_key, "arguments": tool_call.arguments},
        after_number=hop_step,
    )
    conversation_status_set(
        fork,
        Conversation.Status.QUEUED,
        reason=f"Fork of run {conversation.pk}: {tool_call.name} re-run with {specialist}.",
    )
    ToolCall.objects.filter(conversation=fork, journal_key=tool_call.journal_key).update(
        name=f"consult_{specialist}_specialist"
    )
    return fork


def _copy_arbiter_thread(
    source: Conversation, fork: Conversation, thread: Thread, hop: Message, tool_call: ToolCall
) -> None:
    """Copy the arbiter's thread up to the hop, with the results of the hop's other calls."""
    siblings = ToolCall.objects.filter(message=hop).exclude(pk=tool_call.pk)
    sibling_ids = set(siblings.values_list("call_id", flat=True))
    rows = Message.objects.filter(conversation=source, thread__key=ARBITER_THREAD).exclude(
        journal_key="task"
    )
    copied: dict[int, Message] = {}
    for row in rows.order_by("seq"):
        if row.seq > hop.seq and row.tool_call_id not in sibling_ids:
            continue
        original_pk = row.pk
        row.pk = None
        row.conversation = fork
        row.thread = thread
        row.step = None
        row.seq = seq_next(fork.pk)
        row.save()
        copied[original_pk] = row
    for call in ToolCall.objects.filter(message_id__in=copied).order_by("id"):
        is_hop = call.pk == tool_call.pk
        call.pk = None
        call.conversation = fork
        call.message = copied[call.message_id]
        call.seq = seq_next(fork.pk)
        if is_hop:
            call.status = ToolCall.Status.PROPOSED
            call.result = ""
            call.error = ""
        call.save()


def _step_of(key: str) -> int:
    match = _STEP_OF_KEY.match(key)
    return int(match.group(1)) if match else 0
