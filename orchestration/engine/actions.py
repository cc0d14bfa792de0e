"""The arbiter tools that are not consults or conversations: synthesis, reinterpretation,
phase decisions. Each returns the tool result as a dict (``{"tool", "success", ...}``)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from orchestration.engine.errors import ModelError
from orchestration.engine.interpreter import INTERPRETER, translate_response
from orchestration.engine.modelcall import StepContext, ensure_message, model_turn
from orchestration.engine.ports import MessageRecord
from orchestration.engine.tools import (
    DECIDE_PHASE,
    REINTERPRET,
    START_CONVERSATION,
    SYNTHESIZE,
    all_arbiter_tools,
    consult_role,
)
from orchestration.engine.types import ChatMessage

SYNTHESIZER_ROLE = "arbiter"


def responses_so_far(ctx: StepContext) -> list[str]:
    """The specialists' answers in the arbiter's thread, for a synthesis that names none."""
    answers = []
    for message in ctx.state.arbiter_history:
        if message.role != "tool" or not message.content:
            continue
        name = message.tool_name or ""
        if not (consult_role(name) or name == START_CONVERSATION):
            continue
        try:
            result = json.loads(message.content)
        except ValueError:
            continue
        if isinstance(result, dict) and result.get("success"):
            who = result.get("specialist") or "conversation"
            answers.append(f"[{who}] {result.get('response') or result.get('summary', '')}")
    return answers


async def synthesize(ctx: StepContext, *, call_key: str, arguments: dict[str, Any]) -> dict:
    responses = [str(item) for item in arguments.get("responses") or []] or responses_so_far(ctx)
    if not responses:
        return {"tool": SYNTHESIZE, "success": False, "error": "there are no responses to combine"}
    instructions = str(arguments.get("instructions") or "")
    where = {
        "thread_key": f"synthesis:{call_key}",
        "participant": SYNTHESIZER_ROLE,
        "thread_label": "synthesis",
        "parent_thread_key": "arbiter",
    }
    system = ctx.template("synthesize.system", {}, role=SYNTHESIZER_ROLE)
    request = ctx.template(
        "synthesize.request",
        {
            "task": ctx.state.task,
            "instructions": instructions,
            "responses": "\n\n".join(f"{i}. {text}" for i, text in enumerate(responses, 1)),
        },
        role=SYNTHESIZER_ROLE,
    )
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{call_key}:query",
            sender="arbiter",
            recipient=SYNTHESIZER_ROLE,
            role="user",
            content=request,
            **where,
        ),
    )
    try:
        turn = await model_turn(
            ctx,
            role=SYNTHESIZER_ROLE,
            key=f"{call_key}:reply",
            messages=[ChatMessage("system", system), ChatMessage("user", request)],
            recipient="arbiter",
            **where,
        )
    except ModelError as exc:
        return {"tool": SYNTHESIZE, "success": False, "error": str(exc)}
    return {
        "tool": SYNTHESIZE,
        "success": True,
        "response": turn.content,
        "combined": len(responses),
    }


async def reinterpret(ctx: StepContext, *, call_key: str, arguments: dict[str, Any]) -> dict:
    if INTERPRETER not in ctx.state.specialists:
        return {"tool": REINTERPRET, "success": False, "error": "no interpreter is configured"}
    tools = [tool for tool in all_arbiter_tools(ctx.state) if tool.name != REINTERPRET]
    try:
        found = await translate_response(
            ctx,
            str(arguments.get("text", "")),
            str(arguments.get("reason") or ""),
            tools,
            key=f"{call_key}:interpret",
        )
    except ModelError as exc:
        return {"tool": REINTERPRET, "success": False, "error": str(exc)}
    calls = [{"name": call.name, "arguments": call.arguments} for call in found.calls]
    result: dict[str, Any] = {"tool": REINTERPRET, "success": bool(calls), "calls": calls}
    if not calls:
        result["error"] = "the interpreter found no valid call in the text"
    else:
        result["note"] = "These calls were not run; make the ones you want."
    return result


async def decide_phase(ctx: StepContext, *, arguments: dict[str, Any]) -> dict:
    """Accept (the phase changes now) or refuse a phase change; both are recorded."""
    phase = str(arguments.get("phase", ""))
    accept = arguments.get("accept") is True
    reason = str(arguments.get("reason") or "")
    result: dict[str, Any] = {
        "tool": DECIDE_PHASE,
        "phase": phase,
        "accepted": accept,
        "reason": reason,
        "previous_phase": ctx.state.phase,
    }
    if phase not in ctx.state.phases:
        return {**result, "success": False, "error": f"unknown phase {phase!r}"}
    if accept and phase != ctx.state.phase:
        await ctx.journal.conversation_update(phase=phase, phase_reason=reason)
        ctx.state = replace(ctx.state, phase=phase)
    return {**result, "success": True, "phase_now": ctx.state.phase}
