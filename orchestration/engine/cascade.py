"""The full repair cascade for one arbiter reply (DESIGN.md, "Tool calls: the repair cascade").

1. deterministic stages (``repair.repair_reply``): native calls validated, call-shaped text
   extracted, JSON repaired, types coerced;
2. constrained re-ask of the same model: a JSON-schema ``response_format`` and no tools;
3. the interpreter model: ``clarify_failed_call`` for a call that failed validation,
   ``interpret_tool_call`` for a reply whose call was dropped or unreadable;
4. model-assisted diagnosis by the reasoning specialist, whose suggestion is carried out;
5. escalation to the operator.
A routing rule about the reply (``response.unclear_tool_calls``) that names a specialist sends
the problem to that specialist first, before the re-ask. Prose that is not shaped like a call is
an answer, never a call. Every stage that ran is appended to the call's ``repairs`` trail with
its before, after and the model that did it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.engine import keys
from orchestration.engine.cascade_stages import Problem, interpreter_stage, reask_stage
from orchestration.engine.classify import route, task_facts
from orchestration.engine.diagnosis import ALTERNATIVE, PHASE, RETRY, ROLLBACK, USER_INPUT, diagnose
from orchestration.engine.errors import ModelError
from orchestration.engine.interpreter import INTERPRETER
from orchestration.engine.modelcall import StepContext, Turn
from orchestration.engine.repair import FoundCall, RepairResult, repair_reply
from orchestration.engine.tools import DECIDE_PHASE, ESCALATE
from orchestration.engine.types import ChatMessage, ToolCallPart, ToolSpec


@dataclass(frozen=True)
class RepairedCall:
    call: ToolCallPart
    repairs: tuple[dict[str, Any], ...] = ()


@dataclass
class CascadeOutcome:
    """What the reply comes to: calls to run, a prose answer, or advice for the arbiter."""

    calls: list[RepairedCall] = field(default_factory=list)
    answer: str | None = None
    feedback: str = ""
    unresolved: list[tuple[FoundCall | None, tuple[dict[str, Any], ...]]] = field(
        default_factory=list
    )
    unclear: bool = False


def _reply_level(result: RepairResult) -> list[dict[str, Any]]:
    return [record.to_dict() for record in result.trail if record.call is None]


def _call_trail(found: FoundCall) -> list[dict[str, Any]]:
    return [record.to_dict() for record in found.trail]


async def run_cascade(
    ctx: StepContext,
    turn: Turn,
    tools: Sequence[ToolSpec],
    prompt: Sequence[ChatMessage],
) -> CascadeOutcome:
    """Turn the arbiter's reply into calls (or an answer, or advice), stage by stage."""
    result = repair_reply(message=turn.message, tools=tools, done_reason=turn.done_reason)
    outcome = CascadeOutcome(unclear=result.unclear_tool_calls)
    shared = _reply_level(result)
    if result.is_answer:
        outcome.answer = result.text
        return outcome
    for found in result.found:
        if found.valid:
            outcome.calls.append(RepairedCall(found.to_part(), tuple(shared + _call_trail(found))))
    if not result.unclear_tool_calls:
        return outcome
    problems = [
        Problem(found.index, found, "; ".join(found.errors)) for found in result.invalid_calls
    ]
    if not problems:
        why = "the reply was empty although tools were offered (a dropped call)"
        if result.distrusted:
            why = "the reply was cut off at the length limit"
        problems = [Problem(0, None, why)]
    routed = _route_reply(ctx, result, turn.done_reason, shared)
    for problem in problems:
        trail = shared + (_call_trail(problem.found) if problem.found else [])
        call = await _fix(ctx, problem, turn, tools, prompt, routed, trail)
        if call is not None:
            outcome.calls.append(RepairedCall(call, tuple(trail)))
        else:
            outcome.unresolved.append((problem.found, tuple(trail)))
    if outcome.unresolved and not outcome.calls:
        await _diagnose_and_act(ctx, turn, tools, outcome)
    return outcome


def _route_reply(
    ctx: StepContext, result: RepairResult, done_reason: str, shared: list[dict[str, Any]]
) -> str | None:
    facts = {
        **task_facts(ctx.state.classification),
        "response.unclear_tool_calls": result.unclear_tool_calls,
        "response.failed_repairs": len(result.invalid_calls),
        "response.done_reason": done_reason,
        "conversation.phase": ctx.state.phase,
        "conversation.step_count": ctx.state.counters.steps_used,
    }
    decision = route(ctx.state.rules, facts, only_response_rules=True)
    if decision is None or decision["specialist"] not in ctx.state.specialists:
        return None
    shared.append(
        {
            "stage": "routing",
            "before": None,
            "after": decision,
            "note": decision["stated"],
            "call": None,
        }
    )
    return decision["specialist"]


async def _fix(
    ctx: StepContext,
    problem: Problem,
    turn: Turn,
    tools: Sequence[ToolSpec],
    prompt: Sequence[ChatMessage],
    routed: str | None,
    trail: list[dict[str, Any]],
) -> ToolCallPart | None:
    interpreter = routed or (INTERPRETER if INTERPRETER in ctx.state.specialists else None)
    stages = ["reask", "interpreter"] if routed is None else ["interpreter", "reask"]
    for stage in stages:
        try:
            if stage == "reask":
                call = await reask_stage(ctx, problem, turn, tools, prompt, trail)
            elif interpreter is not None:
                call = await interpreter_stage(ctx, problem, turn, tools, interpreter, trail)
            else:
                continue
        except ModelError as exc:
            trail.append(
                {
                    "stage": stage,
                    "before": problem.error,
                    "after": None,
                    "note": f"model call failed: {exc}",
                    "call": problem.index,
                }
            )
            continue
        if call is not None:
            return call
    return None


async def _diagnose_and_act(
    ctx: StepContext, turn: Turn, tools: Sequence[ToolSpec], outcome: CascadeOutcome
) -> None:
    """Nothing usable came out of the reply: diagnosis decides, else the operator is asked."""
    found, trail = outcome.unresolved[0]
    error = "; ".join(found.errors) if found else str(trail[-1].get("note", "")) if trail else ""
    key = keys.repair(ctx.n, "diagnosis")
    record: dict[str, Any] = {"stage": "diagnosis", "before": error, "call": None}
    try:
        diagnosis = await diagnose(
            ctx,
            key=key,
            error=error,
            reply=turn.content,
            attempts=trail,
            tool_names=[t.name for t in tools],
        )
    except ModelError as exc:
        diagnosis = None
        record.update(after=None, note=f"model call failed: {exc}")
    if diagnosis is not None:
        record.update(
            model=diagnosis.model,
            after={"suggestion": diagnosis.kind, "arguments": diagnosis.arguments},
            note=diagnosis.raw[:500],
        )
    repairs = (*trail, record)
    kind, arguments = (diagnosis.kind, diagnosis.arguments) if diagnosis else (None, {})
    if kind == RETRY and isinstance(arguments.get("corrected_call"), dict):
        corrected = arguments["corrected_call"]
        part = ToolCallPart("", str(corrected.get("name", "")), corrected.get("arguments") or {})
        checked = repair_reply(message=ChatMessage("assistant", "", (part,)), tools=tools)
        if checked.calls:
            outcome.calls.append(RepairedCall(checked.calls[0], repairs))
            outcome.unresolved.clear()
            return
    if kind == RETRY:
        outcome.feedback = f"Diagnosis suggests retrying with changes: {arguments.get('changes')}"
    elif kind == ROLLBACK:
        outcome.feedback = (
            f"Your last reply was rolled back ({arguments.get('reason')}). Try again."
        )
    elif kind == ALTERNATIVE:
        outcome.feedback = f"Take a different approach: {arguments.get('approach')}"
    elif kind == PHASE:
        call = ToolCallPart(
            "",
            DECIDE_PHASE,
            {
                "phase": arguments.get("phase"),
                "accept": True,
                "reason": f"diagnosis: {arguments.get('reason')}",
            },
        )
        outcome.calls.append(RepairedCall(call, repairs))
    elif kind == USER_INPUT:
        question = {"question": arguments.get("question", "")}
        if arguments.get("options"):
            question["options"] = arguments["options"]
        outcome.calls.append(RepairedCall(ToolCallPart("", ESCALATE, question), repairs))
    else:
        question = (
            "The arbiter's reply could not be turned into a valid tool call, and automatic "
            f"repair did not help ({error or 'no call found'}). How should the run continue?"
        )
        escalation = {
            "stage": "escalation",
            "before": error,
            "after": question,
            "call": None,
            "note": "no stage could repair the reply",
        }
        call = ToolCallPart("", ESCALATE, {"question": question})
        outcome.calls.append(RepairedCall(call, (*repairs, escalation)))
    if outcome.calls:
        outcome.unresolved.clear()
