"""The arbiter step end to end with scripted models: tools, concurrency, waits, replay."""

from __future__ import annotations

import json

from orchestration.engine.run import step_run
from orchestration.engine.types import ModelReply, Usage
from orchestration.providers.scripted import tool_call_message as call
from tests.orchestration.engine.doubles import design_state, drive, history_for_step


def result_of(journal, key: str) -> dict:
    return json.loads(journal.record(f"{key}:result").content)


async def test_consult_then_final_answer_completes_the_run(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "Reverse a string in Python?"}, call_id="c1"),
        call("final_answer", {"answer": "Use s[::-1]."}, call_id="c2"),
    )
    models.clients["coding"].enqueue("Use slicing: s[::-1].\nReasoning: slices copy backwards.")

    outcomes = await drive(design_state(), journal, models)

    assert [o.next for o in outcomes] == ["arbiter", "finished"]
    assert (outcomes[-1].status, outcomes[-1].final_answer) == ("completed", "Use s[::-1].")
    result = result_of(journal, "s2:call:c1")
    assert result == {
        "tool": "consult_coding_specialist",
        "specialist": "coding",
        "success": True,
        "response": "Use slicing: s[::-1].",
        "reasoning": "slices copy backwards.",
    }
    assert journal.status_history["s2:call:c1"] == ["proposed", "running", "succeeded"]
    assert journal.status_history["s3:call:c2"] == ["proposed", "running", "succeeded"]


async def test_the_specialist_sees_only_its_system_prompt_query_and_passed_context(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_reasoning_specialist", {"query": "Is it O(n)?", "context": "s is a str"})
    )
    models.clients["reasoning"].enqueue("Yes.")

    await step_run("arbiter", design_state(), journal, models, {})

    request = models.clients["reasoning"].calls[0]
    assert [m.role for m in request.messages] == ["system", "user"]
    assert "reasoning specialist" in request.messages[0].content
    assert request.messages[1].content == "Is it O(n)?\n\nContext:\ns is a str"
    assert [t.name for t in request.tools] == ["propose_phase_change"]


async def test_full_history_is_shared_with_a_specialist_when_the_policy_says_so(journal, models):
    from orchestration.engine.state import Policy

    models.clients["arbiter"].enqueue(call("consult_analysis_specialist", {"query": "Check it"}))
    models.clients["analysis"].enqueue("Fine.")
    state = design_state(policy=Policy(include_full_history=True))

    await step_run("arbiter", state, journal, models, {})

    assert "Conversation so far:\nTask: Write a function" in (
        models.clients["analysis"].calls[0].messages[1].content
    )


async def test_the_arbiter_reply_is_recorded_before_its_calls_and_tokens_stream(journal, models):
    reply = ModelReply(
        message=call("final_answer", {"answer": "done"}),
        model="qwen2.5:14b",
        done_reason="stop",
        usage=Usage(prompt_tokens=120, completion_tokens=30),
    )
    models.clients["arbiter"].enqueue(reply)

    await step_run("arbiter", design_state(), journal, models, {})

    keys = journal.ordered_keys()
    assert keys.index("s2:arbiter:reply") < keys.index("s2:call:call_final_an:result")
    assert journal.record("s2:arbiter:reply").usage.total_tokens == 150
    assert journal.conversation["tokens_used"] == 150


async def test_streamed_text_reaches_the_journal_under_the_reply_key(journal, models):
    models.clients["arbiter"].enqueue("The answer is 42, plainly.")

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert "".join(t for k, _, t in journal.deltas if k == "s2:arbiter:reply") == (
        "The answer is 42, plainly."
    )
    assert (outcome.status, outcome.final_answer) == ("completed", "The answer is 42, plainly.")


async def test_independent_consults_run_concurrently_and_results_follow_call_order(journal):
    from tests.orchestration.engine.doubles import scripted_models

    models = scripted_models()
    models.clients["coding"].latency_s = 0.2
    models.clients["reasoning"].latency_s = 0.2
    from orchestration.engine.types import ChatMessage, ToolCallPart

    both = ChatMessage(
        "assistant",
        "",
        (
            ToolCallPart("a", "consult_coding_specialist", {"query": "code?"}),
            ToolCallPart("b", "consult_reasoning_specialist", {"query": "why?"}),
        ),
    )
    models.clients["arbiter"].enqueue(both)
    models.clients["coding"].enqueue("code")
    models.clients["reasoning"].enqueue("because")
    import time

    started = time.perf_counter()
    await step_run("arbiter", design_state(), journal, models, {})
    took = time.perf_counter() - started

    assert took < 0.35  # two 0.2 s calls at once, not one after the other
    keys = journal.ordered_keys()
    assert keys.index("s2:call:a:result") < keys.index("s2:call:b:result")


async def test_the_system_prompt_is_recorded_only_when_it_changes(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "one"}, call_id="x1"),
        call("consult_coding_specialist", {"query": "two"}, call_id="x2"),
        call("final_answer", {"answer": "ok"}, call_id="x3"),
    )
    models.clients["coding"].enqueue("1", "2")

    await drive(design_state(), journal, models)

    system_keys = [k for k in journal.ordered_keys() if k.startswith("arbiter:system:")]
    # step 2 has no specialist answers yet; from step 3 on synthesize_responses is offered
    assert len(system_keys) == 2


async def test_a_rerun_after_a_crash_calls_no_model_again_and_duplicates_nothing(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="c1")
    )
    models.clients["coding"].enqueue("answer")
    state = design_state()
    first = await step_run("arbiter", state, journal, models, {})
    calls_before, writes_before = models.total_calls(), journal.writes
    statuses_before = dict(journal.status_history)

    again = await step_run("arbiter", state, journal, models, {})

    assert again == first
    assert models.total_calls() == calls_before
    assert journal.writes == writes_before
    assert dict(journal.status_history) == statuses_before


async def test_a_crash_between_consult_reply_and_result_resumes_without_a_new_model_call(
    journal, models
):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="c1")
    )
    models.clients["coding"].enqueue("answer")
    state = design_state()
    await step_run("arbiter", state, journal, models, {})
    # Simulate a crash after the specialist replied: the result and the final status are lost.
    del journal.messages["s2:call:c1:result"]
    from dataclasses import replace

    journal.tool_calls["s2:call:c1"] = replace(journal.tool_calls["s2:call:c1"], status="running")
    calls_before = models.total_calls()

    outcome = await step_run("arbiter", state, journal, models, {})

    assert outcome.next == "arbiter"
    assert models.total_calls() == calls_before
    assert result_of(journal, "s2:call:c1")["response"] == "answer"
    assert journal.tool_calls["s2:call:c1"].status == "succeeded"


async def test_history_for_the_next_step_pairs_calls_with_their_results(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="k")
    )
    models.clients["coding"].enqueue("answer")
    await drive(design_state(), journal, models, max_steps=1)

    history = history_for_step(journal, 3)

    assert [m.role for m in history] == ["user", "assistant", "tool"]
    assert history[1].tool_calls[0].name == "consult_coding_specialist"
    assert history[2].tool_call_id == "k"
