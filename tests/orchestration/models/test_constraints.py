"""What the database itself guarantees, whatever code writes to it."""

import pytest
from django.db import IntegrityError, transaction

from orchestration.models import (
    Conversation,
    Message,
    PromptTemplate,
    PromptTemplateVersion,
    Server,
    Step,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation():
    return Conversation.objects.create(task="t")


def test_two_messages_cannot_share_a_seq(conversation):
    Message.objects.create(
        conversation=conversation, seq=1, journal_key="a", sender="x", recipient="y", role="user"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            conversation=conversation,
            seq=1,
            journal_key="b",
            sender="x",
            recipient="y",
            role="user",
        )


def test_a_journal_key_is_written_once_per_run(conversation):
    Message.objects.create(
        conversation=conversation,
        seq=1,
        journal_key="s1:reply",
        sender="x",
        recipient="y",
        role="user",
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            conversation=conversation,
            seq=2,
            journal_key="s1:reply",
            sender="x",
            recipient="y",
            role="user",
        )


def test_a_step_key_is_committed_once(conversation):
    Step.objects.create(
        conversation=conversation, number=1, idempotency_key="c1:s1", kind="classify"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Step.objects.create(
            conversation=conversation, number=2, idempotency_key="c1:s1", kind="arbiter"
        )


def test_a_template_has_one_active_version():
    template = PromptTemplate.objects.create(key="x.system")
    PromptTemplateVersion.objects.create(template=template, number=1, body="a", is_active=True)
    PromptTemplateVersion.objects.create(template=template, number=2, body="b", is_active=False)

    with pytest.raises(IntegrityError), transaction.atomic():
        PromptTemplateVersion.objects.create(template=template, number=3, body="c", is_active=True)


def test_a_server_has_at_least_one_slot():
    with pytest.raises(IntegrityError), transaction.atomic():
        Server.objects.create(name="s", base_url="http://s:1", parallel=0)
