import json

import pytest
from django.contrib.auth.models import User

from orchestration.engine.ports import EscalationRecord, StepOutcome, ToolCallRecord
from orchestration.models import Conversation, Escalation, Message, Step, ToolCall
from orchestration.services.journal import DatabaseRunJournal
from orchestration.services.runs import (
    RunError,
    approval_decide,
    conversation_cancel,
    conversation_start,
    escalation_answer,
)
from orchestration.services.steps import step_claim, step_complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="x")


def test_start_records_the_task_as_the_first_message_and_a_classify_step(design_config, alice):
    conversation = conversation_start(task="  Write a parser  ", user=alice)

    message = conversation.messages.get()
    assert (message.seq, message.sender, message.recipient, message.content) == (
        1,
        "operator",
        "arbiter",
        "Write a parser",
    )
    assert list(conversation.steps.values_list("number", "kind", "status")) == [
        (1, "classify", "pending")
    ]
    assert conversation.status == Conversation.Status.QUEUED
    assert conversation.policy == {
        "include_full_history": False,
        "allow_model_to_model": True,
        "arbiter_reviews_all": True,
    }
    assert conversation.max_models == 3
    assert conversation.created_by == alice


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "   "}, "empty"),
        ({"task": "x", "mode": "chaos"}, "Unknown mode"),
        ({"task": "x", "allowed_specialists": ["poet"]}, "Unknown specialists: poet"),
        ({"task": "x", "budgets": {"max_steps": 0}}, "max_steps must be"),
        ({"task": "x", "budgets": {"max_steps": True}}, "max_steps must be"),
        ({"task": "x", "budgets": {"speed": 3}}, "Unknown budget"),
    ],
)
def test_start_refuses_bad_requests_and_writes_nothing(design_config, kwargs, message):
    with pytest.raises(RunError, match=message):
        conversation_start(**kwargs)

    assert Conversation.objects.count() == 0


def test_start_without_a_configuration_says_what_to_do(db):
    with pytest.raises(RunError, match="mmos_config load"):
        conversation_start(task="hello")


def test_budgets_override_the_defaults(design_config):
    conversation = conversation_start(task="x", budgets={"max_steps": 4, "max_tokens": 999})

    assert (conversation.max_steps, conversation.max_tokens) == (4, 999)


def _waiting_on(conversation, *, kind="question", name="escalate_to_user", arguments=None):
    """Bring a conversation to the state the engine leaves after asking a person."""
    step = step_claim(step_id=conversation.steps.get().pk, owner="w1")
    journal = DatabaseRunJournal(conversation_id=conversation.pk, step_id=step.pk, owner="w1")
    journal.tool_call_record_sync(
        ToolCallRecord(
            key="s1:call:c1",
            call_id="c1",
            name=name,
            arguments=arguments or {"question": "Which database?"},
            status="awaiting_approval" if kind == "approval" else "running",
        )
    )
    journal.escalation_open_sync(
        EscalationRecord(
            key="s1:call:c1:escalation",
            kind=kind,
            question="Which database?",
            tool_call_key="s1:call:c1",
        )
    )
    step_complete(
        step_id=step.pk,
        owner="w1",
        outcome=StepOutcome(next="wait_for_approval" if kind == "approval" else "wait_for_user"),
    )
    conversation.refresh_from_db()
    return conversation.escalations.get()


def test_answer_becomes_the_tool_result_and_enqueues_the_next_arbiter_step(design_config, alice):
    conversation = conversation_start(task="Store some data")
    escalation = _waiting_on(conversation)
    assert Conversation.objects.get(pk=conversation.pk).status == "waiting_for_user"

    escalation_answer(escalation=escalation, text="PostgreSQL", user=alice)

    escalation.refresh_from_db()
    assert (escalation.status, escalation.answer, escalation.answered_by) == (
        "answered",
        "PostgreSQL",
        alice,
    )
    result = Message.objects.get(conversation=conversation, role="tool")
    assert result.tool_call_id == "c1"
    assert json.loads(result.content)["answer"] == "PostgreSQL"
    assert ToolCall.objects.get(call_id="c1").status == "succeeded"
    assert list(conversation.steps.values_list("number", "kind", "status")) == [
        (1, "classify", "done"),
        (2, "arbiter", "pending"),
    ]
    assert Conversation.objects.get(pk=conversation.pk).status == "running"


def test_second_answer_to_the_same_escalation_is_refused(design_config, alice):
    conversation = conversation_start(task="Store some data")
    escalation = _waiting_on(conversation)
    escalation_answer(escalation=escalation, text="PostgreSQL", user=alice)

    with pytest.raises(RunError, match="already answered"):
        escalation_answer(escalation=escalation, text="SQLite", user=alice)

    assert Escalation.objects.get(pk=escalation.pk).answer == "PostgreSQL"
    assert conversation.steps.count() == 2
    assert Message.objects.filter(conversation=conversation, role="tool").count() == 1


def test_empty_answer_is_refused(design_config):
    escalation = _waiting_on(conversation_start(task="x"))

    with pytest.raises(RunError, match="empty"):
        escalation_answer(escalation=escalation, text="  ", user=None)


def test_reject_returns_the_reason_to_the_arbiter(design_config, alice):
    conversation = conversation_start(task="x")
    escalation = _waiting_on(
        conversation,
        kind="approval",
        name="consult_coding_specialist",
        arguments={"query": "rm -rf"},
    )

    approval_decide(escalation=escalation, decision="reject", reason="too risky", user=alice)

    result = json.loads(Message.objects.get(conversation=conversation, role="tool").content)
    assert result == {
        "tool": "consult_coding_specialist",
        "success": False,
        "rejected_by_operator": "too risky",
    }
    assert ToolCall.objects.get(call_id="c1").status == "rejected"
    assert conversation.steps.order_by("number").last().kind == "arbiter"


def test_reject_needs_a_reason(design_config):
    escalation = _waiting_on(
        conversation_start(task="x"), kind="approval", name="consult_coding_specialist"
    )

    with pytest.raises(RunError, match="why"):
        approval_decide(escalation=escalation, decision="reject", reason="", user=None)


def test_edit_runs_the_call_with_the_operators_arguments(design_config, alice):
    conversation = conversation_start(task="x")
    escalation = _waiting_on(
        conversation, kind="approval", name="consult_coding_specialist", arguments={"query": "a"}
    )

    approval_decide(escalation=escalation, decision="edit", arguments={"query": "b"}, user=alice)

    step = conversation.steps.order_by("number").last()
    assert (step.kind, step.payload) == (
        "tool",
        {"tool_call_key": "s1:call:c1", "arguments": {"query": "b"}},
    )
    assert Escalation.objects.get(pk=escalation.pk).status == "edited"


def test_answering_a_question_as_an_approval_is_refused(design_config):
    escalation = _waiting_on(conversation_start(task="x"))

    with pytest.raises(RunError, match="not an approval"):
        approval_decide(escalation=escalation, decision="approve", user=None)


def test_cancel_ends_the_run_and_closes_its_questions(design_config, alice):
    conversation = conversation_start(task="x")
    escalation = _waiting_on(conversation)

    assert conversation_cancel(conversation=conversation, user=alice) is True

    conversation.refresh_from_db()
    assert (conversation.status, conversation.status_reason) == ("cancelled", "Cancelled by alice.")
    assert Escalation.objects.get(pk=escalation.pk).status == "cancelled"
    assert conversation_cancel(conversation=conversation, user=alice) is False
    with pytest.raises(RunError):
        escalation_answer(escalation=escalation, text="late", user=alice)


def test_every_seq_is_distinct_and_increasing(design_config, alice):
    conversation = conversation_start(task="x")
    escalation = _waiting_on(conversation)
    escalation_answer(escalation=escalation, text="y", user=alice)

    seqs = list(
        Message.objects.filter(conversation=conversation)
        .order_by("id")
        .values_list("seq", flat=True)
    )
    assert seqs == sorted(set(seqs))
    conversation.refresh_from_db()
    assert conversation.last_seq >= max(seqs)
    assert Step.objects.filter(conversation=conversation).count() == 2
