"""Whole runs in-process, step by step (the code the workers run), against the fake Ollama."""

from __future__ import annotations

import pytest

from orchestration.config.schema import config_parse
from orchestration.models import Message
from orchestration.services.config import config_load
from orchestration.services.inline import run_drive_inline
from orchestration.services.runs import conversation_start
from tests.fakes.scenarios import ConsultScenario, consult_config_yaml

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consult(live_redis_settings, fake_ollama):
    scenario = ConsultScenario()
    fake_ollama.respond_with(scenario)
    config_load(config=config_parse(consult_config_yaml(fake_ollama.url)))
    return scenario, fake_ollama


def test_consult_run_completes_with_the_specialists_answer(consult):
    scenario, _fake = consult
    conversation = conversation_start(task="Write a parser")

    conversation = run_drive_inline(conversation=conversation, timeout_s=30)

    assert conversation.status == "completed", conversation.status_reason
    assert "def parse" in conversation.final_answer
    lanes = [
        (m.sender, m.recipient, m.role)
        for m in Message.objects.filter(conversation=conversation).order_by("seq")
        if m.role != "system"
    ]
    assert ("coding", "arbiter", "assistant") in lanes
    assert lanes[0] == ("operator", "arbiter", "user")
    assert scenario.specialist_calls == 1
    assert conversation.classification["type"] == "code_generation"
