"""Scripted conversations for the fake Ollama server: functions of the request that play the
arbiter, the specialists and the classifier the way real models answer on the wire."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import replies as r
from tests.fakes.ollama import RecordedRequest

CLASSIFICATION = {"complexity": 5, "type": "code_generation", "requires_speed": False}


def tool_names(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or ()}


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body.get("messages", []) if m.get("role") == "tool"]


@dataclass
class ConsultScenario:
    """The "consult" workload: the arbiter consults the coding specialist, then answers.

    Three model calls after classification: arbiter → ``consult_coding_specialist``; the coder's
    answer (after ``specialist_latency_s``); arbiter → ``final_answer``. ``in_flight`` counts
    specialist calls being answered right now (a test can kill a worker during one).
    """

    latency_s: float = 0.0
    specialist_latency_s: float = 0.0
    answer: str = "def parse(text):\n    return text.split()"
    in_flight: int = 0
    specialist_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: RecordedRequest) -> r.Reply:
        body = request.json
        if body.get("format"):
            return r.ollama_chat(body, json.dumps(CLASSIFICATION), latency_s=self.latency_s)
        if "final_answer" in tool_names(body):
            results = tool_results(body)
            if not results:
                call = ("consult_coding_specialist", {"query": "Write the parser.", "context": ""})
                return r.ollama_chat(body, tool_calls=[call], latency_s=self.latency_s)
            answer = f"The coding specialist wrote: {self.answer}"
            return r.ollama_chat(
                body, tool_calls=[("final_answer", {"answer": answer})], latency_s=self.latency_s
            )
        with self._lock:
            self.in_flight += 1
            self.specialist_calls += 1
        try:
            return r.ollama_chat(body, self.answer, latency_s=self.specialist_latency_s)
        finally:
            # The reply object is built now but sent after ``latency_s``; count the call as in
            # flight for that long from the server's side.
            threading.Timer(self.specialist_latency_s, self._done).start()

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1


def consult_config_yaml(url: str) -> str:
    """A configuration whose roles each have their own model name on the fake server."""
    return f"""\
servers:
  fake:
    url: {url}
    kind: ollama
    parallel: 32
    timeouts: {{connect: 2, read: 30, total: 60}}
orchestration:
  arbiter: {{model: arbiter-model, server: fake, role: coordinator, context_window: 8192}}
  specialists:
    coding: {{model: coder-model, server: fake, context_window: 8192}}
    reasoning: {{model: reasoner-model, server: fake, context_window: 8192}}
    analysis: {{model: analysis-model, server: fake, context_window: 8192}}
    interpreter: {{model: interpreter-model, server: fake, context_window: 8192}}
  routing:
    rules:
      - condition: "task.complexity > 7"
        specialist: reasoning
  conversation:
    max_models_per_conversation: 3
    include_full_history: false
    allow_model_to_model: true
    arbiter_reviews_all: true
"""


@dataclass
class EscalationScenario:
    """The arbiter asks the operator a question, then answers with what the operator said."""

    question: str = "Which database should the parser write to?"

    def __call__(self, request: RecordedRequest) -> r.Reply:
        body = request.json
        if body.get("format"):
            return r.ollama_chat(body, json.dumps(CLASSIFICATION))
        results = tool_results(body)
        if not results:
            call = (
                "escalate_to_user",
                {"question": self.question, "options": ["SQLite", "PostgreSQL"]},
            )
            return r.ollama_chat(body, tool_calls=[call])
        answer = json.loads(results[-1]).get("answer", "?")
        return r.ollama_chat(body, tool_calls=[("final_answer", {"answer": f"Using {answer}."})])
