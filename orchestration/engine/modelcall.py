"""One model call, recorded: look the reply up first, fit the prompt, stream, record, count.

Every model call of the engine goes through ``model_turn``. Before calling, it looks the reply's
journal key up: a step that runs again after a crash reuses the recorded reply and never calls
the model twice. The reply is recorded as a message before anything else happens with it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.engine.errors import StreamTruncated
from orchestration.engine.ports import MessageRecord, ModelDirectory, RecordedMessage, RunJournal
from orchestration.engine.prompts import (
    estimate_tokens,
    output_reserve,
    plan_split,
    render_template,
    truncation_suspected,
)
from orchestration.engine.repair import RepairResult, repair_reply
from orchestration.engine.state import RunState, SpecialistInfo
from orchestration.engine.types import (
    ChatMessage,
    ModelOptions,
    ModelReply,
    ModelRequest,
    ReplyDone,
    TextDelta,
    ToolCallPart,
    ToolSpec,
)

_OPTION_NAMES = ("temperature", "top_p", "seed", "num_predict")
NOTES_ALLOWANCE = 256  # tokens kept for the notes carried from one part of a split to the next


@dataclass
class StepContext:
    """What every part of a step needs: the state, the ports and when the step began."""

    state: RunState
    journal: RunJournal
    models: ModelDirectory
    started: float = field(default_factory=time.monotonic)

    @property
    def n(self) -> int:
        return self.state.step_number

    def template(self, key: str, sections: dict[str, Any], *, role: str = "") -> str:
        model = self.state.specialists[role].model if role in self.state.specialists else ""
        return render_template(
            self.state.templates, key, sections, phase=self.state.phase, model=model
        )

    def elapsed_seconds(self) -> float:
        return self.state.counters.elapsed_seconds + (time.monotonic() - self.started)


@dataclass(frozen=True)
class Turn:
    """A model's reply as the engine uses it, whether just made or found in the journal."""

    key: str
    message: ChatMessage
    model: str
    done_reason: str
    seq: int
    reused: bool

    @property
    def content(self) -> str:
        return self.message.content


def call_dicts(calls: Sequence[ToolCallPart]) -> tuple[dict[str, Any], ...]:
    return tuple({"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls)


def turn_from_record(recorded: RecordedMessage, *, reused: bool) -> Turn:
    record = recorded.record
    calls = tuple(
        ToolCallPart(
            id=str(call.get("id", "")),
            name=str(call.get("name", "")),
            arguments=call.get("arguments") if isinstance(call.get("arguments"), dict) else {},
        )
        for call in record.tool_calls
    )
    message = ChatMessage("assistant", record.content, calls)
    return Turn(record.key, message, record.model, record.done_reason, recorded.seq, reused)


async def ensure_message(journal: RunJournal, record: MessageRecord) -> RecordedMessage:
    """Record ``record`` unless its key is already recorded; either way return the stored one."""
    found = await journal.message_lookup(record.key)
    return found if found is not None else await journal.message_record(record)


def model_options(info: SpecialistInfo) -> ModelOptions:
    chosen = {name: info.options[name] for name in _OPTION_NAMES if name in info.options}
    return ModelOptions(num_ctx=info.context_window, **chosen)


async def model_turn(
    ctx: StepContext,
    *,
    role: str,
    key: str,
    thread_key: str,
    messages: Sequence[ChatMessage],
    tools: Sequence[ToolSpec] = (),
    response_format: dict[str, Any] | None = None,
    recipient: str = "",
    participant: str = "",
    thread_label: str = "",
    parent_thread_key: str = "",
    allow_split: bool = True,
) -> Turn:
    """The reply of ``role``'s model to ``messages``, recorded under ``key``.

    Raises ``ModelError`` when the call fails (nothing is recorded then).
    """
    found = await ctx.journal.message_lookup(key)
    if found is not None:
        return turn_from_record(found, reused=True)
    info = ctx.models.specialist(role)
    where = {
        "thread_key": thread_key,
        "participant": participant or role,
        "thread_label": thread_label,
        "parent_thread_key": parent_thread_key,
    }
    if allow_split and info.context_window:
        messages = await _fit(ctx, info, key, messages, tools, where)
    request = ModelRequest(
        model=info.model,
        messages=tuple(messages),
        tools=tuple(tools),
        response_format=response_format,
        options=model_options(info),
    )
    estimated = estimate_tokens(messages, tools)
    reply = await _stream(ctx, role, key, where["participant"], request)
    suspected = truncation_suspected(estimated, reply.usage.prompt_tokens, info.context_window)
    recorded = await ctx.journal.message_record(
        MessageRecord(
            key=key,
            sender=role,
            recipient=recipient,
            role="assistant",
            content=reply.message.content,
            tool_calls=call_dicts(reply.message.tool_calls),
            model=reply.model or info.model,
            server=reply.server,
            done_reason=reply.done_reason,
            usage=reply.usage,
            timing=reply.timing,
            attempts=reply.attempts,
            estimated_prompt_tokens=estimated,
            truncation_suspected=suspected,
            **where,
        )
    )
    if reply.usage.total_tokens:
        await ctx.journal.conversation_update(tokens_used=reply.usage.total_tokens)
    return turn_from_record(recorded, reused=False)


async def _stream(
    ctx: StepContext, role: str, key: str, participant: str, request: ModelRequest
) -> ModelReply:
    client = ctx.models.client_for(role)
    reply: ModelReply | None = None
    async for event in client.chat_stream(request):
        if isinstance(event, TextDelta):
            if event.text:
                await ctx.journal.stream_delta(key, participant, event.text)
        elif isinstance(event, ReplyDone):
            reply = event.reply
    if reply is None:
        raise StreamTruncated("the stream ended without a final reply")
    return reply


async def _fit(
    ctx: StepContext,
    info: SpecialistInfo,
    key: str,
    messages: Sequence[ChatMessage],
    tools: Sequence[ToolSpec],
    where: dict[str, str],
) -> list[ChatMessage]:
    """``messages`` made to fit the context window: an over-long user or tool message is sent in
    consecutive parts, each answered with notes that the next part builds on."""
    window = info.context_window or 0
    budget = window - output_reserve(window, info.options.get("num_predict"))
    split = plan_split(messages, tools, budget, notes_allowance=NOTES_ALLOWANCE)
    if split is None:
        return list(messages)
    before = list(messages[: split.index])
    count = len(split.pieces)
    notes = ""
    for number, piece in enumerate(split.pieces[:-1], start=1):
        shown_notes = f"Your notes so far:\n{notes}" if notes else ""
        text = ctx.template(
            "context.part",
            {"count": count, "number": number, "piece": piece, "notes": shown_notes},
        )
        part_key = f"{key}:part{number}"
        await ensure_message(
            ctx.journal,
            MessageRecord(
                key=f"{part_key}:prompt",
                sender="engine",
                recipient=info.role,
                role="user",
                content=text,
                **where,
            ),
        )
        turn = await model_turn(
            ctx,
            role=info.role,
            key=part_key,
            messages=[*before, ChatMessage("user", text)],
            recipient="engine",
            allow_split=False,
            **where,
        )
        notes = f"{notes}\n{turn.content}".strip()
    final = ctx.template(
        "context.final",
        {"count": count, "previous": count - 1, "notes": notes, "piece": split.pieces[-1]},
    )
    original = messages[split.index]
    replaced = ChatMessage(
        original.role, final, tool_call_id=original.tool_call_id, tool_name=original.tool_name
    )
    return [*before, replaced, *messages[split.index + 1 :]]


async def tool_turn(
    ctx: StepContext,
    *,
    role: str,
    key: str,
    system: str,
    prompt: str,
    tools: Sequence[ToolSpec],
    where: dict[str, str],
) -> tuple[Turn, RepairResult]:
    """One engine-to-model question with tools (interpreter, diagnosis): record the prompt, ask,
    and run the reply through the deterministic repair stages (its output is untrusted too)."""
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{key}:prompt", sender="engine", recipient=role, role="user", content=prompt,
            **where,
        ),
    )  # fmt: skip
    turn = await model_turn(
        ctx,
        role=role,
        key=key,
        messages=[ChatMessage("system", system), ChatMessage("user", prompt)],
        tools=tools,
        recipient="engine",
        **where,
    )
    return turn, repair_reply(message=turn.message, tools=tools, done_reason=turn.done_reason)
