"""The arbiter's other tools in runs: phases, escalation, approvals, binding routing,
synthesis and reinterpretation."""

from __future__ import annotations

import json
from dataclasses import replace

from orchestration.engine.run import step_run
from orchestration.engine.state import RuleInfo
from orchestration.engine.types import ChatMessage, ToolCallPart
from orchestration.providers.scripted import tool_call_message as call
from tests.orchestration.engine.doubles import DESIGN_SPECIALISTS, design_state, drive


def result_of(journal, key: str) -> dict:
    return json.loads(journal.record(f"{key}:result").content)


async def test_a_specialist_proposes_a_phase_change_and_the_arbiter_accepts(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_reasoning_specialist", {"query": "Plan?"}, call_id="p1"),
        call(
            "decide_phase_change",
            {"phase": "implementation", "accept": True, "reason": "plan done"},
            call_id="p2",
        ),
        call("final_answer", {"answer": "ok"}, call_id="p3"),
    )
    proposal = ChatMessage(
        "assistant",
        "The plan: reverse with slicing.",
        (
            ToolCallPart(
                "x", "propose_phase_change", {"phase": "implementation", "reason": "plan is ready"}
            ),
        ),
    )
    models.clients["reasoning"].enqueue(proposal)

    outcomes = await drive(design_state(), journal, models)

    assert outcomes[-1].status == "completed"
    consult = result_of(journal, "s2:call:p1")
    assert consult["phase_proposal"] == {
        "phase": "implementation",
        "reason": "plan is ready",
        "proposed_by": "reasoning",
    }
    assert consult["response"] == "The plan: reverse with slicing."
    second_prompt = models.clients["arbiter"].calls[1].messages[0].content
    assert "The reasoning specialist proposes moving to the implementation phase" in second_prompt
    decision = result_of(journal, "s3:call:p2")
    assert (decision["accepted"], decision["previous_phase"], decision["phase_now"]) == (
        True,
        "planning",
        "implementation",
    )
    assert journal.conversation["phase"] == "implementation"
    third_prompt = models.clients["arbiter"].calls[2].messages[0].content
    assert "Current phase: implementation." in third_prompt
    assert "proposes moving" not in third_prompt


async def test_the_arbiter_refuses_a_phase_change_and_the_refusal_is_recorded(journal, models):
    models.clients["arbiter"].enqueue(
        call("decide_phase_change", {"phase": "review", "accept": False, "reason": "too soon"})
    )

    await step_run("arbiter", design_state(), journal, models, {})

    [record] = journal.tool_calls.values()
    decision = json.loads(record.result)
    assert (decision["accepted"], decision["reason"], decision["phase_now"]) == (
        False,
        "too soon",
        "planning",
    )
    assert "phase" not in journal.conversation


async def test_a_specialist_that_only_proposes_is_asked_once_more_for_its_answer(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="c")
    )
    models.clients["coding"].enqueue(
        call("propose_phase_change", {"phase": "review", "reason": "code is done"}),
        "Here is the code.",
    )

    await step_run("arbiter", design_state(), journal, models, {})

    consult = result_of(journal, "s2:call:c")
    assert consult["response"] == "Here is the code."
    assert consult["phase_proposal"]["phase"] == "review"
    follow_up = models.clients["coding"].calls[1].messages
    assert [m.role for m in follow_up] == ["system", "user", "assistant", "tool"]


async def test_escalate_to_user_opens_a_question_and_waits(journal, models):
    models.clients["arbiter"].enqueue(
        call(
            "escalate_to_user",
            {"question": "Python or Go?", "options": ["Python", "Go"]},
            call_id="e",
        )
    )

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert outcome.next == "wait_for_user"
    escalation = journal.escalations["s2:call:e:escalation"]
    assert (escalation.kind, escalation.question, escalation.options, escalation.tool_call_key) == (
        "question",
        "Python or Go?",
        ("Python", "Go"),
        "s2:call:e",
    )
    assert journal.tool_calls["s2:call:e"].status == "running"
    assert "s2:call:e:result" not in journal.messages


async def test_a_specialist_requiring_approval_waits_after_the_other_calls_ran(journal):
    from tests.orchestration.engine.doubles import scripted_models

    specialists = dict(DESIGN_SPECIALISTS)
    specialists["coding"] = replace(specialists["coding"], requires_approval=True)
    models = scripted_models(specialists)
    both = (
        ToolCallPart("a", "consult_coding_specialist", {"query": "write it"}),
        ToolCallPart("b", "consult_analysis_specialist", {"query": "check it"}),
    )
    models.clients["arbiter"].enqueue(ChatMessage("assistant", "", both))
    models.clients["analysis"].enqueue("checked")

    outcome = await step_run("arbiter", design_state(specialists=specialists), journal, models, {})

    assert outcome.next == "wait_for_approval"
    assert journal.tool_calls["s2:call:a"].status == "awaiting_approval"
    assert journal.tool_calls["s2:call:b"].status == "succeeded"
    approval = journal.escalations["s2:call:a:approval"]
    assert approval.kind == "approval"
    assert "the coding specialist requires approval" in approval.question
    assert models.clients["coding"].calls == []

    models.clients["coding"].enqueue("written")
    edited = {"tool_call_key": "s2:call:a", "arguments": {"query": "write it in Go"}}
    after = await step_run(
        "tool", design_state(specialists=specialists, step_number=3), journal, models, edited
    )

    assert after.next == "arbiter"
    assert models.clients["coding"].calls[0].messages[1].content == "write it in Go"
    assert result_of(journal, "s2:call:a")["response"] == "written"
    assert journal.status_history["s2:call:a"] == [
        "proposed",
        "awaiting_approval",
        "running",
        "succeeded",
    ]


async def test_an_operator_edit_that_breaks_the_schema_is_not_run(journal, models):
    specialists = dict(DESIGN_SPECIALISTS)
    specialists["coding"] = replace(specialists["coding"], requires_approval=True)
    models.specialists = specialists
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="a")
    )
    await step_run("arbiter", design_state(specialists=specialists), journal, models, {})

    after = await step_run(
        "tool",
        design_state(specialists=specialists, step_number=3),
        journal,
        models,
        {"tool_call_key": "s2:call:a", "arguments": {"context": "no query"}},
    )

    assert after.next == "arbiter"
    assert journal.tool_calls["s2:call:a"].status == "invalid"
    assert "'query' is a required property" in result_of(journal, "s2:call:a")["error"]
    assert models.clients["coding"].calls == []


async def test_a_routing_rule_requiring_approval_makes_its_specialists_consult_wait(
    journal, models
):
    decision = {
        "rule_order": 2,
        "specialist": "coding",
        "binding": False,
        "requires_approval": True,
        "stated": "route to coding: task.type == 'x'",
    }
    models.clients["arbiter"].enqueue(call("consult_coding_specialist", {"query": "q"}))

    outcome = await step_run(
        "arbiter", design_state(routing_decision=decision), journal, models, {}
    )

    assert outcome.next == "wait_for_approval"
    [approval] = journal.escalations.values()
    assert "routing rule 2 requires approval" in approval.question


async def test_a_binding_rule_redirects_the_first_consult_to_its_specialist(journal, models):
    rules = (RuleInfo(1, "task.type == 'code_generation'", "coding", binding=True),)
    decision = {
        "rule_order": 1,
        "specialist": "coding",
        "binding": True,
        "requires_approval": False,
        "stated": "route to coding: task.type == 'code_generation'",
    }
    models.clients["arbiter"].enqueue(
        call("consult_analysis_specialist", {"query": "first"}, call_id="a1"),
        call("consult_analysis_specialist", {"query": "second"}, call_id="a2"),
        call("final_answer", {"answer": "ok"}, call_id="a3"),
    )
    models.clients["coding"].enqueue("coded")
    models.clients["analysis"].enqueue("analysed")

    await drive(design_state(rules=rules, routing_decision=decision), journal, models)

    first = result_of(journal, "s2:call:a1")
    assert (first["specialist"], first["response"]) == ("coding", "coded")
    assert first["redirected"] == {
        "from": "analysis",
        "to": "coding",
        "rule_order": 1,
        "rule": "route to coding: task.type == 'code_generation'",
    }
    assert journal.tool_calls["s2:call:a1"].repairs[-1]["stage"] == "binding"
    assert result_of(journal, "s3:call:a2")["specialist"] == "analysis"
    assert "This rule is binding" in models.clients["arbiter"].calls[0].messages[0].content


async def test_synthesize_combines_the_answers_so_far(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="c"),
        call("consult_reasoning_specialist", {"query": "q"}, call_id="r"),
        call("synthesize_responses", {"instructions": "be brief"}, call_id="s"),
        "Combined.",  # the synthesis call itself (same arbiter model)
        call("final_answer", {"answer": "ok"}, call_id="f"),
    )
    models.clients["coding"].enqueue("slice it")
    models.clients["reasoning"].enqueue("slicing is O(n)")

    await drive(design_state(), journal, models)

    synthesis = result_of(journal, "s4:call:s")
    assert (synthesis["success"], synthesis["response"], synthesis["combined"]) == (
        True,
        "Combined.",
        2,
    )
    request = models.clients["arbiter"].calls[3].messages[1].content
    assert "1. [coding] slice it" in request and "2. [reasoning] slicing is O(n)" in request
    assert "be brief" in request


async def test_reinterpret_returns_calls_from_the_interpreter_without_running_them(journal, models):
    models.clients["arbiter"].enqueue(
        call("reinterpret_with_functiongemma", {"text": "ask coding how to sort"}, call_id="i")
    )
    models.clients["interpreter"].enqueue(
        call("consult_coding_specialist", {"query": "how to sort"})
    )

    await step_run("arbiter", design_state(), journal, models, {})

    result = result_of(journal, "s2:call:i")
    assert result["calls"] == [
        {"name": "consult_coding_specialist", "arguments": {"query": "how to sort"}}
    ]
    assert models.clients["coding"].calls == []
    prompt = models.clients["interpreter"].calls[0].messages
    assert prompt[0].content == "You can do function calling with the following functions:"
    assert "ask coding how to sort" in prompt[1].content
