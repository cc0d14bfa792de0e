from datetime import timedelta

import pytest
from django.utils import timezone

from orchestration.engine.ports import MessageRecord, StepOutcome
from orchestration.models import Conversation, Message, Step
from orchestration.services.journal import DatabaseRunJournal, LeaseLost, RunCancelled
from orchestration.services.runs import conversation_cancel, conversation_start
from orchestration.services.steps import (
    MAX_STEP_ATTEMPTS,
    step_claim,
    step_complete,
    step_fail,
    step_lease_renew,
    steps_reap,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(design_config):
    return conversation_start(task="Write a parser")


@pytest.fixture
def first_step(conversation):
    return conversation.steps.get()


def record(key: str, content: str = "hello") -> MessageRecord:
    return MessageRecord(
        key=key,
        thread_key="arbiter",
        participant="arbiter",
        sender="arbiter",
        recipient="operator",
        role="assistant",
        content=content,
    )


def test_only_one_of_two_workers_claims_a_step(first_step):
    assert step_claim(step_id=first_step.pk, owner="w1") is not None
    assert step_claim(step_id=first_step.pk, owner="w2") is None

    first_step.refresh_from_db()
    assert (first_step.lease_owner, first_step.status, first_step.attempts) == ("w1", "running", 1)


def test_claim_marks_the_run_running(first_step, conversation):
    step_claim(step_id=first_step.pk, owner="w1")

    conversation.refresh_from_db()
    assert conversation.status == "running" and conversation.started_at is not None


def test_a_finished_step_is_not_claimed_again(first_step):
    step_claim(step_id=first_step.pk, owner="w1")
    step_complete(step_id=first_step.pk, owner="w1", outcome=StepOutcome(next="arbiter"))

    assert step_claim(step_id=first_step.pk, owner="w2") is None


def test_completing_enqueues_exactly_one_next_step(first_step, conversation):
    step_claim(step_id=first_step.pk, owner="w1")
    step_complete(step_id=first_step.pk, owner="w1", outcome=StepOutcome(next="arbiter"))

    assert list(conversation.steps.values_list("number", "kind", "status")) == [
        (1, "classify", "done"),
        (2, "arbiter", "pending"),
    ]
    assert Conversation.objects.get(pk=conversation.pk).steps_used == 1


def test_finishing_sets_the_terminal_status_reason_and_answer(first_step, conversation):
    step_claim(step_id=first_step.pk, owner="w1")
    step_complete(
        step_id=first_step.pk,
        owner="w1",
        outcome=StepOutcome(next="finished", status="completed", final_answer="42"),
    )

    conversation.refresh_from_db()
    assert (conversation.status, conversation.final_answer) == ("completed", "42")
    assert conversation.finished_at is not None


def test_reaper_hands_back_a_step_whose_lease_expired(first_step):
    step_claim(step_id=first_step.pk, owner="dead-worker")
    Step.objects.filter(pk=first_step.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert steps_reap() == 1

    first_step.refresh_from_db()
    assert (first_step.status, first_step.lease_owner) == ("pending", "")
    assert step_claim(step_id=first_step.pk, owner="w2") is not None


def test_reaper_leaves_live_leases_alone(first_step):
    step_claim(step_id=first_step.pk, owner="w1")

    steps_reap()

    first_step.refresh_from_db()
    assert (first_step.status, first_step.lease_owner) == ("running", "w1")


def test_stale_worker_cannot_commit_after_its_step_was_handed_on(first_step):
    step_claim(step_id=first_step.pk, owner="slow")
    Step.objects.filter(pk=first_step.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    steps_reap()
    step_claim(step_id=first_step.pk, owner="fresh")

    with pytest.raises(LeaseLost):
        step_complete(step_id=first_step.pk, owner="slow", outcome=StepOutcome(next="arbiter"))
    with pytest.raises(LeaseLost):
        DatabaseRunJournal(
            conversation_id=first_step.conversation_id, step_id=first_step.pk, owner="slow"
        ).message_record_sync(record("s1:x"))
    assert not step_lease_renew(step_id=first_step.pk, owner="slow")
    assert step_lease_renew(step_id=first_step.pk, owner="fresh")


def test_journal_writes_each_key_once(first_step, conversation):
    step_claim(step_id=first_step.pk, owner="w1")
    journal = DatabaseRunJournal(conversation_id=conversation.pk, step_id=first_step.pk, owner="w1")

    first = journal.message_record_sync(record("s1:arbiter:reply", "one"))
    again = journal.message_record_sync(record("s1:arbiter:reply", "two"))

    assert first.seq == again.seq == Conversation.objects.get(pk=conversation.pk).last_seq
    assert again.record.content == "one"
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert journal.message_lookup_sync("s1:arbiter:reply").record.content == "one"
    assert journal.message_lookup_sync("s1:other") is None


def test_journal_refuses_writes_to_a_cancelled_run(first_step, conversation):
    step_claim(step_id=first_step.pk, owner="w1")
    conversation_cancel(conversation=conversation, user=None)
    journal = DatabaseRunJournal(conversation_id=conversation.pk, step_id=first_step.pk, owner="w1")

    with pytest.raises(RunCancelled):
        journal.message_record_sync(record("s1:late"))
    assert not step_lease_renew(step_id=first_step.pk, owner="w1")


def test_failed_step_is_retried_then_fails_the_run(first_step, conversation):
    for attempt in range(1, MAX_STEP_ATTEMPTS + 1):
        assert step_claim(step_id=first_step.pk, owner=f"w{attempt}") is not None
        step_fail(step_id=first_step.pk, owner=f"w{attempt}", error="ServerError: 500")

    first_step.refresh_from_db()
    conversation.refresh_from_db()
    assert first_step.status == "failed"
    assert conversation.status == "failed"
    assert "failed 3 times: ServerError: 500" in conversation.status_reason
