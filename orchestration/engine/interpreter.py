"""The interpreter model (FunctionGemma in the reference deployment) in its three roles.

``interpret_tool_call`` extracts the call a reply meant, ``clarify_failed_call`` corrects a call
that failed validation, ``translate_response`` turns one model's prose into calls another model
can process. The prompts are short and plain for a tiny model, and the tools are sent natively
(FunctionGemma is trained for that). Its output is never trusted: it passes the same
deterministic repair stages as any reply, and only valid calls come back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.engine.modelcall import StepContext, tool_turn
from orchestration.engine.repair import RepairResult
from orchestration.engine.types import ChatMessage, ToolCallPart, ToolSpec

INTERPRETER = "interpreter"


@dataclass(frozen=True)
class Interpretation:
    """What the interpreter produced: its raw reply, the valid calls in it, the repair result."""

    model: str
    raw: str
    calls: tuple[ToolCallPart, ...]
    repair: RepairResult

    def to_trail(self, stage: str, before: Any) -> dict[str, Any]:
        return {
            "stage": stage,
            "model": self.model,
            "before": before,
            "after": [{"name": c.name, "arguments": c.arguments} for c in self.calls],
            "raw": self.raw,
            "note": "valid call found" if self.calls else "no valid call",
        }


def tools_json(tools: Sequence[ToolSpec]) -> str:
    return json.dumps([tool.to_wire()["function"] for tool in tools], indent=1)


async def _interpret(
    ctx: StepContext,
    *,
    template: str,
    sections: dict[str, Any],
    tools: Sequence[ToolSpec],
    key: str,
    role: str,
) -> Interpretation:
    where = {"thread_key": f"interpreter:{key}", "participant": role, "thread_label": template}
    system = ctx.template("interpreter.system", {}, role=role)
    prompt = ctx.template(template, sections, role=role)
    turn, repaired = await tool_turn(
        ctx, role=role, key=key, system=system, prompt=prompt, tools=tools, where=where
    )
    return Interpretation(
        turn.model, turn.content or _calls_text(turn.message), repaired.calls, repaired
    )


def _calls_text(message: ChatMessage) -> str:
    return json.dumps([{"name": c.name, "arguments": c.arguments} for c in message.tool_calls])


async def interpret_tool_call(
    ctx: StepContext,
    raw_response: str,
    tools: Sequence[ToolSpec],
    *,
    key: str,
    reason: str = "",
    role: str = INTERPRETER,
) -> Interpretation:
    """The call(s) ``raw_response`` meant. Raises ``ModelError`` if the model call fails."""
    sections = {"raw_response": raw_response or "(an empty reply)", "reason": reason}
    return await _interpret(
        ctx,
        template="interpreter.interpret_tool_call",
        sections=sections,
        tools=tools,
        key=key,
        role=role,
    )


async def clarify_failed_call(
    ctx: StepContext,
    failed_call: dict[str, Any],
    error: str,
    tools: Sequence[ToolSpec],
    *,
    key: str,
    role: str = INTERPRETER,
) -> Interpretation:
    """A corrected version of ``failed_call``. Raises ``ModelError`` if the model call fails."""
    sections = {"failed_call": json.dumps(failed_call, ensure_ascii=False), "error": error}
    return await _interpret(
        ctx,
        template="interpreter.clarify_failed_call",
        sections=sections,
        tools=tools,
        key=key,
        role=role,
    )


async def translate_response(
    ctx: StepContext,
    from_text: str,
    to_context: str,
    tools: Sequence[ToolSpec],
    *,
    key: str,
    role: str = INTERPRETER,
) -> Interpretation:
    """``from_text`` expressed as calls of ``tools``. Raises ``ModelError`` if the call fails."""
    shown = f"It is meant for: {to_context}" if to_context.strip() else ""
    sections = {"from_text": from_text, "to_context": shown}
    return await _interpret(
        ctx,
        template="interpreter.translate_response",
        sections=sections,
        tools=tools,
        key=key,
        role=role,
    )
