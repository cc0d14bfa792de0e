"""Running the arbiter's tool calls: gates first, then the tool, every status change recorded.

Gates, in order, for each call the cascade made valid:
- ``final_answer`` ends the run; other calls in the same reply are not run (rejected, saying so);
- the tool-call limit; a repeated call (third identical: refused with an explanation; fourth:
  the run fails, the model is looping);
- binding routing: while the bound specialist has not answered yet, a consult of another
  specialist is **redirected** to the bound one (the result says so and names the rule);
- ``max_models_per_conversation``: a consult that would bring in one model too many is refused;
- approval: a specialist with ``requires_approval``, or a routing rule with it, makes the call
  wait (status ``awaiting_approval`` and an approval escalation).
``escalate_to_user`` opens a question and leaves the call running until the operator answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from orchestration.engine import limits
from orchestration.engine.actions import decide_phase, reinterpret, synthesize
from orchestration.engine.consult import consult
from orchestration.engine.dialogue import run_dialogue
from orchestration.engine.modelcall import StepContext, ensure_message
from orchestration.engine.ports import EscalationRecord, MessageRecord, ToolCallRecord
from orchestration.engine.repair import repair_reply
from orchestration.engine.tools import (
    ARBITER,
    DECIDE_PHASE,
    ESCALATE,
    FINAL_ANSWER,
    REINTERPRET,
    START_CONVERSATION,
    SYNTHESIZE,
    all_arbiter_tools,
    consult_role,
)
from orchestration.engine.types import ChatMessage, ToolCallPart

DONE = frozenset({"succeeded", "failed", "rejected", "invalid"})


@dataclass
class CallOutcome:
    call: ToolCallPart
    status: str
    result: str = ""
    wait: str = ""  # "user" or "approval" when the run waits for a person
    final_answer: str | None = None
    stop: limits.LimitHit | None = None  # the run must end


@dataclass
class Gate:
    """What the gates decided for one call before it runs."""

    refuse: str = ""  # a result text: the call does not run
    status: str = "rejected"
    stop: limits.LimitHit | None = None
    approval: str = ""  # why it needs approval
    redirect: dict[str, Any] | None = None
    role: str = ""


@dataclass
class ReplyPlan:
    """Bookkeeping across the calls of one reply."""

    consulted: set[str] = field(default_factory=set)
    earlier: list[ToolCallPart] = field(default_factory=list)
    has_final: bool = False


def consulted_roles(ctx: StepContext) -> set[str]:
    """Specialists that answered in this run, read from the results in the arbiter's thread."""
    roles: set[str] = set()
    for message in ctx.state.arbiter_history:
        if message.role != "tool" or not message.content.startswith("{"):
            continue
        try:
            result = json.loads(message.content)
        except ValueError:
            continue
        if isinstance(result, dict) and result.get("success"):
            if isinstance(result.get("specialist"), str):
                roles.add(result["specialist"])
            if result.get("tool") == START_CONVERSATION:
                roles.update(str(role) for role in result.get("participants") or [])
    return roles


def _approval_reason(ctx: StepContext, role: str) -> str:
    info = ctx.state.specialists.get(role)
    if info is not None and info.requires_approval:
        return f"the {role} specialist requires approval"
    decision = ctx.state.routing_decision or {}
    if decision.get("requires_approval") and decision.get("specialist") == role:
        return f"routing rule {decision.get('rule_order')} requires approval ({decision['stated']})"
    return ""


def gate(ctx: StepContext, call: ToolCallPart, plan: ReplyPlan, made: int) -> Gate:
    if plan.has_final and call.name != FINAL_ANSWER:
        return Gate(refuse="Not run: the same reply gave the final answer, which ends the run.")
    hit = limits.tool_call_limit(ctx.state, made)
    if hit is not None:
        return Gate(refuse=f"Not run: {hit.reason}.", stop=hit)
    repeated = limits.repetition(call, ctx.state.arbiter_history, plan.earlier)
    if repeated.fail:
        reason = f"the arbiter is looping: it made the call {call.name} {repeated.count} times"
        return Gate(refuse=repeated.message(call.name), stop=limits.LimitHit("failed", reason))
    if repeated.refuse:
        return Gate(refuse=repeated.message(call.name))
    role = consult_role(call.name) or ""
    roles = [role] if role else []
    if call.name == START_CONVERSATION:
        roles = [str(r) for r in call.arguments.get("participants") or []]
    result = Gate(role=role)
    if role:
        result = binding_gate(ctx, call, plan.consulted, role)
        roles = [result.role]
    new = {r for r in roles if r != ARBITER} - plan.consulted
    cap = ctx.state.policy.max_models_per_conversation
    if new and len(plan.consulted | new) > cap:
        return Gate(
            refuse=(
                f"Not run: the run may involve at most {cap} specialist models "
                f"(max_models_per_conversation); already: "
                f"{', '.join(sorted(plan.consulted)) or 'none'}."
            )
        )
    reasons = [reason for r in roles if (reason := _approval_reason(ctx, r))]
    result.approval = "; ".join(reasons)
    return result


def binding_gate(ctx: StepContext, call: ToolCallPart, consulted: set[str], role: str) -> Gate:
    """A consult of ``role``, redirected to the bound specialist while a binding routing
    decision's specialist has not answered yet."""
    decision = ctx.state.routing_decision or {}
    bound = decision.get("specialist")
    if (
        decision.get("binding")
        and bound in ctx.state.specialists
        and bound != ARBITER
        and bound != role
        and bound not in consulted
    ):
        redirect = {
            "from": role,
            "to": bound,
            "rule_order": decision.get("rule_order"),
            "rule": decision.get("stated"),
        }
        return Gate(role=bound, redirect=redirect)
    return Gate(role=role)


async def record_status(
    ctx: StepContext,
    key: str,
    call: ToolCallPart,
    status: str,
    *,
    message_key: str,
    repairs: tuple[dict[str, Any], ...] = (),
    result: str = "",
    error: str = "",
) -> None:
    await ctx.journal.tool_call_record(
        ToolCallRecord(
            key=key,
            call_id=call.id,
            name=call.name,
            arguments=call.arguments,
            status=status,
            result=result,
            error=error,
            repairs=repairs,
            message_key=message_key,
        )
    )


async def record_result(
    ctx: StepContext, key: str, call: ToolCallPart, content: str, sender: str
) -> None:
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{key}:result",
            thread_key="arbiter",
            participant=ARBITER,
            sender=sender,
            recipient=ARBITER,
            role="tool",
            content=content,
            tool_call_id=call.id,
        ),
    )


async def run_tool(ctx: StepContext, call: ToolCallPart, key: str, role: str) -> dict[str, Any]:
    """Carry out one call whose gates passed. Returns the tool result."""
    arguments = call.arguments
    if role:
        return await consult(
            ctx,
            call_key=key,
            tool_name=call.name,
            role=role,
            query=str(arguments.get("query", "")),
            context=str(arguments.get("context") or ""),
        )
    if call.name == START_CONVERSATION:
        return await run_dialogue(ctx, call_key=key, arguments=arguments)
    if call.name == SYNTHESIZE:
        return await synthesize(ctx, call_key=key, arguments=arguments)
    if call.name == REINTERPRET:
        return await reinterpret(ctx, call_key=key, arguments=arguments)
    if call.name == DECIDE_PHASE:
        return await decide_phase(ctx, arguments=arguments)
    if call.name == FINAL_ANSWER:
        return {"tool": FINAL_ANSWER, "success": True}
    return {"tool": call.name, "success": False, "error": f"unknown tool {call.name!r}"}


async def open_question(ctx: StepContext, key: str, call: ToolCallPart) -> None:
    options = tuple(str(option) for option in call.arguments.get("options") or ())
    await ctx.journal.escalation_open(
        EscalationRecord(
            key=f"{key}:escalation",
            kind="question",
            question=str(call.arguments.get("question")),
            options=options,
            tool_call_key=key,
        )
    )


async def open_approval(ctx: StepContext, key: str, call: ToolCallPart, why: str) -> None:
    shown = json.dumps(call.arguments, ensure_ascii=False)[:1500]
    await ctx.journal.escalation_open(
        EscalationRecord(
            key=f"{key}:approval",
            kind="approval",
            question=f"Approve {call.name}({shown})? ({why})",
            tool_call_key=key,
        )
    )


def outcome_from_record(call: ToolCallPart, status: str, result: str) -> CallOutcome:
    """A call recorded by an earlier run of this step: its outcome, nothing run again."""
    outcome = CallOutcome(call, status, result)
    ends = _json_object(result).get("ends_run")
    if status == "rejected" and isinstance(ends, dict):
        outcome.stop = limits.LimitHit(str(ends.get("status")), str(ends.get("reason")))
    if status == "awaiting_approval":
        outcome.wait = "approval"
    elif call.name == ESCALATE and status == "running":
        outcome.wait = "user"
    elif call.name == FINAL_ANSWER and status == "succeeded":
        outcome.final_answer = str(call.arguments.get("answer", ""))
    return outcome


def approved_call_check(ctx: StepContext, call: ToolCallPart) -> tuple[ToolCallPart, list[str]]:
    """An approved (or operator-edited) call checked like model output: ``(call, errors)``."""
    checked = repair_reply(
        message=ChatMessage("assistant", "", (call,)), tools=all_arbiter_tools(ctx.state)
    )
    if checked.calls:
        valid = checked.calls[0]
        return ToolCallPart(call.id, valid.name, dict(valid.arguments)), []
    return call, [error for found in checked.found for error in found.errors] or ["invalid call"]


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
