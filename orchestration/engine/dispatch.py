"""Running the calls of one arbiter reply: gates, approvals and escalations, concurrent
execution of independent calls, results recorded in call order, and the step's next move.
Also the ``tool`` step, which runs one call an operator approved or edited."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from orchestration.engine import keys
from orchestration.engine.cascade import RepairedCall
from orchestration.engine.execute import (
    DONE,
    CallOutcome,
    Gate,
    ReplyPlan,
    approved_call_check,
    binding_gate,
    consulted_roles,
    gate,
    open_approval,
    open_question,
    outcome_from_record,
    record_result,
    record_status,
    run_tool,
)
from orchestration.engine.modelcall import StepContext
from orchestration.engine.ports import StepOutcome
from orchestration.engine.tools import (
    DECIDE_PHASE,
    ESCALATE,
    FINAL_ANSWER,
    START_CONVERSATION,
    consult_role,
)
from orchestration.engine.types import ToolCallPart


def finished(status: str, reason: str, final_answer: str = "") -> StepOutcome:
    return StepOutcome(next="finished", status=status, reason=reason, final_answer=final_answer)


@dataclass(frozen=True)
class _Runnable:
    index: int
    call: ToolCallPart
    key: str
    gate: Gate
    repairs: tuple[dict[str, Any], ...]


async def run_calls(
    ctx: StepContext, calls: list[RepairedCall], reply_key: str
) -> list[CallOutcome]:
    plan = ReplyPlan(
        consulted=consulted_roles(ctx), has_final=any(c.call.name == FINAL_ANSWER for c in calls)
    )
    outcomes: list[CallOutcome | None] = []
    runnable: list[_Runnable] = []
    made = 0
    for repaired in calls:
        call, key = repaired.call, keys.call_key(ctx.n, repaired.call.id)
        existing = await ctx.journal.tool_call_lookup(key)
        if existing is not None and _settled(existing.status, call.name):
            if existing.status in DONE:
                await record_result(ctx, key, call, existing.result, sender="engine")
            outcomes.append(outcome_from_record(call, existing.status, existing.result))
            plan.earlier.append(call)
            continue
        if existing is None:
            made += 1
            await record_status(
                ctx, key, call, "proposed", message_key=reply_key, repairs=repaired.repairs
            )
        if existing is not None and existing.status == "running":
            # Its gates passed before the step was interrupted; only the route is re-derived.
            role = consult_role(call.name) or ""
            decided = binding_gate(ctx, call, plan.consulted, role) if role else Gate()
        else:
            decided = gate(ctx, call, plan, made - 1)
        plan.earlier.append(call)
        pending = _Runnable(len(outcomes), call, key, decided, _trail(repaired, decided))
        outcome = await _gated(ctx, pending, plan, reply_key)
        outcomes.append(outcome)
        if outcome is None:
            runnable.append(pending)
    # Phase decisions first (they change what the others' prompts say), then the rest at once.
    for item in [r for r in runnable if r.call.name == DECIDE_PHASE]:
        outcomes[item.index] = await _finish(
            ctx, item, reply_key, await _execute(ctx, item, reply_key)
        )
    others = [r for r in runnable if r.call.name != DECIDE_PHASE]
    results = await asyncio.gather(*(_execute(ctx, item, reply_key) for item in others))
    for item, result in zip(others, results, strict=True):
        # Results are recorded in call order: chat templates pair them with the calls.
        outcomes[item.index] = await _finish(ctx, item, reply_key, result)
    return [outcome for outcome in outcomes if outcome is not None]


def _trail(repaired: RepairedCall, decided: Gate) -> tuple[dict[str, Any], ...]:
    if not decided.redirect:
        return repaired.repairs
    redirect = decided.redirect
    return (
        *repaired.repairs,
        {
            "stage": "binding",
            "before": redirect["from"],
            "after": redirect["to"],
            "note": redirect["rule"],
            "call": None,
        },
    )


def _settled(status: str, name: str) -> bool:
    return (
        status in DONE
        or status == "awaiting_approval"
        or (name == ESCALATE and status == "running")
    )


async def _gated(
    ctx: StepContext, item: _Runnable, plan: ReplyPlan, reply_key: str
) -> CallOutcome | None:
    """Carry out what the gates decided; ``None`` when the call is to run."""
    call, key, decided = item.call, item.key, item.gate
    if decided.refuse:
        refusal: dict[str, Any] = {"tool": call.name, "success": False, "error": decided.refuse}
        if decided.stop is not None:  # kept in the result so a re-run ends the run the same way
            refusal["ends_run"] = {"status": decided.stop.status, "reason": decided.stop.reason}
        content = json.dumps(refusal)
        await record_result(ctx, key, call, content, sender="engine")
        await record_status(
            ctx,
            key,
            call,
            "rejected",
            message_key=reply_key,
            repairs=item.repairs,
            result=content,
            error=decided.refuse,
        )
        return CallOutcome(call, "rejected", content, stop=decided.stop)
    if decided.approval:
        await record_status(
            ctx, key, call, "awaiting_approval", message_key=reply_key, repairs=item.repairs
        )
        await open_approval(ctx, key, call, decided.approval)
        return CallOutcome(call, "awaiting_approval", wait="approval")
    if call.name == ESCALATE:
        await record_status(ctx, key, call, "running", message_key=reply_key, repairs=item.repairs)
        await open_question(ctx, key, call)
        return CallOutcome(call, "running", wait="user")
    if decided.role:
        plan.consulted.add(decided.role)
    if call.name == START_CONVERSATION:
        plan.consulted.update(str(r) for r in call.arguments.get("participants") or [])
    return None


async def _execute(ctx: StepContext, item: _Runnable, reply_key: str) -> dict[str, Any]:
    await record_status(
        ctx, item.key, item.call, "running", message_key=reply_key, repairs=item.repairs
    )
    result = await run_tool(ctx, item.call, item.key, item.gate.role)
    if item.gate.redirect:
        result["redirected"] = item.gate.redirect
    return result


async def _finish(
    ctx: StepContext, item: _Runnable, reply_key: str, result: dict[str, Any]
) -> CallOutcome:
    content = json.dumps(result, ensure_ascii=False)
    status = "succeeded" if result.get("success") else "failed"
    await record_result(ctx, item.key, item.call, content, sender=item.gate.role or "engine")
    await record_status(
        ctx,
        item.key,
        item.call,
        status,
        message_key=reply_key,
        repairs=item.repairs,
        result=content,
        error=str(result.get("error", "")),
    )
    outcome = CallOutcome(item.call, status, content)
    if item.call.name == FINAL_ANSWER:
        outcome.final_answer = str(item.call.arguments.get("answer", ""))
    return outcome


async def run_approved(ctx: StepContext, payload: dict[str, Any]) -> StepOutcome:
    """The ``tool`` step: run one call an operator approved (or edited), then the arbiter."""
    key = str(payload.get("tool_call_key", ""))
    record = await ctx.journal.tool_call_lookup(key)
    if record is None:
        return finished("failed", f"the approved tool call {key!r} is not recorded")
    arguments = payload.get("arguments")
    arguments = arguments if isinstance(arguments, dict) else record.arguments
    call = ToolCallPart(record.call_id, record.name, dict(arguments))
    if record.status in DONE:
        await record_result(ctx, key, call, record.result, sender="engine")
        return StepOutcome(next="arbiter")
    call, errors = approved_call_check(ctx, call)
    role = consult_role(call.name) or ""
    decided = binding_gate(ctx, call, consulted_roles(ctx), role) if role else Gate()
    item = _Runnable(0, call, key, decided, record.repairs)
    if errors:
        content = json.dumps({"tool": call.name, "success": False, "error": "; ".join(errors)})
        await record_result(ctx, key, call, content, sender="engine")
        await record_status(
            ctx,
            key,
            call,
            "invalid",
            message_key=record.message_key,
            repairs=record.repairs,
            result=content,
            error="; ".join(errors),
        )
        return StepOutcome(next="arbiter")
    outcome = await _finish(
        ctx, item, record.message_key, await _execute(ctx, item, record.message_key)
    )
    if outcome.final_answer is not None:
        return finished("completed", "final answer given", outcome.final_answer)
    return StepOutcome(next="arbiter")


def next_move(outcomes: list[CallOutcome]) -> StepOutcome:
    stop = next((o.stop for o in outcomes if o.stop is not None), None)
    if stop is not None:
        return finished(stop.status, stop.reason)
    final = next((o for o in outcomes if o.final_answer is not None), None)
    if final is not None:
        return finished("completed", "final answer given", final.final_answer or "")
    if any(o.wait == "approval" for o in outcomes):
        return StepOutcome(next="wait_for_approval")
    if any(o.wait == "user" for o in outcomes):
        return StepOutcome(next="wait_for_user")
    return StepOutcome(next="arbiter")
