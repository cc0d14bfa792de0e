"""Prompt templates, token estimates, splitting over-long prompts, truncation detection."""

from __future__ import annotations

from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator

from orchestration.engine.modelcall import StepContext, model_turn
from orchestration.engine.prompt_defaults import PROMPT_DEFAULTS
from orchestration.engine.prompts import (
    estimate_tokens,
    render,
    split_text,
    template_lookup,
    truncation_suspected,
)
from orchestration.engine.run import step_run
from orchestration.engine.state import Counters
from orchestration.engine.tools import arbiter_tools, specialist_tools
from orchestration.engine.types import ChatMessage, ModelReply, ToolSpec, Usage
from tests.orchestration.engine.doubles import DESIGN_SPECIALISTS, design_state, scripted_models

TEMPLATE = """You are a {expertise_level} Python developer.

{complexity_instructions}

TASK: {task_description}

{context_section}

{tools_section}

{examples_section}"""


def test_empty_sections_disappear_with_their_lines_and_blank_lines_do_not_pile_up():
    text = render(TEMPLATE, {"expertise_level": "senior", "task_description": "parse CSV"})

    assert text == "You are a senior Python developer.\n\nTASK: parse CSV"


def test_filled_sections_keep_their_layout():
    text = render(
        TEMPLATE,
        {
            "expertise_level": "junior",
            "task_description": "x",
            "tools_section": "Tools:\n- a",
        },
    )

    assert text == "You are a junior Python developer.\n\nTASK: x\n\nTools:\n- a"


def test_literal_json_braces_are_not_placeholders():
    assert render('Reply {"name": "x"} for {who}', {"who": "me"}) == 'Reply {"name": "x"} for me'


def test_a_phase_specific_template_overrides_the_general_one():
    templates = {"arbiter.system": "general", "arbiter.system.review": "for review"}

    assert template_lookup(templates, "arbiter.system", phase="review") == "for review"
    assert template_lookup(templates, "arbiter.system", phase="planning") == "general"
    assert template_lookup({}, "arbiter.role", phase="review") == (
        PROMPT_DEFAULTS["arbiter.role.review"].body
    )
    assert (
        template_lookup(
            {"arbiter.role.m1": "model one"}, "arbiter.role", phase="review", model="m1"
        )
        == "model one"
    )


def test_an_unknown_template_key_raises():
    with pytest.raises(KeyError):
        template_lookup({}, "nothing.here")


def test_every_default_template_renders_without_leftover_placeholders():
    for key, default in PROMPT_DEFAULTS.items():
        text = render(default.body, {})
        assert "{" not in text.replace('{"', "").replace("{...}", "").replace(
            "{example_arguments}", ""
        ), key
        assert default.description, key


def test_the_estimate_is_conservative_and_counts_tools():
    messages = [ChatMessage("user", "x" * 300)]
    tool = ToolSpec("t", "d" * 300, {"type": "object"})

    plain = estimate_tokens(messages)
    with_tools = estimate_tokens(messages, [tool])

    assert plain >= 100  # 300 characters at 3 per token, plus overheads
    assert with_tools - plain >= 100


def test_split_text_cuts_at_paragraphs_and_keeps_every_piece_small():
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 40 for i in range(10))

    pieces = split_text(text, 100)

    assert len(pieces) > 1
    assert all(len(piece) <= 300 for piece in pieces)
    assert " ".join(pieces).split() == text.split()


@pytest.mark.parametrize(
    ("estimated", "actual", "window", "suspected"),
    [
        (3000, 2400, 8192, False),  # tokenizer counts fewer than our conservative estimate
        (3000, 900, 8192, True),  # far fewer: the start of the prompt was cut
        (9000, 8192, 8192, True),  # beyond the window and the server still answered
        (100, 20, 8192, False),  # small prompts: overheads dominate, no alarm
        (3000, None, 8192, False),  # the server did not say
    ],
)
def test_truncation_is_suspected_only_when_the_server_counted_far_less(
    estimated, actual, window, suspected
):
    assert truncation_suspected(estimated, actual, window) is suspected


async def test_a_suspected_truncation_is_recorded_on_the_message(journal, models):
    reply = ModelReply(
        message=ChatMessage("assistant", "hm"),
        model="m",
        done_reason="stop",
        usage=Usage(prompt_tokens=50, completion_tokens=2),
    )
    models.clients["analysis"].enqueue(reply)
    ctx = StepContext(design_state(), journal, models)

    await model_turn(
        ctx,
        role="analysis",
        key="k",
        thread_key="t",
        messages=[ChatMessage("user", "long input " * 400)],
    )

    record = journal.record("k")
    assert record.truncation_suspected is True
    assert record.estimated_prompt_tokens > 1000


async def test_a_prompt_beyond_the_context_window_goes_in_parts_that_build_on_each_other(
    journal,
):
    specialists = dict(DESIGN_SPECIALISTS)
    specialists["analysis"] = replace(specialists["analysis"], context_window=1024)
    models = scripted_models(specialists)
    models.clients["analysis"].enqueue("note one", "note two", "final answer")
    ctx = StepContext(design_state(specialists=specialists), journal, models)
    document = "\n\n".join(f"Section {i}: " + "data " * 120 for i in range(6))

    turn = await model_turn(
        ctx,
        role="analysis",
        key="k",
        thread_key="t",
        messages=[ChatMessage("system", "You analyse."), ChatMessage("user", document)],
    )

    calls = models.clients["analysis"].calls
    assert turn.content == "final answer"
    assert len(calls) == 3
    for request in calls:
        assert estimate_tokens(request.messages) <= 1024 - 256
    assert "Part 1 of" in calls[0].messages[-1].content
    assert "note one" in calls[1].messages[-1].content  # the next part builds on the notes
    assert "Your notes from parts" in calls[-1].messages[-1].content
    assert journal.record("k:part1:prompt").role == "user"
    assert journal.record("k").content == turn.content


def test_the_arbiter_sees_one_consult_tool_per_specialist_and_valid_schemas():
    tools = arbiter_tools(design_state())

    names = [tool.name for tool in tools]
    assert names == [
        "consult_coding_specialist",
        "consult_reasoning_specialist",
        "consult_analysis_specialist",
        "consult_interpreter_specialist",
        "start_multi_model_conversation",
        "escalate_to_user",
        "reinterpret_with_functiongemma",
        "decide_phase_change",
        "final_answer",
    ]
    for tool in [*tools, *specialist_tools(design_state())]:
        Draft202012Validator.check_schema(tool.parameters)
    consult = tools[0].parameters
    assert consult["required"] == ["query"] and set(consult["properties"]) == {"query", "context"}


def test_only_allowed_specialists_are_offered_and_synthesis_once_there_are_answers():
    history = (
        ChatMessage("user", "task"),
        ChatMessage(
            "tool", '{"success": true}', tool_call_id="c", tool_name="consult_coding_specialist"
        ),
    )
    state = design_state(allowed_specialists=("coding",), arbiter_history=history)

    names = [tool.name for tool in arbiter_tools(state)]

    assert [n for n in names if n.startswith("consult_")] == ["consult_coding_specialist"]
    assert "synthesize_responses" in names
    assert "start_multi_model_conversation" not in names  # one specialist cannot converse


async def test_worked_examples_are_added_when_recent_calls_failed(journal, models):
    models.clients["arbiter"].enqueue("ok")
    state = design_state(
        recent_failures=("consult_coding_specialist: 'query' is required",),
        counters=Counters(steps_used=19),
    )

    await step_run("arbiter", state, journal, models, {})

    system = models.clients["arbiter"].calls[0].messages[0].content
    assert "Your recent tool calls could not be used:" in system
    assert '{"name": "consult_coding_specialist", "arguments": {"query":' in system
    assert "Only 1 step(s) left" in system


async def test_an_operator_template_override_is_used_for_the_arbiter(journal, models):
    models.clients["arbiter"].enqueue("ok")
    state = design_state(templates={"arbiter.system.planning": "Plan well. {phase}"})

    await step_run("arbiter", state, journal, models, {})

    assert models.clients["arbiter"].calls[0].messages[0].content == "Plan well. planning"
