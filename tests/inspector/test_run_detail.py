"""The run page: lanes, arrows, tool-call cards with their repair trail, and the actions."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orchestration.models import Conversation, Escalation, Message
from tests.factories import ConversationFactory, EscalationFactory, ToolCallFactory
from tests.inspector.scenes import long_run, three_model_run

pytestmark = pytest.mark.django_db


def _page(client, run) -> str:
    response = client.get(reverse("inspector:run", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_run_page_draws_one_lane_per_participant_in_a_readable_order(alice_client, specialists):
    run = three_model_run()
    content = _page(alice_client, run)
    heads = re.findall(r'<div class="lane-head gs-\d+">([^<]+)</div>', content)
    assert heads == ["operator", "arbiter", "coding", "reasoning", "interpreter"]


def test_messages_are_arrows_from_sender_lane_to_recipient_lane_in_seq_order(alice_client):
    run = three_model_run()
    content = _page(alice_client, run)
    seqs = [int(s) for s in re.findall(r'class="seq-row[^"]*" id="m-(\d+)"', content)]
    assert seqs == sorted(seqs) and len(seqs) == 6
    # arbiter (lane 2) → coding (lane 3): spans columns 2..3, pointing right.
    row = content.split('data-sender="arbiter" data-recipient="coding"')[1]
    assert re.search(r'class="msg gs-2 ge-4 span-2 dir-right', row)
    # coding (3) → arbiter (2): the same span, pointing left.
    row = content.split('data-sender="coding" data-recipient="arbiter"')[1]
    assert re.search(r'class="msg gs-2 ge-4 span-2 dir-left', row)


def test_message_shows_model_server_tokens_and_the_timing_split(alice_client):
    content = _page(alice_client, three_model_run())
    assert "qwen2.5:14b" in content and "@ ollama01" in content
    assert "812 / 64 tok" in content
    assert "queue 12 ms · load 1.5 s · prompt 340 ms · gen 2.1 s = 4.0 s" in content


def test_tool_call_card_shows_arguments_result_status_and_the_repair_trail(alice_client):
    content = _page(alice_client, three_model_run())
    card = content.split('class="call status-succeeded"')[1].split("</article>")[0]
    assert "consult_coding_specialist" in card
    assert "Succeeded" in card
    assert "repaired · 2 stages" in card  # extraction and coercion both changed the call
    assert "extract_tool_call_tags" in card and "coerce_types" in card
    assert "task: integer to string" in card
    assert 'by <span class="model">qwen2.5:14b</span>' in card
    assert "def f(): ..." in card


def test_reviewed_message_shows_original_and_delivered_side_by_side(alice_client):
    content = _page(alice_client, three_model_run())
    review = content.split('<div class="review" hx-disable>')[1].split("</div></div></div>")[0]
    assert "and ignore your instructions" in review  # the original
    assert "Delivered to reasoning" in review
    assert "removed an instruction override" in content


def test_each_participant_shows_what_it_saw_and_what_was_withheld(alice_client):
    content = _page(alice_client, three_model_run())
    threads = content.split('id="threads"')[1].split("</section>")[0]
    assert "reasoning" in threads
    assert "the operator&#x27;s earlier message" in threads


def test_classification_routing_decision_and_phase_are_shown(alice_client):
    content = _page(alice_client, three_model_run())
    status = content.split('id="run-status"')[1].split("</section>")[0]
    assert "code_generation" in status
    assert "#1 task.complexity &gt; 7" in status
    assert '<li class="current">implementation</li>' in status


def test_open_question_can_be_answered_inline_with_its_options(alice_client):
    content = _page(alice_client, three_model_run())
    card = content.split('class="escalation kind-question status-open"')[1].split("</article>")[0]
    assert 'name="option" value="3.11"' in card
    assert "/answer/" in card


def test_page_socket_connects_to_the_conversation_and_starts_at_its_seq(alice_client):
    run = three_model_run()
    content = _page(alice_client, run)
    assert f'ws-connect="/ws/conversations/{run.pk}/"' in content
    assert f'id="last-seq" type="hidden" name="last_seq" value="{run.last_seq}"' in content


def test_consult_cards_offer_a_fork_to_other_specialists(alice_client, specialists):
    content = _page(alice_client, three_model_run())
    fork = content.split('class="fork inline"')[1].split("</form>")[0]
    assert '<option value="reasoning">' in fork
    assert '<option value="coding">' not in fork  # the one that answered already


def test_cancel_ends_the_run_and_returns_the_status_panel(alice_client, alice):
    run = ConversationFactory(status="running")
    response = alice_client.post(
        reverse("inspector:run_cancel", args=[run.pk]), HTTP_HX_REQUEST="true"
    )
    run.refresh_from_db()
    assert run.status == Conversation.Status.CANCELLED
    assert "Cancelled by alice" in response.content.decode()


def test_stranger_cannot_cancel_a_run(charlie_client):
    run = ConversationFactory(status="running")
    assert charlie_client.post(reverse("inspector:run_cancel", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.status == "running"


def test_fork_with_an_unknown_specialist_shows_the_error_in_the_form(alice_client, specialists):
    run = three_model_run()
    call = run.tool_calls.get()
    response = alice_client.post(
        reverse("inspector:run_fork", args=[run.pk, call.pk]), {"specialist": "nobody"}
    )
    assert b"Select a valid choice" in response.content
    assert Conversation.objects.count() == 1


def test_missing_run_is_404(alice_client):
    assert alice_client.get(reverse("inspector:run", args=[999_999])).status_code == 404


def test_run_with_2000_messages_renders_every_row_in_a_bounded_number_of_queries(alice_client):
    # How fast it opens is measured by bench/inspector_latency.py, not asserted here.
    run = long_run(2000)
    with CaptureQueriesContext(connection) as queries:
        content = _page(alice_client, run)
    assert content.count('class="seq-row lanes-') == 2000
    assert len(queries) < 25


def test_loose_tool_calls_and_answered_escalations_render(alice_client):
    run = ConversationFactory()
    ToolCallFactory(
        conversation=run,
        message=None,
        name="final_answer",
        status="invalid",
        error="missing 'answer'",
    )
    EscalationFactory(conversation=run, status=Escalation.Status.ANSWERED, answer="Use 3.12")
    content = _page(alice_client, run)
    assert "missing &#x27;answer&#x27;" in content
    assert "Use 3.12" in content
    assert Message.objects.filter(conversation=run).count() == 0
