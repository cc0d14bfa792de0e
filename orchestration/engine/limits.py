"""Run limits enforced in code, and detection of a model repeating the same call.

Each limit has its own terminal status: ``step_limit``, ``tool_call_limit``, ``token_limit``,
``time_limit``. A call repeated with the same arguments is answered, on its third occurrence,
with a tool result saying so instead of running; if the model keeps repeating it (a fourth time),
the run ends with status ``failed`` and the loop as the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.engine.state import RunState
from orchestration.engine.types import ChatMessage, ToolCallPart

REFUSE_AT = 3  # the third identical call is refused with an explanation
FAIL_AT = 4  # a fourth means the model is stuck: the run fails


@dataclass(frozen=True)
class LimitHit:
    status: str
    reason: str


def limit_before_step(state: RunState, elapsed_seconds: float) -> LimitHit | None:
    """The limit the run has reached before this step may call a model, if any."""
    budgets, used = state.budgets, state.counters
    if used.steps_used >= budgets.max_steps:
        return LimitHit("step_limit", f"the run used its {budgets.max_steps} steps")
    if used.tokens_used >= budgets.max_tokens:
        return LimitHit(
            "token_limit", f"the run used {used.tokens_used} of {budgets.max_tokens} tokens"
        )
    if elapsed_seconds >= budgets.max_wall_seconds:
        return LimitHit(
            "time_limit",
            f"the run took {elapsed_seconds:.0f} s of its {budgets.max_wall_seconds} s",
        )
    if used.tool_calls_used >= budgets.max_tool_calls:
        return LimitHit("tool_call_limit", f"the run made its {budgets.max_tool_calls} tool calls")
    return None


def tool_call_limit(state: RunState, made_this_step: int) -> LimitHit | None:
    """The tool-call limit, if one more call would pass it."""
    used = state.counters.tool_calls_used + made_this_step
    if used >= state.budgets.max_tool_calls:
        return LimitHit(
            "tool_call_limit", f"the run made its {state.budgets.max_tool_calls} tool calls"
        )
    return None


def token_limit_after(state: RunState, tokens_this_step: int) -> LimitHit | None:
    used = state.counters.tokens_used + tokens_this_step
    if used >= state.budgets.max_tokens:
        return LimitHit("token_limit", f"the run used {used} of {state.budgets.max_tokens} tokens")
    return None


def call_signature(name: str, arguments: dict[str, Any]) -> str:
    return name + json.dumps(arguments, sort_keys=True, ensure_ascii=False)


def earlier_calls(history: Sequence[ChatMessage]) -> list[str]:
    """Signatures of every call the arbiter made before this step, in order."""
    return [
        call_signature(call.name, call.arguments)
        for message in history
        if message.role == "assistant"
        for call in message.tool_calls
    ]


@dataclass(frozen=True)
class Repetition:
    """How often a call was made before (this step's earlier calls included)."""

    count: int  # occurrences including this one
    refuse: bool
    fail: bool

    def message(self, name: str) -> str:
        return (
            f"This exact call ({name} with the same arguments) was already made "
            f"{self.count - 1} times; its results are above. Do not repeat it: use those "
            "results, try something different, or give your final_answer."
        )


def repetition(
    call: ToolCallPart, history: Sequence[ChatMessage], earlier_this_step: Sequence[ToolCallPart]
) -> Repetition:
    signature = call_signature(call.name, call.arguments)
    before = earlier_calls(history) + [
        call_signature(other.name, other.arguments) for other in earlier_this_step
    ]
    count = before.count(signature) + 1
    return Repetition(count=count, refuse=count >= REFUSE_AT, fail=count >= FAIL_AT)
