"""Durability through real processes: Celery workers killed with SIGKILL mid-call, racing
claimers, and beat's reaper, against a real Redis and the fake Ollama server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import pytest

from orchestration.config.schema import config_parse
from orchestration.models import Conversation, Message, Step
from orchestration.services.config import config_load
from orchestration.services.runs import conversation_start
from tests.fakes.scenarios import ConsultScenario, consult_config_yaml
from tests.fakes.stack import ROOT, celery_beat, celery_worker, stack_env, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CRASH_TRIALS = 20
RUN_TIMEOUT_S = 60


@pytest.fixture
def consult_stack(live_redis_settings, fake_ollama, tmp_path):
    scenario = ConsultScenario(specialist_latency_s=1.5)
    fake_ollama.respond_with(scenario)
    config_load(config=config_parse(consult_config_yaml(fake_ollama.url)))
    env = stack_env(redis_url=live_redis_settings, lease_seconds=2.0)
    return scenario, env, fake_ollama


def _models_called(fake, conversation_start_index: int) -> Counter:
    return Counter(
        q.json["model"] for q in fake.requests_to("/api/chat")[conversation_start_index:]
    )


def _assert_whole_run(conversation: Conversation) -> None:
    conversation.refresh_from_db()
    assert conversation.status == "completed", (conversation.status, conversation.status_reason)
    assert "def parse" in conversation.final_answer
    messages = list(Message.objects.filter(conversation=conversation).order_by("seq"))
    seqs = [m.seq for m in messages]
    keys = [m.journal_key for m in messages]
    assert len(seqs) == len(set(seqs)) and len(keys) == len(set(keys))
    coder_replies = [m for m in messages if m.sender == "coding" and m.role == "assistant"]
    assert len(coder_replies) == 1
    assert not conversation.steps.exclude(status=Step.Status.DONE).exists()


def test_worker_killed_mid_consult_loses_no_message(consult_stack, tmp_path):
    scenario, env, fake = consult_stack
    beat = celery_beat(env, tmp_path)
    worker = celery_worker(env, tmp_path, name="w0")
    baseline_messages = None
    try:
        for trial in range(CRASH_TRIALS):
            seen = len(fake.requests_to("/api/chat"))
            calls_before = scenario.specialist_calls
            conversation = conversation_start(task=f"Write a parser (trial {trial})")
            wait_until(
                lambda before=calls_before: (
                    scenario.specialist_calls > before and scenario.in_flight > 0
                ),
                timeout=RUN_TIMEOUT_S,
                message=f"trial {trial}: no specialist call in flight\n{worker.log()[-3000:]}",
            )
            worker.kill()
            worker = celery_worker(env, tmp_path, name=f"w{trial + 1}")
            wait_until(
                lambda pk=conversation.pk: Conversation.objects.get(pk=pk).is_terminal,
                timeout=RUN_TIMEOUT_S,
                message=f"trial {trial}: run did not finish\n{worker.log()[-3000:]}",
            )
            _assert_whole_run(conversation)
            called = _models_called(fake, seen)
            # The arbiter's first reply was recorded before the crash: it is reused, not asked
            # again. Only the interrupted specialist call is repeated.
            assert called["arbiter-model"] == 2, called
            assert called["coder-model"] == 2, called
            count = Message.objects.filter(conversation=conversation).count()
            baseline_messages = baseline_messages or count
            assert count == baseline_messages
    finally:
        worker.stop()
        beat.stop()


CLAIM_SCRIPT = """
import os, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmos_site.settings")
django.setup()
from orchestration.services.steps import step_claim
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
print("claimed" if step_claim(step_id=int(sys.argv[1]), owner=f"p{os.getpid()}") else "missed")
"""


def test_processes_racing_for_one_step_claim_it_once(consult_stack):
    _, env, _ = consult_stack
    for round_ in range(3):
        step = conversation_start(task=f"race {round_}").steps.get()
        start_at = time.time() + 4.0  # after every interpreter has imported Django
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", CLAIM_SCRIPT, str(step.pk), str(start_at)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outcomes = sorted(p.communicate(timeout=60)[0].strip() for p in racers)
        assert outcomes == ["claimed", "missed", "missed", "missed"]
        step.refresh_from_db()
        assert step.status == "running" and step.attempts == 1
