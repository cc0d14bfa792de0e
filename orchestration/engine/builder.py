"""The arbiter's system prompt, assembled from template sections for this step.

Sections: the role (by phase and model), the phase, the routing decision, detailed or simple
instructions (by the task's complexity), the relevant tools only, worked examples when recent
calls failed, and the context (classification, a pending phase proposal, what is left of the
budget). Each comes from its own template, so an operator can change any of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from orchestration.engine.modelcall import StepContext
from orchestration.engine.tools import DECIDE_PHASE, FINAL_ANSWER
from orchestration.engine.types import ToolSpec

DETAILED_FROM_COMPLEXITY = 6
SMALL_CONTEXT = 4096  # tokens: below this the tool list in the prompt is names only


def pending_phase_proposal(ctx: StepContext) -> dict[str, Any] | None:
    """The latest phase change a specialist proposed that the arbiter has not decided yet."""
    pending = None
    for message in ctx.state.arbiter_history:
        if message.role != "tool" or not message.content.startswith("{"):
            continue
        try:
            result = json.loads(message.content)
        except ValueError:
            continue
        if not isinstance(result, dict):
            continue
        if result.get("tool") == DECIDE_PHASE:
            pending = None
        elif isinstance(result.get("phase_proposal"), dict):
            pending = result["phase_proposal"]
    return pending


def _example(tools: Sequence[ToolSpec]) -> tuple[str, str]:
    tool = next((t for t in tools if t.name.startswith("consult_")), None)
    if tool is not None:
        return tool.name, json.dumps({"query": "What should the function return?"})
    return FINAL_ANSWER, json.dumps({"answer": "..."})


def arbiter_sections(ctx: StepContext, tools: Sequence[ToolSpec]) -> dict[str, str]:
    state = ctx.state
    role = "arbiter"
    complexity = (state.classification or {}).get("complexity")
    detailed = isinstance(complexity, int) and complexity >= DETAILED_FROM_COMPLEXITY
    instructions = "arbiter.instructions.detailed" if detailed else "arbiter.instructions.simple"
    routing = ""
    decision = state.routing_decision
    if decision:
        binding = ""
        if decision.get("binding"):
            binding = (
                f" This rule is binding: consults go to the {decision['specialist']} "
                "specialist until it has answered."
            )
        routing = ctx.template(
            "arbiter.routing", {"stated": decision.get("stated", ""), "binding": binding}, role=role
        )
    examples = ""
    if state.recent_failures:
        example_tool, example_arguments = _example(tools)
        examples = ctx.template(
            "arbiter.examples",
            {
                "failures": "\n".join(f"- {failure}" for failure in state.recent_failures),
                "example_tool": example_tool,
                "example_arguments": example_arguments,
            },
            role=role,
        )
    window = state.specialists[role].context_window if role in state.specialists else None
    if window is not None and window < SMALL_CONTEXT:
        # The tools travel with the request anyway; a small window cannot afford them twice.
        tool_lines = ", ".join(tool.name for tool in tools)
    else:
        tool_lines = "\n".join(f"- {tool.name}: {tool.description}" for tool in tools)
    return {
        "role": ctx.template("arbiter.role", {}, role=role),
        "phase": state.phase,
        "phases": " -> ".join(state.phases),
        "routing": routing,
        "instructions": ctx.template(instructions, {}, role=role),
        "tools": ctx.template("arbiter.tools", {"tool_lines": tool_lines}, role=role),
        "examples": examples,
        "context": _context(ctx),
    }


def _context(ctx: StepContext) -> str:
    state = ctx.state
    lines = []
    classification = state.classification
    if classification:
        marked = (
            " (default: the classifier's answer was unusable)"
            if classification.get("default")
            else ""
        )
        lines.append(
            f"Task classification: type {classification.get('type')}, complexity "
            f"{classification.get('complexity')}/10"
            + (", speed matters" if classification.get("requires_speed") else "")
            + marked
        )
    proposal = pending_phase_proposal(ctx)
    if proposal:
        lines.append(
            f"The {proposal.get('proposed_by')} specialist proposes moving to the "
            f"{proposal.get('phase')} phase ({proposal.get('reason')}). Decide with "
            "decide_phase_change."
        )
    left = state.budgets.max_steps - state.counters.steps_used
    if left <= 2:
        lines.append(f"Only {left} step(s) left: give your final_answer soon.")
    return "\n".join(lines)


def arbiter_system_prompt(ctx: StepContext, tools: Sequence[ToolSpec]) -> str:
    return ctx.template("arbiter.system", arbiter_sections(ctx, tools), role="arbiter")
