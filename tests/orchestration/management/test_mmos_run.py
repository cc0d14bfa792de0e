"""The CLI end to end: ``mmos_run`` and ``mmos_answer`` against the fake Ollama server, through
real workers, and (marked ``llama``) against the real local model."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from orchestration.models import Conversation, Escalation
from tests.fakes.scenarios import ConsultScenario, EscalationScenario, consult_config_yaml
from tests.fakes.stack import celery_beat, celery_worker, running, stack_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def config_file(tmp_path, fake_ollama):
    path = tmp_path / "mmos.yaml"
    path.write_text(consult_config_yaml(fake_ollama.url))
    return path


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_inline_run_prints_one_json_transcript(live_redis_settings, fake_ollama, config_file):
    fake_ollama.respond_with(ConsultScenario())

    code, out = run_cli(
        "mmos_run", "--inline", "--json", "--config", str(config_file), "Write a parser"
    )

    assert code == 0
    result = json.loads(out)
    assert {"id", "status", "final_answer", "messages"} <= set(result)
    assert result["status"] == "completed"
    assert "def parse" in result["final_answer"]
    seqs = [m["seq"] for m in result["messages"]]
    assert seqs == sorted(set(seqs))
    calls = [c for m in result["messages"] for c in m["tool_calls"]]
    consult = next(c for c in calls if c["name"] == "consult_coding_specialist")
    assert consult["arguments"]["query"] == "Write the parser."
    assert consult["status"] == "succeeded"
    assert isinstance(consult["repairs"], list)
    message = result["messages"][0]
    assert {"seq", "sender", "recipient", "role", "content", "tool_calls"} <= set(message)


def test_question_waits_then_mmos_answer_finishes_the_run(
    live_redis_settings, fake_ollama, config_file
):
    fake_ollama.respond_with(EscalationScenario())

    code, out = run_cli("mmos_run", "--inline", "--config", str(config_file), "Store the tokens")

    assert code == 0
    assert "waits: Which database should the parser write to?" in out
    escalation = Escalation.objects.get(status="open")

    code, out = run_cli("mmos_answer", str(escalation.pk), "PostgreSQL", "--inline", "--json")

    assert code == 0
    result = json.loads(out)
    assert (result["status"], result["final_answer"]) == ("completed", "Using PostgreSQL.")


def test_answering_twice_is_a_clear_error(live_redis_settings, fake_ollama, config_file):
    from django.core.management import CommandError

    fake_ollama.respond_with(EscalationScenario())
    run_cli("mmos_run", "--inline", "--config", str(config_file), "Store the tokens")
    escalation = Escalation.objects.get(status="open")
    run_cli("mmos_answer", str(escalation.pk), "PostgreSQL")

    with pytest.raises(CommandError, match="already answered"):
        call_command("mmos_answer", str(escalation.pk), "SQLite", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no escalation 999"):
        call_command("mmos_answer", "999", "x", stdout=io.StringIO())


@pytest.mark.slow
def test_run_through_a_celery_worker(live_redis_settings, fake_ollama, config_file, tmp_path):
    fake_ollama.respond_with(ConsultScenario())
    call_command("mmos_config", "load", str(config_file), stdout=io.StringIO())
    env = stack_env(redis_url=live_redis_settings)

    with running(celery_worker(env, tmp_path), celery_beat(env, tmp_path)):
        code, out = run_cli("mmos_run", "--json", "--timeout", "60", "Write a parser")

    assert code == 0, out
    assert json.loads(out)["status"] == "completed"


@pytest.mark.llama
@pytest.mark.slow
def test_embedded_model_drives_a_real_run_to_a_terminal_state(
    live_redis_settings, llama_server, tmp_path, settings
):
    from pathlib import Path

    config = (Path(settings.BASE_DIR) / "config" / "embedded.yaml").read_text()
    path = tmp_path / "embedded.yaml"
    path.write_text(config.replace("http://127.0.0.1:8089", llama_server.url))

    code, out = run_cli(
        "mmos_run",
        "--inline",
        "--json",
        "--timeout",
        "900",
        "--config",
        str(path),
        "Write a Python function that adds two numbers.",
    )

    result = json.loads(out)
    conversation = Conversation.objects.get(pk=result["id"])
    assert conversation.is_terminal, (conversation.status, conversation.status_reason)
    assert conversation.status != "failed", conversation.status_reason
    calls = [c for m in result["messages"] for c in m["tool_calls"]]
    assert calls, "the real model made no tool call"
    assert code in (0, 1)
