"""The runs list and starting a run from the browser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orchestration.models import Conversation, Message
from tests.factories import ConversationFactory, EscalationFactory, ThreadFactory

pytestmark = pytest.mark.django_db


def test_runs_list_shows_status_phase_participants_tokens_and_waiting_escalations(alice_client):
    run = ConversationFactory(
        task="Sort a list", status="running", phase="implementation", tokens_used=1234
    )
    ThreadFactory(conversation=run, participant="coding")
    EscalationFactory(conversation=run)
    content = alice_client.get(reverse("inspector:runs")).content.decode()
    row = content.split(f'id="run-{run.pk}"')[1].split("</tr>")[0]
    assert "Sort a list" in row
    assert "Running" in row
    assert "implementation" in row
    assert "coding" in row
    assert "1,234" in row
    assert "1 open" in row


def test_runs_list_filters_by_status_and_text(alice_client):
    ConversationFactory(task="alpha task", status="running")
    ConversationFactory(task="beta task", status="completed")
    content = alice_client.get(reverse("inspector:runs"), {"status": "completed"}).content
    assert b"beta task" in content and b"alpha task" not in content
    content = alice_client.get(reverse("inspector:runs"), {"q": "alp"}).content
    assert b"alpha task" in content and b"beta task" not in content


def test_runs_filter_request_from_htmx_returns_only_the_table(alice_client):
    ConversationFactory(task="alpha task")
    response = alice_client.get(
        reverse("inspector:runs"),
        {"q": "alpha"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="runs-table",
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<table id="runs-table"')
    assert "alpha task" in content


def test_runs_list_socket_url_carries_the_filters(alice_client):
    content = alice_client.get(reverse("inspector:runs"), {"status": "running"}).content.decode()
    assert 'ws-connect="/ws/runs/?view=list&amp;status=running"' in content


def test_start_form_offers_budgets_from_the_defaults_and_the_specialists(alice_client, specialists):
    content = alice_client.get(reverse("inspector:runs")).content.decode()
    assert 'name="max_steps"' in content and 'value="20"' in content
    assert 'value="coding"' in content and 'value="reasoning"' in content
    assert 'name="allowed_specialists" value="arbiter"' not in content


def test_starting_a_run_creates_it_and_redirects_htmx_to_its_page(alice, alice_client, specialists):
    response = alice_client.post(
        reverse("inspector:run_start"),
        {
            "task": "Write a haiku about queues",
            "mode": "direct",
            "allowed_specialists": ["coding"],
            "max_steps": 5,
            "max_tool_calls": 9,
            "max_tokens": 5000,
            "max_wall_seconds": 60,
        },
        HTTP_HX_REQUEST="true",
    )
    run = Conversation.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("inspector:run", args=[run.pk])
    assert run.created_by == alice
    assert run.mode == "direct"
    assert run.allowed_specialists == ["coding"]
    assert (run.max_steps, run.max_tool_calls, run.max_tokens, run.max_wall_seconds) == (
        5,
        9,
        5000,
        60,
    )
    assert Message.objects.get(conversation=run).content == "Write a haiku about queues"


def test_start_form_shows_field_errors_next_to_the_fields(alice_client, specialists):
    response = alice_client.post(
        reverse("inspector:run_start"),
        {
            "task": "",
            "mode": "sideways",
            "max_steps": 0,
            "max_tool_calls": 1,
            "max_tokens": 1,
            "max_wall_seconds": 1,
        },
        HTTP_HX_REQUEST="true",
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_task-error"' in content
    assert 'id="id_mode-error"' in content
    assert "greater than or equal to 1" in content
    assert not Conversation.objects.exists()


def test_start_form_shows_the_services_refusal(alice_client, db):
    # No arbiter configured: the service refuses, and says why.
    response = alice_client.post(
        reverse("inspector:run_start"),
        {
            "task": "anything",
            "mode": "direct",
            "max_steps": 1,
            "max_tool_calls": 1,
            "max_tokens": 1,
            "max_wall_seconds": 1,
        },
        HTTP_HX_REQUEST="true",
    )
    assert b"No arbiter is configured" in response.content
    assert not Conversation.objects.exists()
