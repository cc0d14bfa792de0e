"""Each stage of the repair cascade on arbiter replies, with scripted models."""

from __future__ import annotations

import json

import pytest

from orchestration.engine.errors import ServerError
from orchestration.engine.run import step_run
from orchestration.engine.types import ChatMessage, ModelReply, ToolCallPart
from orchestration.providers.scripted import tool_call_message as call
from tests.orchestration.engine.doubles import DESIGN_RULES, design_state

QWEN_TAGGED = (
    '<tool_call>\n{"name": "final_answer", "arguments": {"answer": "tagged"}}\n</tool_call>'
)


def stages(journal, key: str) -> list[str]:
    return [record["stage"] for record in journal.tool_calls[key].repairs]


def only_call(journal):
    [record] = [r for r in journal.tool_calls.values() if r.status != "invalid"]
    return record


def no_interpreter_rule():
    return tuple(rule for rule in DESIGN_RULES if rule.order != 4)


async def test_a_call_written_as_qwen_tags_is_extracted_and_run(journal, models):
    models.clients["arbiter"].enqueue(QWEN_TAGGED)

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert (outcome.status, outcome.final_answer) == ("completed", "tagged")
    record = only_call(journal)
    assert stages(journal, record.key)[0] == "extract_tool_call_tags"
    assert models.total_calls() == 1


async def test_prose_is_an_answer_and_never_a_call(journal, models):
    models.clients["arbiter"].enqueue(
        'I would call final_answer with {"answer": "x"} but here is my answer: 7.'
    )

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert outcome.status == "completed"
    assert outcome.final_answer.endswith("here is my answer: 7.")
    assert journal.tool_calls == {}
    assert models.total_calls() == 1


async def test_a_bad_call_is_fixed_by_a_constrained_reask_without_tools(journal, models):
    state = design_state(rules=no_interpreter_rule())
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"question": "wrong key"}),
        '{"name": "consult_coding_specialist", "arguments": {"query": "fixed"}}',
    )
    models.clients["coding"].enqueue("done")

    await step_run("arbiter", state, journal, models, {})

    reask = models.clients["arbiter"].calls[1]
    assert reask.tools == ()
    assert reask.response_format["properties"]["name"]["enum"] == ["consult_coding_specialist"]
    assert "'query' is a required property" in reask.messages[-1].content
    record = only_call(journal)
    assert record.arguments == {"query": "fixed"}
    assert stages(journal, record.key)[-1] == "reask"
    assert journal.tool_calls[record.key].repairs[-1]["model"] == "qwen2.5:14b"
    assert models.clients["coding"].calls[0].messages[1].content == "fixed"


async def test_the_interpreter_corrects_a_call_the_reask_could_not(journal, models):
    state = design_state(rules=no_interpreter_rule())
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"question": "wrong key"}),
        "sorry, I cannot",
    )
    models.clients["interpreter"].enqueue(
        "<start_function_call>call:consult_coding_specialist{query:<escape>fixed<escape>}"
        "<end_function_call>"
    )
    models.clients["coding"].enqueue("done")

    await step_run("arbiter", state, journal, models, {})

    record = only_call(journal)
    assert record.arguments == {"query": "fixed"}
    assert stages(journal, record.key)[-2:] == ["reask", "interpreter.clarify_failed_call"]
    interpreter_request = models.clients["interpreter"].calls[0]
    assert "This function call failed" in interpreter_request.messages[1].content
    assert interpreter_request.tools[0].name == "consult_coding_specialist"


async def test_the_routing_rule_sends_an_unclear_call_to_the_interpreter_first(journal, models):
    models.clients["arbiter"].enqueue(call("consult_coding_specialist", {"question": "x"}))
    models.clients["interpreter"].enqueue(
        call("consult_coding_specialist", {"query": "via interpreter"})
    )
    models.clients["coding"].enqueue("done")

    await step_run("arbiter", design_state(), journal, models, {})

    record = only_call(journal)
    trail = journal.tool_calls[record.key].repairs
    routing = next(r for r in trail if r["stage"] == "routing")
    assert routing["note"] == "route to interpreter: response.unclear_tool_calls"
    assert routing["after"]["rule_order"] == 4
    assert len(models.clients["arbiter"].calls) == 1  # no re-ask was needed


async def test_an_empty_reply_while_tools_were_offered_is_a_dropped_call(journal, models):
    empty = ModelReply(message=ChatMessage("assistant", ""), model="m", done_reason="stop")
    models.clients["arbiter"].enqueue(empty)
    models.clients["interpreter"].enqueue(call("final_answer", {"answer": "recovered"}))

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert (outcome.status, outcome.final_answer) == ("completed", "recovered")
    record = only_call(journal)
    assert "dropped_call" in stages(journal, record.key)
    assert "an empty reply" in models.clients["interpreter"].calls[0].messages[1].content


async def _fail_reask_and_interpreter(models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"question": "bad"}), "still bad"
    )
    models.clients["interpreter"].enqueue("no idea")


async def test_diagnosis_with_a_corrected_call_runs_that_call(journal, models):
    await _fail_reask_and_interpreter(models)
    corrected = {
        "changes": "use query",
        "corrected_call": {
            "name": "consult_coding_specialist",
            "arguments": {"query": "diagnosed"},
        },
    }
    models.clients["reasoning"].enqueue(call("suggest_retry_with_changes", corrected))
    models.clients["coding"].enqueue("done")

    await step_run("arbiter", design_state(rules=no_interpreter_rule()), journal, models, {})

    record = only_call(journal)
    assert record.arguments == {"query": "diagnosed"}
    assert stages(journal, record.key)[-1] == "diagnosis"
    assert journal.tool_calls[record.key].repairs[-1]["model"] == "qwen2.5:32b"


async def test_diagnosis_suggesting_another_approach_becomes_feedback_for_the_arbiter(
    journal, models
):
    await _fail_reask_and_interpreter(models)
    models.clients["reasoning"].enqueue(
        call("suggest_alternative_approach", {"approach": "ask the analysis specialist"})
    )

    outcome = await step_run(
        "arbiter", design_state(rules=no_interpreter_rule()), journal, models, {}
    )

    assert outcome.next == "arbiter"
    feedback = journal.record("s2:arbiter:feedback")
    assert (feedback.role, feedback.thread_key) == ("user", "arbiter")
    assert "ask the analysis specialist" in feedback.content
    [invalid] = journal.tool_calls.values()
    assert invalid.status == "invalid"
    error = json.loads(journal.record(f"{invalid.key}:result").content)["error"]
    assert "'query' is a required property" in error


async def test_diagnosis_asking_for_user_input_opens_a_question(journal, models):
    await _fail_reask_and_interpreter(models)
    models.clients["reasoning"].enqueue(
        call("request_user_input", {"question": "Which language?", "options": ["py", "go"]})
    )

    outcome = await step_run(
        "arbiter", design_state(rules=no_interpreter_rule()), journal, models, {}
    )

    assert outcome.next == "wait_for_user"
    [escalation] = journal.escalations.values()
    assert (escalation.kind, escalation.question, escalation.options) == (
        "question",
        "Which language?",
        ("py", "go"),
    )


async def test_diagnosis_suggesting_a_phase_change_changes_the_phase(journal, models):
    await _fail_reask_and_interpreter(models)
    models.clients["reasoning"].enqueue(
        call("suggest_phase_change", {"phase": "implementation", "reason": "plan is clear"})
    )

    await step_run("arbiter", design_state(rules=no_interpreter_rule()), journal, models, {})

    assert journal.conversation["phase"] == "implementation"


async def test_when_diagnosis_fails_the_operator_is_asked(journal, models):
    await _fail_reask_and_interpreter(models)
    models.clients["reasoning"].enqueue(ServerError("runner crashed", status=500))

    outcome = await step_run(
        "arbiter", design_state(rules=no_interpreter_rule()), journal, models, {}
    )

    assert outcome.next == "wait_for_user"
    [escalation] = journal.escalations.values()
    assert "could not be turned into a valid tool call" in escalation.question
    record = journal.tool_calls[escalation.tool_call_key]
    assert [r["stage"] for r in record.repairs][-2:] == ["diagnosis", "escalation"]


async def test_a_reply_cut_off_at_the_length_limit_is_not_run_as_is(journal, models):
    cut = ModelReply(
        message=ChatMessage(
            "assistant", "", (ToolCallPart("c", "final_answer", {"answer": "half"}),)
        ),
        model="m",
        done_reason="length",
    )
    models.clients["arbiter"].enqueue(
        cut, '{"name": "final_answer", "arguments": {"answer": "whole"}}'
    )

    outcome = await step_run(
        "arbiter", design_state(rules=no_interpreter_rule()), journal, models, {}
    )

    assert outcome.final_answer == "whole"


@pytest.mark.parametrize(
    ("suggestion", "arguments", "expected"),
    [
        ("suggest_retry_with_changes", {"changes": "name the query"}, "retrying with changes"),
        ("suggest_rollback", {"reason": "the reply was garbage"}, "rolled back"),
    ],
)
async def test_diagnosis_advice_without_a_call_reaches_the_arbiter_as_feedback(
    journal, models, suggestion, arguments, expected
):
    await _fail_reask_and_interpreter(models)
    models.clients["reasoning"].enqueue(call(suggestion, arguments))

    outcome = await step_run(
        "arbiter", design_state(rules=no_interpreter_rule()), journal, models, {}
    )

    assert outcome.next == "arbiter"
    feedback = journal.record("s2:arbiter:feedback").content
    assert expected in feedback
    assert next(iter(arguments.values())) in feedback


async def test_the_interpreters_own_output_is_validated_and_never_trusted(journal, models):
    models.clients["arbiter"].enqueue(call("consult_coding_specialist", {"q": 1}), "no")
    models.clients["interpreter"].enqueue(call("delete_everything", {"path": "/"}))
    models.clients["reasoning"].enqueue(call("suggest_rollback", {"reason": "unclear"}))

    await step_run("arbiter", design_state(rules=no_interpreter_rule()), journal, models, {})

    [record] = journal.tool_calls.values()
    assert record.status == "invalid"
    interpreted = next(r for r in record.repairs if r["stage"].startswith("interpreter"))
    assert (interpreted["after"], interpreted["note"]) == ([], "no valid call")
    assert models.clients["coding"].calls == []
