"""Run one step: claim it, hand it to the engine with a lease kept alive, commit the outcome.

This is where sync (Celery, the CLI) meets async (engine, providers): one ``async_to_sync`` per
step. Database work inside the engine goes through ``sync_to_async`` back onto this thread, and
no transaction is open while a model is called.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from asgiref.sync import async_to_sync, sync_to_async

from orchestration.engine.ports import StepOutcome
from orchestration.engine.run import step_run
from orchestration.models import Conversation, Step
from orchestration.providers.http import close_clients
from orchestration.services.journal import DatabaseRunJournal, LeaseLost, RunCancelled
from orchestration.services.model_directory import DatabaseModelDirectory
from orchestration.services.run_state import run_state_load
from orchestration.services.steps import (
    renew_every_seconds,
    step_claim,
    step_complete,
    step_fail,
    step_lease_renew,
    step_release_cancelled,
)

logger = logging.getLogger(__name__)

StepResult = Literal["done", "not_claimed", "lease_lost", "cancelled", "retrying"]


def step_execute(*, step_id: int, owner: str) -> StepResult:
    """Claim and run the step. Returns what happened; never raises for model or engine errors
    (they are recorded on the step and retried, then fail the run)."""
    step = step_claim(step_id=step_id, owner=owner)
    if step is None:
        return "not_claimed"
    try:
        state = run_state_load(step)
        models = DatabaseModelDirectory(state.specialists)
        journal = DatabaseRunJournal(
            conversation_id=step.conversation_id, step_id=step.pk, owner=owner
        )
        outcome = async_to_sync(_run_leased)(step, owner, state, journal, models)
    except LeaseLost:
        logger.warning("step %s: lease lost by %s; another worker has it", step_id, owner)
        return "lease_lost"
    except RunCancelled:
        step_release_cancelled(step_id=step_id, owner=owner)
        return "cancelled"
    except Exception as exc:
        logger.exception("step %s (%s) failed", step_id, step.kind)
        try:
            step_fail(step_id=step_id, owner=owner, error=f"{type(exc).__name__}: {exc}")
        except LeaseLost:
            return "lease_lost"
        return "retrying"
    try:
        step_complete(step_id=step_id, owner=owner, outcome=outcome)
    except LeaseLost:
        logger.warning("step %s: finished but lease lost by %s; result discarded", step_id, owner)
        return "lease_lost"
    return "done"


async def _run_leased(step: Step, owner: str, state, journal, models) -> StepOutcome:
    work = asyncio.ensure_future(step_run(step.kind, state, journal, models, dict(step.payload)))
    lost: list[Exception] = []

    async def keep_lease() -> None:
        while not work.done():
            await asyncio.sleep(renew_every_seconds())
            if not await sync_to_async(step_lease_renew)(step_id=step.pk, owner=owner):
                lost.append(await sync_to_async(_why_lost)(step.conversation_id, owner))
                work.cancel()
                return

    keeper = asyncio.ensure_future(keep_lease())
    try:
        return await work
    except asyncio.CancelledError:
        if lost:
            raise lost[0] from None
        raise
    finally:
        keeper.cancel()
        await close_clients()


def _why_lost(conversation_id: int, owner: str) -> Exception:
    status = Conversation.objects.values_list("status", flat=True).get(pk=conversation_id)
    if status in Conversation.TERMINAL:
        return RunCancelled(f"conversation {conversation_id} is {status}")
    return LeaseLost(f"lease lost by {owner}")
