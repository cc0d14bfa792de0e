"""Model-assisted diagnosis: the reasoning specialist reads a failure and suggests what to do.

It answers with one of five tools; the engine (``cascade``) carries the suggestion out:
``suggest_retry_with_changes`` (with a ``corrected_call`` the engine validates and runs, or
advice the arbiter gets before it tries again), ``suggest_phase_change``, ``request_user_input``
(an escalation), ``suggest_rollback`` (the failed reply is set aside and the arbiter tries again)
and ``suggest_alternative_approach`` (advice for the arbiter).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.engine.modelcall import StepContext, tool_turn
from orchestration.engine.types import ToolSpec

RETRY = "suggest_retry_with_changes"
PHASE = "suggest_phase_change"
USER_INPUT = "request_user_input"
ROLLBACK = "suggest_rollback"
ALTERNATIVE = "suggest_alternative_approach"
DIAGNOSIS_ROLES = ("reasoning", "arbiter")


def diagnosis_tools(phases: Sequence[str]) -> tuple[ToolSpec, ...]:
    text = {"type": "string"}
    return (
        ToolSpec(
            RETRY,
            "Retry with changes. Give corrected_call when you can tell which call was meant.",
            {
                "type": "object",
                "properties": {
                    "changes": text,
                    "corrected_call": {
                        "type": "object",
                        "properties": {"name": text, "arguments": {"type": "object"}},
                        "required": ["name", "arguments"],
                    },
                },
                "required": ["changes"],
            },
        ),
        ToolSpec(
            PHASE,
            "Move the work to another phase.",
            {
                "type": "object",
                "properties": {"phase": {"type": "string", "enum": list(phases)}, "reason": text},
                "required": ["phase", "reason"],
            },
        ),
        ToolSpec(
            USER_INPUT,
            "Ask the human operator.",
            {
                "type": "object",
                "properties": {"question": text, "options": {"type": "array", "items": text}},
                "required": ["question"],
            },
        ),
        ToolSpec(
            ROLLBACK,
            "Discard the failed reply and let the arbiter try again.",
            {"type": "object", "properties": {"reason": text}, "required": ["reason"]},
        ),
        ToolSpec(
            ALTERNATIVE,
            "Tell the arbiter to take a different approach.",
            {"type": "object", "properties": {"approach": text}, "required": ["approach"]},
        ),
    )


@dataclass(frozen=True)
class Diagnosis:
    """The suggestion the diagnosing model made (``kind`` is ``None`` when it made none)."""

    kind: str | None
    arguments: dict[str, Any]
    model: str
    raw: str


def diagnosis_role(ctx: StepContext) -> str | None:
    return next((role for role in DIAGNOSIS_ROLES if role in ctx.state.specialists), None)


async def diagnose(
    ctx: StepContext,
    *,
    key: str,
    error: str,
    reply: str,
    attempts: Sequence[dict[str, Any]],
    tool_names: Sequence[str],
) -> Diagnosis:
    """Ask the reasoning specialist. Raises ``ModelError`` if the model call fails."""
    role = diagnosis_role(ctx)
    if role is None:
        return Diagnosis(None, {}, "", "no reasoning specialist is configured")
    tools = diagnosis_tools(ctx.state.phases)
    where = {"thread_key": f"diagnosis:{key}", "participant": role, "thread_label": "diagnosis"}
    system = ctx.template("diagnosis.system", {}, role=role)
    context = ctx.template(
        "diagnosis.context",
        {
            "phase": ctx.state.phase,
            "task": ctx.state.task,
            "error": error,
            "reply": reply or "(empty)",
            "attempts": "\n".join(_attempt_line(a) for a in attempts) or "(none)",
            "tool_names": ", ".join(tool_names),
        },
        role=role,
    )
    turn, repaired = await tool_turn(
        ctx, role=role, key=key, system=system, prompt=context, tools=tools, where=where
    )
    raw = turn.content or json.dumps(
        [{"name": c.name, "arguments": c.arguments} for c in turn.message.tool_calls]
    )
    if not repaired.calls:
        return Diagnosis(None, {}, turn.model, raw)
    first = repaired.calls[0]
    return Diagnosis(first.name, dict(first.arguments), turn.model, raw)


def _attempt_line(attempt: dict[str, Any]) -> str:
    return f"- {attempt.get('stage')}: {attempt.get('note', '')}"
