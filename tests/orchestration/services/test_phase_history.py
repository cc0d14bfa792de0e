import pytest

from orchestration.models import Conversation
from orchestration.services.journal import DatabaseRunJournal
from orchestration.services.runs import conversation_start
from orchestration.services.steps import step_claim

pytestmark = pytest.mark.django_db


def test_accepted_phase_changes_are_kept_in_order_once(design_config):
    conversation = conversation_start(task="x")
    step = step_claim(step_id=conversation.steps.get().pk, owner="w1")
    journal = DatabaseRunJournal(conversation_id=conversation.pk, step_id=step.pk, owner="w1")

    journal.conversation_update_sync(phase="implementation", phase_reason="plan agreed")
    journal.conversation_update_sync(phase="implementation", phase_reason="replayed")
    journal.conversation_update_sync(phase="review", phase_reason="")

    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.phase == "review"
    assert [(c["from"], c["to"], c["reason"]) for c in conversation.phase_history] == [
        ("planning", "implementation", "plan agreed"),
        ("implementation", "review", ""),
    ]
    assert conversation.phase_history[0]["seq"] < conversation.phase_history[1]["seq"]
