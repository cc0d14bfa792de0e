"""The inbox, answering a question and deciding an approval."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from orchestration.models import Escalation
from tests.factories import (
    ConversationFactory,
    EscalationFactory,
    ThreadFactory,
    ToolCallFactory,
)

pytestmark = pytest.mark.django_db


def _open_question(**fields):
    run = ConversationFactory(status="waiting_for_user")
    ThreadFactory(conversation=run, key="arbiter", participant="arbiter")
    return EscalationFactory(conversation=run, **fields)


def _pending_approval():
    run = ConversationFactory(status="waiting_for_approval")
    ThreadFactory(conversation=run, key="arbiter", participant="arbiter")
    call = ToolCallFactory(conversation=run, status="awaiting_approval", arguments={"task": "rm"})
    return EscalationFactory(
        conversation=run, kind="approval", tool_call=call, question="Run consult_coding_specialist?"
    )


def test_inbox_lists_open_questions_across_runs_and_the_nav_counts_them(alice_client):
    _open_question(question="First?")
    _open_question(question="Second?")
    EscalationFactory(status="answered", question="Old one?", answer="done")
    content = alice_client.get(reverse("inspector:escalations")).content.decode()
    inbox = content.split('id="inbox"')[1].split("</section>")[0]
    assert "First?" in inbox and "Second?" in inbox and "Old one?" not in inbox
    assert 'id="nav-escalations" class="count has"' in content
    assert 'aria-label="2 open">2</span>' in content


def test_answering_a_question_records_who_and_closes_it(alice, alice_client):
    escalation = _open_question()
    response = alice_client.post(
        reverse("inspector:escalation_answer", args=[escalation.pk]),
        {"text": "Python 3.11"},
        HTTP_HX_REQUEST="true",
    )
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ANSWERED
    assert escalation.answer == "Python 3.11"
    assert escalation.answered_by == alice
    assert "Python 3.11" in response.content.decode()


def test_clicking_an_option_answers_with_it(alice_client):
    escalation = _open_question(options=["3.11", "3.12"])
    alice_client.post(
        reverse("inspector:escalation_answer", args=[escalation.pk]), {"text": "", "option": "3.12"}
    )
    escalation.refresh_from_db()
    assert escalation.answer == "3.12"


def test_empty_answer_is_refused_with_a_message(alice_client):
    escalation = _open_question()
    response = alice_client.post(
        reverse("inspector:escalation_answer", args=[escalation.pk]), {"text": "  "}
    )
    assert b"Write an answer or pick an option." in response.content
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_second_answer_is_refused(alice_client):
    escalation = _open_question()
    url = reverse("inspector:escalation_answer", args=[escalation.pk])
    alice_client.post(url, {"text": "first"})
    response = alice_client.post(url, {"text": "second"})
    assert b"already answered" in response.content
    escalation.refresh_from_db()
    assert escalation.answer == "first"


def test_stranger_cannot_answer(charlie_client):
    escalation = _open_question()
    response = charlie_client.post(
        reverse("inspector:escalation_answer", args=[escalation.pk]), {"text": "x"}
    )
    assert response.status_code == 403


def test_rejecting_needs_a_reason(alice_client):
    escalation = _pending_approval()
    response = alice_client.post(
        reverse("inspector:approval_decide", args=[escalation.pk]), {"decision": "reject"}
    )
    assert b"Say why you reject it" in response.content
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_rejecting_with_a_reason_closes_the_approval(alice, alice_client):
    escalation = _pending_approval()
    alice_client.post(
        reverse("inspector:approval_decide", args=[escalation.pk]),
        {"decision": "reject", "reason": "too risky"},
    )
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.REJECTED
    assert escalation.answer == "too risky" and escalation.answered_by == alice


def test_approving_with_edited_arguments_keeps_the_edit(alice_client):
    escalation = _pending_approval()
    alice_client.post(
        reverse("inspector:approval_decide", args=[escalation.pk]),
        {"decision": "edit", "arguments": json.dumps({"task": "ls"})},
    )
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.EDITED
    assert escalation.edited_arguments == {"task": "ls"}


def test_edited_arguments_that_are_not_json_show_the_parser_message(alice_client):
    escalation = _pending_approval()
    response = alice_client.post(
        reverse("inspector:approval_decide", args=[escalation.pk]),
        {"decision": "edit", "arguments": "{task: ls"},
    )
    assert b"Not valid JSON" in response.content
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN


def test_approval_card_shows_the_proposed_call_and_three_decisions(alice_client):
    escalation = _pending_approval()
    content = alice_client.get(reverse("inspector:escalations")).content.decode()
    card = content.split(f'id="esc-{escalation.pk}"')[1].split("</article>")[0]
    assert "consult_coding_specialist" in card and "&quot;rm&quot;" in card
    for decision in ("approve", "edit", "reject"):
        assert f'name="decision" value="{decision}"' in card
