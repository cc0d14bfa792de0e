"""Routing rules: ordered list, validation at save with the parser's message, trying rules."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orchestration.models import RoutingRule
from tests.factories import RoutingRuleFactory

pytestmark = pytest.mark.django_db


def _form(specialist, **fields):
    data = {
        "order": 1,
        "condition": "task.complexity > 7",
        "specialist": specialist.pk,
        "enabled": "on",
        "description": "",
    }
    data.update(fields)
    return data


def test_rules_are_listed_in_order(bob_client, specialists):
    RoutingRuleFactory(
        order=2, condition="task.type == 'analysis'", specialist=specialists["coding"]
    )
    RoutingRuleFactory(
        order=1, condition="task.complexity > 7", specialist=specialists["reasoning"]
    )
    content = bob_client.get(reverse("inspector:routing")).content.decode()
    assert content.index("task.complexity &gt; 7") < content.index("task.type == &#x27;analysis")


def test_saving_a_valid_rule_records_who_changed_it(bob, bob_client, specialists):
    response = bob_client.post(reverse("inspector:rule_new"), _form(specialists["coding"]))
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.updated_by == bob and rule.condition == "task.complexity > 7"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("__import__('os').system('x')", "function calls are not allowed"),
        ("task.nonsense > 1", "task.nonsense"),
        ("task.complexity >", "column"),
    ],
)
def test_invalid_condition_shows_the_parsers_message_next_to_the_field(
    bob_client, specialists, condition, message
):
    response = bob_client.post(
        reverse("inspector:rule_new"), _form(specialists["coding"], condition=condition)
    )
    content = response.content.decode()
    assert response.status_code == 422
    error = content.split('id="id_condition-error"')[1].split("</div>")[0]
    assert message in error
    assert not RoutingRule.objects.exists()


def test_editing_a_rule_changes_it_and_records_who(bob, bob_client, specialists):
    rule = RoutingRuleFactory(order=1, specialist=specialists["coding"])
    bob_client.post(
        reverse("inspector:rule_edit", args=[rule.pk]),
        _form(specialists["reasoning"], condition="task.requires_speed"),
    )
    rule.refresh_from_db()
    assert rule.condition == "task.requires_speed" and rule.specialist.role == "reasoning"
    assert rule.updated_by == bob


def test_trying_rules_on_sample_facts_names_the_rule_that_fires(bob_client, specialists):
    RoutingRuleFactory(
        order=1, condition="task.complexity > 7", specialist=specialists["reasoning"]
    )
    RoutingRuleFactory(
        order=2, condition="task.type == 'code_generation'", specialist=specialists["coding"]
    )
    response = bob_client.post(
        reverse("inspector:rules_try"),
        {
            "task__complexity": "3",
            "task__type": "code_generation",
            "condition": "task.complexity < 5",
        },
    )
    content = response.content.decode()
    assert "The condition <strong>holds</strong>" in content
    assert "Rule 2 fires" in content and "<strong>coding</strong>" in content


def test_trying_an_invalid_condition_shows_the_parsers_message(bob_client, specialists):
    response = bob_client.post(reverse("inspector:rules_try"), {"condition": "open('x')"})
    assert b"function calls are not allowed" in response.content
