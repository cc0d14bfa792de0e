"""What the fake Ollama server sends back: ``Reply`` values and builders for them.

Bodies come from ``ollama-responses.json`` (a copy of the shared, real-shaped fixtures) or are
built in the same shapes. Fault modes are ``Reply`` fields: latency (cold load), byte drip, a cut
connection, a hang, a reset, a lying Content-Length.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURES: dict[str, Any] = json.loads(
    (Path(__file__).with_name("ollama-responses.json")).read_text(encoding="utf-8")
)
JSON_TYPE = "application/json; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
SSE_TYPE = "text/event-stream"


@dataclass(frozen=True)
class Reply:
    """One HTTP answer of the fake server, with optional fault behaviour."""

    status: int = 200
    content_type: str = JSON_TYPE
    body: bytes = b""
    chunks: tuple[bytes, ...] | None = None  # streamed: each piece flushed as one HTTP chunk
    latency_s: float = 0.0  # before the status line: a slow or cold server
    chunk_delay_s: float = 0.0  # between streamed chunks
    drip_s: float | None = None  # send the whole answer one byte at a time, this far apart
    cut_after: int | None = None  # chunks (stream) or bytes (body) sent before dropping the line
    hang: bool = False  # read the request, then never answer
    reset: bool = False  # close the connection without answering
    declared_length: int | None = None  # Content-Length to claim (a truncated body)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_reply(obj: Any, status: int = 200, content_type: str = JSON_TYPE) -> Reply:
    return Reply(status=status, content_type=content_type, body=_dumps(obj))


def ndjson_reply(lines: list[Any], *, chunk_delay_s: float = 0.0) -> Reply:
    return Reply(
        content_type=NDJSON_TYPE,
        chunks=tuple(_dumps(line) + b"\n" for line in lines),
        chunk_delay_s=chunk_delay_s,
    )


def sse_reply(events: list[Any], *, chunk_delay_s: float = 0.0) -> Reply:
    def frame(event: Any) -> bytes:
        data = b"[DONE]" if event == "[DONE]" else _dumps(event)
        return b"data: " + data + b"\n\n"

    return Reply(
        content_type=SSE_TYPE, chunks=tuple(frame(e) for e in events), chunk_delay_s=chunk_delay_s
    )


def fixture(name: str) -> Reply:
    """The named scenario from the shared fixtures, with its real status and content type."""
    meta = FIXTURES["_http"][name]
    value = FIXTURES[name]
    if meta["content_type"] == SSE_TYPE:
        return sse_reply(value)
    if isinstance(value, list):
        return ndjson_reply(value)
    return json_reply(value, meta["status"], meta["content_type"])


def error(status: int, message: str) -> Reply:
    """Ollama's native error envelope."""
    return json_reply({"error": message}, status)


def openai_error(status: int, message: str, kind: str = "api_error") -> Reply:
    return json_reply(
        {"error": {"message": message, "type": kind, "param": None, "code": None}},
        status,
        "application/json",
    )


# --- fault modes -----------------------------------------------------------------------------


def hang() -> Reply:
    return Reply(hang=True)


def reset() -> Reply:
    return Reply(reset=True)


def drip(reply: Reply, every_s: float) -> Reply:
    return replace(reply, drip_s=every_s)


def cut(reply: Reply, after: int) -> Reply:
    """Drop the connection after ``after`` stream chunks (or body bytes)."""
    return replace(reply, cut_after=after)


def truncated(reply: Reply, missing: int = 10) -> Reply:
    """Claim the full length, send ``missing`` bytes less, then close."""
    return replace(reply, declared_length=len(reply.body), cut_after=len(reply.body) - missing)


def malformed() -> Reply:
    return Reply(body=b'{"model":"qwen2.5:14b","message":{"role":"assistant","content":"The sk')


def cold(reply: Reply, load_s: float) -> Reply:
    """A model that must load first: ``load_s`` of silence and a matching ``load_duration``."""
    load_ns = int(load_s * 1e9)

    def patch(raw: bytes) -> bytes:
        obj = json.loads(raw)
        if isinstance(obj, dict) and obj.get("done"):
            obj["load_duration"] = load_ns
            obj["total_duration"] = obj.get("total_duration", 0) + load_ns
        return _dumps(obj) + (b"\n" if raw.endswith(b"\n") else b"")

    if reply.chunks is not None:
        return replace(reply, latency_s=load_s, chunks=tuple(patch(c) for c in reply.chunks))
    return replace(reply, latency_s=load_s, body=patch(reply.body))


# --- whole conversations: build real-shaped answers for a request -----------------------------


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def call_id() -> str:
    return "call_" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))


def ollama_chat(
    request: dict[str, Any],
    text: str = "",
    tool_calls: Sequence[tuple[str, dict[str, Any]]] = (),
    *,
    done_reason: str = "stop",
    latency_s: float = 0.0,
) -> Reply:
    """An ``/api/chat`` answer to ``request``: streamed unless it sent ``"stream": false``."""
    model = request.get("model", "")
    calls = [
        {"id": call_id(), "function": {"index": i, "name": name, "arguments": args}}
        for i, (name, args) in enumerate(tool_calls)
    ]
    metrics = {
        "total_duration": 631207958,
        "load_duration": 17261042,
        "prompt_eval_count": 36,
        "prompt_eval_duration": 48212000,
        "eval_count": max(1, len(text.split())),
        "eval_duration": 551920000,
    }
    head = {"model": model, "created_at": now_rfc3339()}
    if not request.get("stream", True):
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        body = {**head, "message": message, "done": True, "done_reason": done_reason, **metrics}
        return replace(json_reply(body), latency_s=latency_s)
    lines = [
        {**head, "message": {"role": "assistant", "content": piece}, "done": False}
        for piece in _pieces(text)
    ]
    if calls:  # pattern A: the calls in their own done:false line
        lines.append(
            {
                **head,
                "message": {"role": "assistant", "content": "", "tool_calls": calls},
                "done": False,
            }
        )
    final = {"role": "assistant", "content": ""}
    lines.append({**head, "message": final, "done": True, "done_reason": done_reason, **metrics})
    return replace(ndjson_reply(lines), latency_s=latency_s)


def openai_chat(
    request: dict[str, Any],
    text: str = "",
    tool_calls: Sequence[tuple[str, dict[str, Any]]] = (),
    *,
    latency_s: float = 0.0,
) -> Reply:
    """A ``/v1/chat/completions`` answer to ``request`` (SSE when it asked to stream)."""
    model = request.get("model", "")
    calls = [
        {"id": call_id(), "index": i, "type": "function",
         "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(tool_calls)
    ]  # fmt: skip
    finish = "tool_calls" if calls else "stop"
    usage = {"prompt_tokens": 36, "completion_tokens": max(1, len(text.split()))}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    head = {
        "id": "chatcmpl-412",
        "created": 1763630163,
        "model": model,
        "system_fingerprint": "fp_ollama",
    }
    if not request.get("stream", False):
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        choice = {"index": 0, "message": message, "finish_reason": finish}
        body = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
        return replace(json_reply(body, content_type="application/json"), latency_s=latency_s)
    chunk = {**head, "object": "chat.completion.chunk"}
    events: list[Any] = [
        {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece},
                               "finish_reason": None}]}
        for piece in _pieces(text)
    ]  # fmt: skip
    if calls:
        delta = {"role": "assistant", "content": "", "tool_calls": calls}
        events.append({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    events.append({**chunk, "choices": [], "usage": usage})
    events.append("[DONE]")
    return replace(sse_reply(events), latency_s=latency_s)


def _pieces(text: str) -> list[str]:
    """Token-like pieces: each word with its leading space, as Ollama streams them."""
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words) if w or i == 0] if text else []
