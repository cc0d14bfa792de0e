"""End to end in a real browser: Daphne, a real Celery worker, Redis and the fake Ollama server.

One person follows a three-model run live, reads a repaired tool call's trail, rides out a
dropped websocket, answers the arbiter's question and watches the run finish; then an admin
edits a prompt template and the next run uses the new version. Screenshots for the README are
taken on the way.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field

import pytest

from orchestration.config.schema import config_parse
from orchestration.models import Conversation, Escalation
from orchestration.services.config import config_load
from orchestration.services.prompt_seed import prompt_templates_seed
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import PASSWORD, AdminFactory, OperatorFactory
from tests.fakes import replies as r
from tests.fakes.ollama import RecordedRequest
from tests.fakes.scenarios import CLASSIFICATION, consult_config_yaml, tool_results
from tests.fakes.stack import celery_worker, running, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT_MS = 30_000
MARKER = "Answer like a careful reviewer (template v2)."


@dataclass
class InspectorScenario:
    """Arbiter: a consult written as text (the cascade repairs it), then a question for the
    operator, then the final answer. The coder streams its reply slowly, and waits for
    ``release`` so the test can drop the websocket while the run goes on."""

    question: str = "Which Python version should the code target?"
    answer: str = " ".join(["def reverse(text):", "return text[::-1]"] + ["# slice"] * 24)
    release: threading.Event = field(default_factory=threading.Event)

    def __call__(self, request: RecordedRequest) -> r.Reply:
        body = request.json
        if body.get("format"):
            return r.ollama_chat(body, json.dumps(CLASSIFICATION))
        if body["model"] == "coder-model":
            self.release.wait(timeout=60)
            return r.drip(r.ollama_chat(body, self.answer), 0.001)  # per byte: ~4 s
        results = tool_results(body)
        if not results:
            call = {
                "name": "consult_coding_specialist",
                "arguments": {"query": "Write reverse(text).", "context": ""},
            }
            return r.ollama_chat(body, f"<tool_call>{json.dumps(call)}</tool_call>")
        if len(results) == 1:
            question = {"question": self.question, "options": ["3.11", "3.12"]}
            return r.ollama_chat(body, tool_calls=[("escalate_to_user", question)])
        answer = json.loads(results[-1]).get("answer", "?")
        return r.ollama_chat(
            body, tool_calls=[("final_answer", {"answer": f"reverse() for Python {answer}."})]
        )


def _lane_of(page, participant: str) -> int:
    names = page.locator(".lane-head").all_inner_texts()
    return names.index(participant) + 1


def _sender_column(msg_class: str) -> int:
    """The lane an arrow starts from: its first column, or its last when it points left."""
    start = int(re.search(r"gs-(\d+)", msg_class)[1])
    end = int(re.search(r"ge-(\d+)", msg_class)[1])
    return end - 1 if "dir-left" in msg_class else start


def _start_run(page, task: str) -> None:
    if not page.locator("#id_task").is_visible():
        page.click("details.start summary")
    page.fill("#id_task", task)
    page.click("#run-start button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))


def _log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/$"))


def test_operator_follows_a_run_live_answers_and_an_admin_fixes_a_prompt(
    watched_page, daphne_server, live_redis_settings, fake_ollama, e2e_env, tmp_path
):
    page = watched_page
    scenario = InspectorScenario()
    fake_ollama.respond_with(scenario)
    config_load(config=config_parse(consult_config_yaml(fake_ollama.url)))
    prompt_templates_seed()
    OperatorFactory(username="alice")
    AdminFactory(username="bob")
    navigations: list[str] = []
    page.on(
        "framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url)
    )

    with running(celery_worker(e2e_env, tmp_path, concurrency=2)):
        # Log in, start a run from the form.
        _log_in(page, "alice")
        _start_run(page, "Write reverse(text) in Python.")
        run = Conversation.objects.latest("pk")
        page.wait_for_selector("html[data-live='open']", timeout=TIMEOUT_MS)
        loads = len(navigations)

        # The arbiter's reply (a consult written as text) appears in the arbiter's lane.
        arbiter_row = page.locator('.seq-row[data-sender="arbiter"] .role-assistant').first
        arbiter_row.wait_for(timeout=TIMEOUT_MS)
        assert _sender_column(arbiter_row.get_attribute("class")) == _lane_of(page, "arbiter")
        assert "<tool_call>" in arbiter_row.inner_text()

        # Tokens stream into the coder's row while it generates.
        scenario.release.set()
        page.wait_for_selector("#streams .seq-row", timeout=TIMEOUT_MS)
        streamed = page.locator("#streams .msg-body").first.inner_text()
        assert streamed and len(streamed) < len(scenario.answer)

        # Drop the websocket mid-run: the server goes away while the run carries on.
        daphne_server.kill()
        page.wait_for_selector("html[data-live='closed']", timeout=TIMEOUT_MS)
        wait_until(
            lambda: Escalation.objects.filter(conversation=run, status="open").exists(),
            timeout=60,
            message="the arbiter never asked its question",
        )
        daphne_server.start()
        page.wait_for_selector("html[data-live='open']", timeout=TIMEOUT_MS)
        # Caught up without reloading: the coder's reply in its lane, and the question.
        coder_row = page.locator('.seq-row[data-sender="coding"]').last
        coder_row.wait_for(timeout=TIMEOUT_MS)
        assert f"gs-{_lane_of(page, 'coding')} " in coder_row.locator(".msg").get_attribute(
            "class"
        ) or f"ge-{_lane_of(page, 'coding') + 1} " in coder_row.locator(".msg").get_attribute(
            "class"
        )
        assert "return text[::-1]" in coder_row.inner_text()
        # The repaired call's trail: what the model sent and what the cascade made of it.
        trail = page.locator(".call .repairs").first.inner_text()
        assert "extract_tool_call_tags" in trail
        assert "consult_coding_specialist" in trail
        question = page.locator("#run-escalations .escalation.status-open")
        question.wait_for(timeout=TIMEOUT_MS)
        assert scenario.question in question.inner_text()
        assert page.locator("#streams .seq-row").count() == 0
        seqs = [
            int(s)
            for s in page.locator("#seq-rows > .seq-row").evaluate_all(
                "rows => rows.map(r => r.dataset.seq)"
            )
        ]
        assert seqs == sorted(set(seqs))

        # Answer inline; watch the run finish.
        question.locator('button[name="option"][value="3.12"]').click()
        page.wait_for_selector("#run-status .badge.status-completed", timeout=TIMEOUT_MS)
        assert "reverse() for Python 3.12." in page.locator("#run-status .final").inner_text()
        assert len(navigations) == loads  # everything above arrived without a reload
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "run-detail.png"), full_page=True)

        # An admin edits the arbiter's template; the next run uses the new version.
        page.context.clear_cookies()
        _log_in(page, "bob")
        page.goto("/templates/arbiter.system/")
        body = page.locator("#id_body")
        body.fill(MARKER + "\n" + body.input_value())
        page.wait_for_function(
            "marker => document.querySelector('#preview pre').textContent.includes(marker)",
            arg=MARKER,
            timeout=TIMEOUT_MS,
        )
        page.fill("#id_note", "Ask for care")
        page.click("#template-form button[type=submit]")
        page.wait_for_selector("#version-2.active", timeout=TIMEOUT_MS)
        page.screenshot(path=str(SCREENSHOTS / "template-editor.png"), full_page=True)

        seen = len(fake_ollama.requests_to("/api/chat"))
        page.goto("/runs/")
        _start_run(page, "Write reverse(text) again.")

        def arbiter_saw_marker() -> bool:
            for request in fake_ollama.requests_to("/api/chat")[seen:]:
                body = request.json
                if body["model"] == "arbiter-model" and not body.get("format"):
                    return MARKER in body["messages"][0]["content"]
            return False

        wait_until(arbiter_saw_marker, timeout=60, message="the next run did not use v2")

    assert page.mmos_log.page_errors == []
