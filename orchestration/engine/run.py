"""The step entry point: ``step_run(kind, state, journal, models, payload) -> StepOutcome``.

Kinds: ``classify`` (classify the task, decide the routing, then the arbiter), ``arbiter`` (one
arbiter turn and its tool calls) and ``tool`` (one call an operator approved, whose key and
arguments the payload carries: ``{"tool_call_key", "arguments"}``).

A step may run more than once (a worker died, its lease expired): everything it writes is keyed
(see ``keys``) and looked up first, so a re-run calls no model twice and duplicates nothing.
A model error that another attempt may cure (``retryable``) is raised for the worker to retry
the step; any other ends the run as ``failed`` with the error as the reason.
"""

from __future__ import annotations

from typing import Any

from orchestration.engine.arbiter import arbiter_step
from orchestration.engine.classify import classify_task
from orchestration.engine.dispatch import finished, run_approved
from orchestration.engine.errors import ModelError
from orchestration.engine.modelcall import StepContext
from orchestration.engine.ports import ModelDirectory, RunJournal, StepOutcome
from orchestration.engine.state import RunState

STEP_KINDS = ("classify", "arbiter", "tool")


async def step_run(
    kind: str,
    state: RunState,
    journal: RunJournal,
    models: ModelDirectory,
    payload: dict[str, Any] | None = None,
) -> StepOutcome:
    """Run one step and say what comes next. Raises ``ValueError`` for an unknown kind and
    retryable ``ModelError`` subclasses."""
    ctx = StepContext(state=state, journal=journal, models=models)
    try:
        if kind == "classify":
            await classify_task(ctx)
            return StepOutcome(next="arbiter")
        if kind == "arbiter":
            return await arbiter_step(ctx)
        if kind == "tool":
            return await run_approved(ctx, dict(payload or {}))
    except ModelError as exc:
        if exc.retryable:
            raise
        return finished("failed", f"model call failed: {exc}")
    raise ValueError(f"unknown step kind {kind!r}; known: {', '.join(STEP_KINDS)}")
