"""Build the engine's ``RunState`` for a step from the rows."""

from __future__ import annotations

from django.utils import timezone

from orchestration.engine.state import (
    Budgets,
    Counters,
    Policy,
    RuleInfo,
    RunState,
    SpecialistInfo,
)
from orchestration.engine.types import ChatMessage, ToolCallPart
from orchestration.models import (
    Conversation,
    Message,
    PromptTemplateVersion,
    RoutingRule,
    Specialist,
    Step,
    ToolCall,
)

ARBITER_THREAD = "arbiter"
RECENT_FAILURES = 3


def specialist_info(spec: Specialist) -> SpecialistInfo:
    return SpecialistInfo(
        role=spec.role,
        model=spec.model,
        server=spec.server.name,
        server_kind=spec.server.kind,
        context_window=spec.context_window or _server_context(spec),
        options=dict(spec.options),
        description=spec.description,
        persona=spec.persona,
        requires_approval=spec.requires_approval,
    )


def _server_context(spec: Specialist) -> int | None:
    # Learned by the health poller from /api/show; pinned as num_ctx so the server never
    # silently picks its own default.
    value = (spec.server.context_lengths or {}).get(spec.model)
    return int(value) if isinstance(value, int) and value > 0 else None


def run_state_load(step: Step) -> RunState:
    conversation: Conversation = step.conversation
    specialists = {
        spec.role: specialist_info(spec)
        for spec in Specialist.objects.filter(enabled=True).select_related("server")
    }
    elapsed = 0.0
    if conversation.started_at:
        elapsed = (timezone.now() - conversation.started_at).total_seconds()
    policy = conversation.policy or {}
    return RunState(
        conversation_id=conversation.pk,
        task=conversation.task,
        step_number=step.number,
        mode=conversation.mode,
        phase=conversation.phase,
        phases=tuple(conversation.phases),
        specialists=specialists,
        allowed_specialists=tuple(conversation.allowed_specialists or ()),
        rules=tuple(
            RuleInfo(
                order=rule.order,
                condition=rule.condition,
                specialist=rule.specialist.role,
                binding=rule.binding,
                requires_approval=rule.requires_approval,
            )
            for rule in RoutingRule.objects.filter(enabled=True).select_related("specialist")
        ),
        templates=dict(
            PromptTemplateVersion.objects.filter(is_active=True).values_list(
                "template__key", "body"
            )
        ),
        policy=Policy(
            max_models_per_conversation=conversation.max_models,
            include_full_history=bool(policy.get("include_full_history", False)),
            allow_model_to_model=bool(policy.get("allow_model_to_model", True)),
            arbiter_reviews_all=bool(policy.get("arbiter_reviews_all", True)),
        ),
        budgets=Budgets(
            max_steps=conversation.max_steps,
            max_tool_calls=conversation.max_tool_calls,
            max_tokens=conversation.max_tokens,
            max_wall_seconds=conversation.max_wall_seconds,
        ),
        counters=Counters(
            steps_used=conversation.steps_used,
            tool_calls_used=conversation.tool_calls_used,
            tokens_used=conversation.tokens_used,
            elapsed_seconds=elapsed,
        ),
        classification=conversation.classification,
        routing_decision=conversation.routing_decision,
        arbiter_history=arbiter_history(conversation, before_step=step),
        recent_failures=_recent_failures(conversation),
        participants=tuple(
            sorted(set(conversation.threads.values_list("participant", flat=True)) - {"operator"})
        ),
    )


def arbiter_history(
    conversation: Conversation, *, before_step: Step | None = None
) -> tuple[ChatMessage, ...]:
    """The arbiter's thread as the model should see it: task, its calls (as repaired), results.

    A step sees only what was recorded before it: when it runs again after a crash, its own
    earlier writes are found through the journal, not in the history.
    """
    rows = Message.objects.filter(conversation=conversation, thread__key=ARBITER_THREAD).exclude(
        role=Message.Role.SYSTEM
    )
    if before_step is not None:
        rows = rows.exclude(step=before_step)
    rows = list(rows.order_by("seq"))
    calls_by_message: dict[int, list[ToolCallPart]] = {}
    names: dict[str, str] = {}
    for call in ToolCall.objects.filter(message__in=rows).order_by("id"):
        calls_by_message.setdefault(call.message_id, []).append(
            ToolCallPart(id=call.call_id, name=call.name, arguments=call.arguments)
        )
        names[call.call_id] = call.name
    history = []
    for row in rows:
        if row.role == Message.Role.ASSISTANT and row.pk in calls_by_message:
            # Assistant turns that carry calls are echoed with empty content (see the Ollama
            # reference §2.2: qwen's template drops the calls when content is non-empty).
            history.append(
                ChatMessage(
                    role="assistant", content="", tool_calls=tuple(calls_by_message[row.pk])
                )
            )
        elif row.role == Message.Role.TOOL:
            history.append(
                ChatMessage(
                    role="tool",
                    content=row.content,
                    tool_call_id=row.tool_call_id or None,
                    tool_name=names.get(row.tool_call_id),
                )
            )
        else:
            history.append(ChatMessage(role=row.role, content=row.content))
    return tuple(history)


def _recent_failures(conversation: Conversation) -> tuple[str, ...]:
    failed = (
        ToolCall.objects.filter(
            conversation=conversation,
            status__in=[ToolCall.Status.INVALID, ToolCall.Status.FAILED],
        )
        .order_by("-id")
        .values_list("name", "error")[:RECENT_FAILURES]
    )
    return tuple(f"{name}: {error}" for name, error in failed)
