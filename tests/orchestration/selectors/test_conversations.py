"""What a page that has everything up to a seq has missed: ``conversation_catch_up``."""

from __future__ import annotations

import pytest

from orchestration.selectors.conversations import conversation_catch_up
from tests.factories import ConversationFactory, ThreadFactory
from tests.inspector import live

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    conversation = ConversationFactory()
    ThreadFactory(conversation=conversation, key="arbiter")
    live.message_record(conversation, sender="operator", recipient="arbiter", content="task")
    return conversation


def test_new_messages_alone_are_read_with_the_conversation_in_two_queries(
    run, django_assert_num_queries
):
    live.message_record(run, content="second")
    live.message_record(run, content="third")
    with django_assert_num_queries(2):
        catch_up = conversation_catch_up(conversation_id=run.pk, after_seq=1)
    assert [m.content for m in catch_up.messages] == ["second", "third"]
    assert [m.calls for m in catch_up.messages] == [[], []]
    assert catch_up.seq == 3
    assert not (catch_up.message_ids_with_changed_calls or catch_up.escalations_changed)


def test_calls_written_after_their_new_message_come_with_it(run):
    asking = live.message_record(run, sender="arbiter", recipient="arbiter", content="calling")
    live.tool_call_record(run, message=asking, call_id="c1", name="final_answer", arguments={})
    catch_up = conversation_catch_up(conversation_id=run.pk, after_seq=1)
    assert [m.pk for m in catch_up.messages] == [asking.pk]
    assert [c.call_id for c in catch_up.messages[0].calls] == ["c1"]
    assert catch_up.message_ids_with_changed_calls == []


def test_a_call_updated_on_an_older_message_names_that_message_for_redrawing(run):
    asking = live.message_record(run, sender="arbiter", recipient="arbiter", content="calling")
    live.tool_call_record(run, message=asking, call_id="c1", name="final_answer", status="running")
    seen = run.__class__.objects.get(pk=run.pk).last_seq
    live.message_record(run, content="meanwhile")
    live.tool_call_record(run, message=asking, call_id="c1", name="final_answer", status="failed")
    catch_up = conversation_catch_up(conversation_id=run.pk, after_seq=seen)
    assert [m.content for m in catch_up.messages] == ["meanwhile"]
    assert catch_up.message_ids_with_changed_calls == [asking.pk]


def test_an_escalation_among_new_messages_is_noticed(run):
    live.message_record(run, content="second")
    live.escalation_open(run, "Which version?")
    catch_up = conversation_catch_up(conversation_id=run.pk, after_seq=1)
    assert catch_up.escalations_changed
    assert [m.content for m in catch_up.messages] == ["second"]


def test_a_status_change_alone_is_noticed_without_messages(run):
    live.status_set(run, "running")
    catch_up = conversation_catch_up(conversation_id=run.pk, after_seq=1)
    assert catch_up.status_changed and catch_up.messages == []
    assert not catch_up.escalations_changed
