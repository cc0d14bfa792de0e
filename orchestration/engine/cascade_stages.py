"""The model-assisted stages of the cascade that fix one problem: the constrained re-ask of the
same model (a JSON-schema ``response_format``, no tools) and the interpreter model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.engine import keys
from orchestration.engine.interpreter import clarify_failed_call, interpret_tool_call
from orchestration.engine.modelcall import StepContext, Turn, ensure_message, model_turn
from orchestration.engine.ports import MessageRecord
from orchestration.engine.repair import FoundCall, RepairResult, repair_reply
from orchestration.engine.repair.validate import find_tool
from orchestration.engine.types import ChatMessage, ToolCallPart, ToolSpec


@dataclass(frozen=True)
class Problem:
    """One thing to fix: an invalid call, or the whole reply (dropped or unreadable call)."""

    index: int
    found: FoundCall | None
    error: str


def reask_schema(problem: Problem, tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """A schema for one call: the failed call's own tool when its name is known."""
    tool = find_tool(problem.found.name, tools) if problem.found else None
    if tool is not None:
        name_schema: dict[str, Any] = {"type": "string", "enum": [tool.name]}
        arguments: dict[str, Any] = tool.parameters
    else:
        name_schema = {"type": "string", "enum": [t.name for t in tools]}
        arguments = {"type": "object"}
    return {
        "type": "object",
        "properties": {"name": name_schema, "arguments": arguments},
        "required": ["name", "arguments"],
    }


async def reask_stage(
    ctx: StepContext,
    problem: Problem,
    turn: Turn,
    tools: Sequence[ToolSpec],
    prompt: Sequence[ChatMessage],
    trail: list[dict[str, Any]],
) -> ToolCallPart | None:
    key = keys.repair(ctx.n, f"reask:{problem.index}")
    where = {
        "thread_key": f"repair:{key}",
        "participant": "arbiter",
        "thread_label": "constrained re-ask",
    }
    text = ctx.template(
        "repair.reask",
        {"problem": problem.error, "tool_names": ", ".join(t.name for t in tools)},
        role="arbiter",
    )
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{key}:prompt",
            sender="engine",
            recipient="arbiter",
            role="user",
            content=text,
            **where,
        ),
    )
    messages = [
        *prompt,
        ChatMessage("assistant", turn.content or "(empty reply)"),
        ChatMessage("user", text),
    ]
    reply = await model_turn(
        ctx,
        role="arbiter",
        key=key,
        messages=messages,
        response_format=reask_schema(problem, tools),
        recipient="engine",
        **where,
    )
    result = repair_reply(message=ChatMessage("assistant", reply.content), tools=tools)
    call = result.calls[0] if result.calls else None
    trail.append(
        {
            "stage": "reask",
            "model": reply.model,
            "before": problem.error,
            "after": reply.content,
            "note": "valid call" if call else "; ".join(_errors(result)) or "no call in the reply",
            "call": problem.index,
        }
    )
    return call


def _errors(result: RepairResult) -> list[str]:
    return [error for found in result.found for error in found.errors]


async def interpreter_stage(
    ctx: StepContext,
    problem: Problem,
    turn: Turn,
    tools: Sequence[ToolSpec],
    role: str,
    trail: list[dict[str, Any]],
) -> ToolCallPart | None:
    key = keys.repair(ctx.n, f"interpret:{problem.index}")
    if problem.found is not None and problem.found.name:
        failed = {"name": problem.found.name, "arguments": problem.found.arguments}
        found = await clarify_failed_call(ctx, failed, problem.error, tools, key=key, role=role)
        trail.append(
            found.to_trail("interpreter.clarify_failed_call", failed) | {"call": problem.index}
        )
    else:
        found = await interpret_tool_call(
            ctx, turn.content, tools, key=key, reason=problem.error, role=role
        )
        trail.append(
            found.to_trail("interpreter.interpret_tool_call", turn.content)
            | {"call": problem.index}
        )
    return found.calls[0] if found.calls else None
