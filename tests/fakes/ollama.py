"""``FakeOllama``: a test double — a real HTTP/1.1 server on loopback speaking Ollama's protocol.

It answers ``/api/chat`` (NDJSON or one JSON object), ``/api/tags``, ``/api/show``, ``/api/ps``,
``/api/version``, ``/v1/chat/completions`` (JSON or SSE), ``/v1/models`` and ``GET /``, with the
real shapes from ``ollama-responses.json``. Per path, an answer comes from (first match wins):
``always(reply)`` (a lasting fault until ``heal()``), the ``script(...)`` queue, a
``respond_with(fn)`` function of the request, or a default plain answer. Every request is
recorded in ``requests``. Run it standalone with ``python -m tests.fakes.ollama --port N``.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import replies as r
from tests.fakes.http_server import FakeHandler, FakeHttpServer, abort_connection
from tests.fakes.replies import FIXTURES, Reply

TEXT = "text/plain; charset=utf-8"
PLAIN_TEXT = FIXTURES["chat_plain"]["message"]["content"]
Responder = Callable[["RecordedRequest"], Reply]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeOllama:
    """Start with ``with FakeOllama() as fake:`` (or ``start()``/``stop()``); ``fake.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[RecordedRequest] = []
        self.version = FIXTURES["version"]["version"]
        self.tags_body: dict[str, Any] = FIXTURES["tags"]
        self.show_bodies: dict[str, dict[str, Any]] = _default_show_bodies()
        self.loaded: dict[str, int] = {  # model -> context_length, for /api/ps
            m["name"]: m["context_length"] for m in FIXTURES["ps"]["models"]
        }
        self.connections_opened = 0  # TCP connections accepted: shows whether clients pool them
        self.in_flight = 0  # chat requests being answered right now
        self.max_in_flight = 0  # the most ever answered at once: what slot limits must bound
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._responders: dict[str, Responder] = {}
        self._always: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd = FakeHttpServer((host, port), FakeHandler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # Lifecycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOllama:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and dripping handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            for conn in list(self._connections):
                abort_connection(conn)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Scripting ---------------------------------------------------------------------------------
    def script(self, *replies: Reply, path: str = "/api/chat") -> FakeOllama:
        with self._lock:
            self._queues[path].extend(replies)
        return self

    def respond_with(self, fn: Responder | None, path: str = "/api/chat") -> FakeOllama:
        with self._lock:
            if fn is None:
                self._responders.pop(path, None)
            else:
                self._responders[path] = fn
        return self

    def always(self, reply: Reply, path: str = "/api/chat") -> FakeOllama:
        with self._lock:
            self._always[path] = reply
        return self

    def heal(self, path: str = "/api/chat") -> FakeOllama:
        with self._lock:
            self._always.pop(path, None)
        return self

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [q for q in self.requests if q.path == path]

    def pending(self, path: str = "/api/chat") -> int:
        with self._lock:
            return len(self._queues[path])

    # Answering ---------------------------------------------------------------------------------
    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            fault = self._always.get(request.path)
            queue = self._queues.get(request.path)
            scripted = queue.popleft() if queue else None
            responder = self._responders.get(request.path)
        if fault is not None:
            return fault
        if scripted is not None:
            return scripted
        if responder is not None:
            return responder(request)
        return self._default(request)

    def _default(self, q: RecordedRequest) -> Reply:
        routes: dict[tuple[str, str], Callable[[], Reply]] = {
            ("GET", "/"): lambda: Reply(content_type=TEXT, body=b"Ollama is running"),
            ("HEAD", "/"): lambda: Reply(content_type=TEXT),
            ("GET", "/api/version"): lambda: r.json_reply({"version": self.version}),
            ("GET", "/api/tags"): lambda: r.json_reply(self.tags_body),
            ("GET", "/api/ps"): lambda: r.json_reply({"models": self._ps_models()}),
            ("POST", "/api/show"): lambda: self._show(q),
            ("POST", "/api/chat"): lambda: self._chat(q),
            ("POST", "/v1/chat/completions"): lambda: r.openai_chat(q.json or {}, PLAIN_TEXT),
            ("GET", "/v1/models"): lambda: r.json_reply(self._v1_models(), 200, "application/json"),
        }
        route = routes.get((q.method, q.path))
        if route is None:
            return Reply(status=404, content_type="text/plain", body=b"404 page not found")
        return route()

    def _chat(self, q: RecordedRequest) -> Reply:
        invalid = _validate_chat(q.body)
        return invalid if invalid is not None else r.ollama_chat(q.json, PLAIN_TEXT)

    def _show(self, q: RecordedRequest) -> Reply:
        model = (q.json or {}).get("model", "")
        body = self.show_bodies.get(model) or self.show_bodies.get(model.removesuffix(":latest"))
        return r.json_reply(body) if body else r.error(404, f"model '{model}' not found")

    def _ps_models(self) -> list[dict[str, Any]]:
        template = FIXTURES["ps"]["models"][0]
        return [
            {**template, "name": n, "model": n, "context_length": c} for n, c in self.loaded.items()
        ]

    def _v1_models(self) -> dict[str, Any]:
        data = [{"id": m["name"], "object": "model", "created": 1763630163, "owned_by": "library"}
                for m in self.tags_body.get("models", [])]  # fmt: skip
        return {"object": "list", "data": data}


def _default_show_bodies() -> dict[str, dict[str, Any]]:
    qwen = FIXTURES["show"]
    names = [m["name"] for m in FIXTURES["tags"]["models"]]
    bodies = {n: qwen for n in names if n.startswith("qwen")}
    bodies["functiongemma"] = FIXTURES["show_functiongemma"]
    return bodies


def _validate_chat(raw: bytes) -> Reply | None:
    """The request checks a real server makes, with its exact error bodies (§2, §7)."""
    if not raw:
        return r.fixture("error_missing_body")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return r.error(400, f"invalid character in request body: {exc}")
    if not body.get("model"):
        return r.fixture("error_missing_model")
    for message in body.get("messages") or ():
        if not isinstance(message.get("content", ""), str):
            return r.error(400, "json: cannot unmarshal array into Go struct field of type string")
        for call in message.get("tool_calls") or ():
            if not isinstance((call.get("function") or {}).get("arguments"), dict):
                return r.fixture("error_string_arguments_in_history")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake Ollama on loopback until killed.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeOllama(port=args.port).start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
