"""Re-running one hop with another specialist: a new run, the original kept."""

from __future__ import annotations

import pytest

from orchestration.config.schema import config_parse
from orchestration.models import Message, ToolCall
from orchestration.services.config import config_load
from orchestration.services.forks import conversation_fork
from orchestration.services.inline import run_drive_inline
from orchestration.services.runs import RunError, conversation_start
from tests.fakes.scenarios import ConsultScenario, consult_config_yaml

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finished_consult(live_redis_settings, fake_ollama):
    fake_ollama.respond_with(ConsultScenario())
    config_load(config=config_parse(consult_config_yaml(fake_ollama.url)))
    conversation = run_drive_inline(
        conversation=conversation_start(task="Write a parser"), timeout_s=30
    )
    assert conversation.status == "completed"
    return conversation, fake_ollama


def test_fork_asks_the_other_specialist_and_keeps_the_original(finished_consult):
    original, fake = finished_consult
    hop = ToolCall.objects.get(conversation=original, name="consult_coding_specialist")
    before = list(Message.objects.filter(conversation=original).values_list("seq", "content"))

    fork = conversation_fork(
        conversation=original, tool_call=hop, specialist="reasoning", user=None
    )
    fork = run_drive_inline(conversation=fork, timeout_s=30)

    assert fork.status == "completed", fork.status_reason
    assert fork.forked_from == original
    assert (
        list(Message.objects.filter(conversation=original).values_list("seq", "content")) == before
    )
    asked = [q.json["model"] for q in fake.requests_to("/api/chat")]
    assert asked.count("reasoner-model") == 1
    assert ToolCall.objects.get(conversation=fork, call_id=hop.call_id).name == (
        "consult_reasoning_specialist"
    )
    senders = set(Message.objects.filter(conversation=fork).values_list("sender", flat=True))
    assert "reasoning" in senders and "coding" not in senders
    seqs = list(Message.objects.filter(conversation=fork).values_list("seq", flat=True))
    assert len(seqs) == len(set(seqs))


@pytest.mark.parametrize(
    ("specialist", "message"),
    [("coding", "already answered"), ("arbiter", "no specialist"), ("poet", "no specialist")],
)
def test_fork_refuses_what_it_cannot_do(finished_consult, specialist, message):
    original, _ = finished_consult
    hop = ToolCall.objects.get(conversation=original, name="consult_coding_specialist")

    with pytest.raises(RunError, match=message):
        conversation_fork(conversation=original, tool_call=hop, specialist=specialist, user=None)


def test_only_consults_can_be_forked(finished_consult):
    original, _ = finished_consult
    final = ToolCall.objects.get(conversation=original, name="final_answer")

    with pytest.raises(RunError, match="Only a specialist consult"):
        conversation_fork(conversation=original, tool_call=final, specialist="reasoning", user=None)
