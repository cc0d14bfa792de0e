"""Task classification and the routing rules of the design document's YAML."""

from __future__ import annotations

import pytest

from orchestration.engine.classify import parse_classification, route, task_facts
from orchestration.engine.run import step_run
from orchestration.engine.state import RuleInfo
from tests.orchestration.engine.doubles import DESIGN_RULES, design_state


async def test_the_analysis_specialist_classifies_with_a_json_schema(journal, models):
    models.clients["analysis"].enqueue(
        '{"complexity": 9, "type": "reasoning", "requires_speed": false}'
    )

    outcome = await step_run("classify", design_state(step_number=1), journal, models, {})

    assert outcome.next == "arbiter"
    request = models.clients["analysis"].calls[0]
    assert request.tools == ()
    assert request.response_format["properties"]["complexity"]["maximum"] == 10
    assert journal.conversation["classification"] == {
        "complexity": 9,
        "type": "reasoning",
        "requires_speed": False,
        "default": False,
    }
    assert journal.conversation["routing_decision"]["stated"] == (
        "route to reasoning: task.complexity > 7"
    )


async def test_unusable_classifier_output_gives_a_marked_default_with_the_reason(journal, models):
    models.clients["analysis"].enqueue('{"complexity": 42, "type": "poetry"}')

    await step_run("classify", design_state(step_number=1), journal, models, {})

    classification = journal.conversation["classification"]
    assert classification["default"] is True
    assert (classification["complexity"], classification["type"]) == (5, "other")
    assert "42 is greater than the maximum of 10" in classification["reason"]
    assert journal.conversation["routing_decision"] is None


def test_coercible_output_is_accepted_and_extra_keys_are_dropped():
    classification, problem = parse_classification(
        "{'complexity': '3', 'type': 'question', 'requires_speed': 'true', 'mood': 'sunny'}"
    )

    assert problem == ""
    assert classification == {
        "complexity": 3,
        "type": "question",
        "requires_speed": True,
        "default": False,
    }


def test_text_that_is_not_json_falls_back_to_the_default():
    classification, problem = parse_classification("It is a hard one.")

    assert classification["default"] is True
    assert problem.startswith("not JSON")


@pytest.mark.parametrize(
    ("classification", "specialist", "order"),
    [
        ({"complexity": 8, "type": "code_generation", "requires_speed": True}, "reasoning", 1),
        ({"complexity": 5, "type": "code_generation", "requires_speed": True}, "coding", 2),
        ({"complexity": 2, "type": "question", "requires_speed": True}, "analysis", 3),
    ],
)
def test_the_first_design_rule_that_holds_decides(classification, specialist, order):
    decision = route(DESIGN_RULES, task_facts(classification))

    assert (decision["specialist"], decision["rule_order"]) == (specialist, order)
    assert decision["condition"] == DESIGN_RULES[order - 1].condition


def test_no_rule_fires_for_an_ordinary_task():
    facts = task_facts({"complexity": 4, "type": "analysis", "requires_speed": False})

    assert route(DESIGN_RULES, facts) is None


def test_the_unclear_tool_calls_rule_fires_only_on_a_reply_with_unclear_calls():
    facts = task_facts({"complexity": 4, "type": "analysis", "requires_speed": False})

    unclear = route(
        DESIGN_RULES, {**facts, "response.unclear_tool_calls": True}, only_response_rules=True
    )
    clear = route(
        DESIGN_RULES, {**facts, "response.unclear_tool_calls": False}, only_response_rules=True
    )

    assert unclear["stated"] == "route to interpreter: response.unclear_tool_calls"
    assert clear is None


def test_only_response_rules_ignores_task_rules():
    facts = {**task_facts({"complexity": 9}), "response.unclear_tool_calls": True}

    assert route(DESIGN_RULES, facts, only_response_rules=True)["specialist"] == "interpreter"


def test_rules_are_taken_by_order_not_by_position_and_bad_ones_are_skipped():
    rules = (
        RuleInfo(5, "task.requires_speed", "analysis"),
        RuleInfo(2, "task.complexity >", "reasoning"),
        RuleInfo(3, "task.requires_speed", "coding", binding=True),
    )

    decision = route(rules, task_facts({"requires_speed": True}))

    assert (decision["specialist"], decision["binding"]) == ("coding", True)


async def test_the_arbiter_prompt_states_the_routing_decision(journal, models):
    decision = route(DESIGN_RULES, task_facts({"complexity": 9}))
    models.clients["arbiter"].enqueue("Fine.")

    await step_run(
        "arbiter",
        design_state(routing_decision=decision, classification={"complexity": 9}),
        journal,
        models,
        {},
    )

    system = models.clients["arbiter"].calls[0].messages[0].content
    assert "Routing: route to reasoning: task.complexity > 7." in system
    assert "How to work:" in system  # complexity 9 gets the detailed instructions
