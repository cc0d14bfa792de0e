"""One arbiter turn: prompt, streamed reply (recorded first), cascade, then its tool calls."""

from __future__ import annotations

import json
from collections.abc import Sequence

from orchestration.engine import keys, limits
from orchestration.engine.builder import arbiter_system_prompt
from orchestration.engine.cascade import CascadeOutcome, RepairedCall, run_cascade
from orchestration.engine.dispatch import finished, next_move, run_calls
from orchestration.engine.execute import record_result, record_status
from orchestration.engine.modelcall import StepContext, ensure_message, model_turn
from orchestration.engine.ports import MessageRecord, StepOutcome
from orchestration.engine.repair import FoundCall
from orchestration.engine.tools import ARBITER, arbiter_tools
from orchestration.engine.types import ChatMessage, ToolCallPart

THREAD = "arbiter"


async def arbiter_step(ctx: StepContext) -> StepOutcome:
    hit = limits.limit_before_step(ctx.state, ctx.elapsed_seconds())
    if hit is not None:
        return finished(hit.status, hit.reason)
    tools = arbiter_tools(ctx.state)
    system = arbiter_system_prompt(ctx, tools)
    # Recorded once per distinct text: the inspector shows the prompt whenever it changes.
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=keys.arbiter_system(system),
            thread_key=THREAD,
            participant=ARBITER,
            sender="engine",
            recipient=ARBITER,
            role="system",
            content=system,
        ),
    )
    prompt = [ChatMessage("system", system), *ctx.state.arbiter_history]
    turn = await model_turn(
        ctx,
        role=ARBITER,
        key=keys.arbiter_reply(ctx.n),
        thread_key=THREAD,
        messages=prompt,
        tools=tools,
        recipient="engine",
    )
    outcome = await run_cascade(ctx, turn, tools, prompt)
    if outcome.answer is not None and not outcome.calls:
        reason = "the arbiter answered in prose without calling final_answer"
        if turn.done_reason == "length":
            reason += " (its answer was cut off at the length limit)"
        return finished("completed", reason, outcome.answer)
    return await _carry_out(ctx, outcome, turn.key)


def _with_ids(ctx: StepContext, calls: Sequence[RepairedCall]) -> list[RepairedCall]:
    """Calls with unique ids: the model's own, else deterministic ``s<n>c<i>``."""
    seen: set[str] = set()
    result = []
    for index, repaired in enumerate(calls):
        call = repaired.call
        call_id = (
            call.id if call.id and call.id not in seen else keys.generated_call_id(ctx.n, index)
        )
        seen.add(call_id)
        result.append(
            RepairedCall(ToolCallPart(call_id, call.name, dict(call.arguments)), repaired.repairs)
        )
    return result


async def _carry_out(ctx: StepContext, outcome: CascadeOutcome, reply_key: str) -> StepOutcome:
    await _record_unresolved(ctx, outcome, reply_key)
    if outcome.feedback:
        text = ctx.template(
            "arbiter.feedback",
            {"problem": _problem(outcome), "advice": outcome.feedback},
            role=ARBITER,
        )
        await ensure_message(
            ctx.journal,
            MessageRecord(
                key=keys.arbiter_feedback(ctx.n),
                thread_key=THREAD,
                participant=ARBITER,
                sender="engine",
                recipient=ARBITER,
                role="user",
                content=text,
            ),
        )
    calls = _with_ids(ctx, outcome.calls)
    results = await run_calls(ctx, calls, reply_key)
    return next_move(results)


def _problem(outcome: CascadeOutcome) -> str:
    errors = [e for found, _ in outcome.unresolved if found for e in found.errors]
    return "; ".join(errors) or "no usable tool call was found in it"


async def _record_unresolved(ctx: StepContext, outcome: CascadeOutcome, reply_key: str) -> None:
    """Calls no stage could repair: recorded as invalid, with an error result the arbiter
    reads (naming the valid tools), so it can correct itself."""
    for index, (found, repairs) in enumerate(outcome.unresolved):
        if found is None:
            continue
        call = _invalid_part(ctx, found, index)
        key = keys.call_key(ctx.n, call.id)
        existing = await ctx.journal.tool_call_lookup(key)
        content = json.dumps(
            {"tool": found.name, "success": False, "error": "; ".join(found.errors)}
        )
        if existing is None or existing.status != "invalid":
            await record_status(
                ctx,
                key,
                call,
                "invalid",
                message_key=reply_key,
                repairs=repairs,
                result=content,
                error="; ".join(found.errors),
            )
        await record_result(ctx, key, call, content, sender="engine")


def _invalid_part(ctx: StepContext, found: FoundCall, index: int) -> ToolCallPart:
    arguments = (
        found.arguments if isinstance(found.arguments, dict) else {"_raw": str(found.arguments)}
    )
    call_id = found.id or keys.generated_call_id(ctx.n, 100 + index)
    return ToolCallPart(call_id, found.name or "(no name)", arguments)
