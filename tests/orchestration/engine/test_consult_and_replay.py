"""Specialist consults in detail, the step kinds, the engine's purity, and replays of steps
that did more than one model call."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from orchestration.engine.consult import split_reasoning
from orchestration.engine.errors import ConnectFailed
from orchestration.engine.run import step_run
from orchestration.engine.types import ChatMessage, ToolCallPart
from orchestration.providers.scripted import tool_call_message as call
from tests.orchestration.engine.doubles import DESIGN_SPECIALISTS, design_state, scripted_models


def result_of(journal, key: str) -> dict:
    return json.loads(journal.record(f"{key}:result").content)


def test_reasoning_comes_from_think_blocks_and_a_final_reasoning_section():
    assert split_reasoning("<think>weigh options</think>Use a dict.") == (
        "Use a dict.",
        "weigh options",
    )
    assert split_reasoning("Use a dict.\n\n**Reasoning:** O(1) lookups.") == (
        "Use a dict.",
        "O(1) lookups.",
    )
    assert split_reasoning("Just the answer.") == ("Just the answer.", "")


async def test_a_failed_specialist_call_is_an_unsuccessful_tool_result(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="c")
    )
    models.clients["coding"].enqueue(ConnectFailed("refused"))

    outcome = await step_run("arbiter", design_state(), journal, models, {})

    assert outcome.next == "arbiter"
    result = result_of(journal, "s2:call:c")
    assert (result["success"], result["specialist"]) == (False, "coding")
    assert "refused" in result["error"]
    assert journal.tool_calls["s2:call:c"].status == "failed"


async def test_a_role_and_phase_specific_specialist_template_is_used(journal, models):
    templates = {"specialist.coding.system.planning": "Coder {role}, phase {phase}."}
    models.clients["arbiter"].enqueue(call("consult_coding_specialist", {"query": "q"}))
    models.clients["coding"].enqueue("a")

    await step_run("arbiter", design_state(templates=templates), journal, models, {})

    assert models.clients["coding"].calls[0].messages[0].content == "Coder coding, phase planning."


async def test_the_consult_thread_is_its_own_and_points_back_to_the_arbiter(journal, models):
    models.clients["arbiter"].enqueue(
        call("consult_coding_specialist", {"query": "q"}, call_id="c")
    )
    models.clients["coding"].enqueue("a")

    await step_run("arbiter", design_state(), journal, models, {})

    thread = journal.thread("consult:s2:call:c")
    assert [(m.role, m.sender, m.recipient) for m in thread] == [
        ("system", "engine", "coding"),
        ("user", "arbiter", "coding"),
        ("assistant", "coding", "arbiter"),
    ]
    assert {m.parent_thread_key for m in thread} == {"arbiter"}


async def test_a_classifier_that_fails_leaves_a_marked_default(journal, models):
    models.clients["analysis"].enqueue(ConnectFailed("refused"))

    outcome = await step_run("classify", design_state(step_number=1), journal, models, {})

    assert outcome.next == "arbiter"
    assert journal.conversation["classification"]["default"] is True
    assert "refused" in journal.conversation["classification"]["reason"]


async def test_an_unknown_step_kind_is_refused(journal, models):
    with pytest.raises(ValueError, match="unknown step kind"):
        await step_run("dance", design_state(), journal, models, {})


async def test_a_tool_step_for_an_unrecorded_call_fails_the_run(journal, models):
    outcome = await step_run(
        "tool", design_state(), journal, models, {"tool_call_key": "s9:call:nope"}
    )

    assert (outcome.next, outcome.status) == ("finished", "failed")


def test_the_engine_imports_nothing_from_django():
    code = (
        "import sys, pkgutil, importlib, orchestration.engine as e\n"
        "for m in pkgutil.walk_packages(e.__path__, 'orchestration.engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'django'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def _rerun_changes_nothing(state, journal, models, kind="arbiter", payload=None):
    first = await step_run(kind, state, journal, models, payload or {})
    calls, writes = models.total_calls(), journal.writes
    statuses = {key: list(value) for key, value in journal.status_history.items()}
    escalations = dict(journal.escalations)

    again = await step_run(kind, state, journal, models, payload or {})

    assert again == first
    assert models.total_calls() == calls
    assert journal.writes == writes
    assert {key: list(value) for key, value in journal.status_history.items()} == statuses
    assert journal.escalations == escalations
    return first


async def test_replaying_a_mediated_conversation_repeats_no_model_call(journal, models):
    models.clients["arbiter"].enqueue(
        call(
            "start_multi_model_conversation",
            {"participants": ["coding", "reasoning"], "topic": "t", "max_turns": 2},
        ),
        '{"action": "modify", "text": "short"}',
        '{"action": "pass"}',
    )
    models.clients["coding"].enqueue("long text")
    models.clients["reasoning"].enqueue("reply")

    await _rerun_changes_nothing(design_state(), journal, models)


async def test_replaying_a_step_whose_call_was_repaired_by_models_repeats_nothing(journal, models):
    models.clients["arbiter"].enqueue(call("consult_coding_specialist", {"q": 1}), "nope")
    models.clients["interpreter"].enqueue("no idea")
    models.clients["reasoning"].enqueue(call("request_user_input", {"question": "What now?"}))

    outcome = await _rerun_changes_nothing(design_state(), journal, models)

    assert outcome.next == "wait_for_user"


async def test_replaying_an_approval_wait_and_the_approved_tool_step_repeats_nothing(journal):
    specialists = dict(DESIGN_SPECIALISTS)
    specialists["coding"] = replace(specialists["coding"], requires_approval=True)
    models = scripted_models(specialists)
    pair = (
        ToolCallPart("a", "consult_coding_specialist", {"query": "q"}),
        ToolCallPart("b", "consult_analysis_specialist", {"query": "q"}),
    )
    models.clients["arbiter"].enqueue(ChatMessage("assistant", "", pair))
    models.clients["analysis"].enqueue("x")
    models.clients["coding"].enqueue("y")
    state = design_state(specialists=specialists)

    waiting = await _rerun_changes_nothing(state, journal, models)
    approved = await _rerun_changes_nothing(
        replace(state, step_number=3),
        journal,
        models,
        kind="tool",
        payload={"tool_call_key": "s2:call:a", "arguments": {"query": "q"}},
    )

    assert (waiting.next, approved.next) == ("wait_for_approval", "arbiter")
    assert result_of(journal, "s2:call:a")["response"] == "y"
