"""Run limits, each with its own terminal status, and repeated-call detection."""

from __future__ import annotations

import json

import pytest

from orchestration.engine.run import step_run
from orchestration.engine.state import Budgets, Counters
from orchestration.engine.types import ChatMessage, ToolCallPart
from orchestration.providers.scripted import tool_call_message as call
from tests.orchestration.engine.doubles import design_state, drive


@pytest.mark.parametrize(
    ("budgets", "counters", "status"),
    [
        (Budgets(max_steps=3), Counters(steps_used=3), "step_limit"),
        (Budgets(max_tokens=1000), Counters(tokens_used=1000), "token_limit"),
        (Budgets(max_wall_seconds=60), Counters(elapsed_seconds=61.0), "time_limit"),
        (Budgets(max_tool_calls=2), Counters(tool_calls_used=2), "tool_call_limit"),
    ],
)
async def test_a_reached_limit_ends_the_run_before_any_model_call(
    journal, models, budgets, counters, status
):
    outcome = await step_run(
        "arbiter", design_state(budgets=budgets, counters=counters), journal, models, {}
    )

    assert (outcome.next, outcome.status) == ("finished", status)
    assert outcome.reason
    assert models.total_calls() == 0


async def test_calls_beyond_the_tool_call_limit_are_not_run(journal, models):
    calls = tuple(
        ToolCallPart(f"c{i}", "consult_coding_specialist", {"query": f"q{i}"}) for i in range(3)
    )
    models.clients["arbiter"].enqueue(ChatMessage("assistant", "", calls))
    models.clients["coding"].enqueue("a0", "a1")
    state = design_state(budgets=Budgets(max_tool_calls=3), counters=Counters(tool_calls_used=1))

    outcome = await step_run("arbiter", state, journal, models, {})

    assert (outcome.status, outcome.reason) == ("tool_call_limit", "the run made its 3 tool calls")
    assert [journal.tool_calls[f"s2:call:c{i}"].status for i in range(3)] == [
        "succeeded",
        "succeeded",
        "rejected",
    ]
    assert len(models.clients["coding"].calls) == 2


async def test_the_token_budget_stops_the_next_step(journal, models):
    from orchestration.engine.types import ModelReply, Usage

    heavy = ModelReply(
        message=call("consult_coding_specialist", {"query": "q"}),
        model="m",
        done_reason="stop",
        usage=Usage(prompt_tokens=900, completion_tokens=200),
    )
    models.clients["arbiter"].enqueue(heavy)
    models.clients["coding"].enqueue("a")

    outcomes = await drive(design_state(budgets=Budgets(max_tokens=1000)), journal, models)

    assert [o.next for o in outcomes] == ["arbiter", "finished"]
    assert outcomes[-1].status == "token_limit"


async def test_the_third_identical_call_is_answered_instead_of_run(journal, models):
    same = {"query": "same question"}
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", same, call_id="r1"),
        call("consult_coding_specialist", same, call_id="r2"),
        call("consult_coding_specialist", same, call_id="r3"),
        call("final_answer", {"answer": "ok"}, call_id="r4"),
    )
    models.clients["coding"].enqueue("a", "b")

    outcomes = await drive(design_state(), journal, models)

    assert outcomes[-1].status == "completed"
    assert len(models.clients["coding"].calls) == 2
    third = json.loads(journal.record("s4:call:r3:result").content)
    assert third["success"] is False
    assert "already made 2 times" in third["error"]
    assert journal.tool_calls["s4:call:r3"].status == "rejected"


async def test_a_model_that_keeps_repeating_a_call_fails_the_run(journal, models):
    same = {"query": "same question"}
    models.clients["arbiter"].enqueue(
        *(call("consult_coding_specialist", same, call_id=f"r{i}") for i in range(4))
    )
    models.clients["coding"].enqueue("a", "b")

    outcomes = await drive(design_state(), journal, models)

    assert (outcomes[-1].next, outcomes[-1].status) == ("finished", "failed")
    assert "looping" in outcomes[-1].reason
    assert len(models.clients["coding"].calls) == 2


async def test_a_final_answer_beside_other_calls_ends_the_run_without_running_them(journal, models):
    both = (
        ToolCallPart("a", "consult_coding_specialist", {"query": "q"}),
        ToolCallPart("b", "final_answer", {"answer": "done"}),
    )
    models.clients["arbiter"].enqueue(ChatMessage("assistant", "", both))

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert (outcome.status, outcome.final_answer) == ("completed", "done")
    assert journal.tool_calls["s2:call:a"].status == "rejected"
    assert models.clients["coding"].calls == []


async def test_a_fourth_specialist_model_is_refused_by_max_models(journal, models):
    from orchestration.engine.state import Policy

    calls = tuple(
        ToolCallPart(role, f"consult_{role}_specialist", {"query": "q"})
        for role in ("coding", "reasoning", "analysis")
    )
    models.clients["arbiter"].enqueue(ChatMessage("assistant", "", calls))
    models.clients["coding"].enqueue("a")
    models.clients["reasoning"].enqueue("b")
    state = design_state(policy=Policy(max_models_per_conversation=2))

    await step_run("arbiter", state, journal, models, {})

    assert journal.tool_calls["s2:call:analysis"].status == "rejected"
    error = json.loads(journal.record("s2:call:analysis:result").content)["error"]
    assert "at most 2 specialist models" in error
    assert models.clients["analysis"].calls == []


async def test_a_non_retryable_model_error_fails_the_run_and_a_retryable_one_is_raised(
    journal, models
):
    from orchestration.engine.errors import ModelNotFound, ServerBusy

    models.clients["arbiter"].enqueue(ModelNotFound("no such model", status=404))
    outcome = await step_run("arbiter", design_state(), journal, models, {})
    assert (outcome.status, outcome.next) == ("failed", "finished")
    assert "no such model" in outcome.reason

    models.clients["arbiter"].enqueue(ServerBusy("busy", status=503))
    with pytest.raises(ServerBusy):
        await step_run("arbiter", design_state(step_number=3), journal, models, {})


async def test_a_rerun_of_the_step_that_caught_a_loop_still_ends_the_run(journal, models):
    same = {"query": "same question"}
    models.clients["arbiter"].enqueue(
        *(call("consult_coding_specialist", same, call_id=f"r{i}") for i in range(4))
    )
    models.clients["coding"].enqueue("a", "b")
    outcomes = await drive(design_state(), journal, models)
    last_state = design_state(step_number=5, arbiter_history=_history(journal, 5))

    again = await step_run("arbiter", last_state, journal, models, {})

    assert again == outcomes[-1]
    assert again.status == "failed"


def _history(journal, step_number):
    from tests.orchestration.engine.doubles import history_for_step

    return history_for_step(journal, step_number)
