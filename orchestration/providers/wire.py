"""Protocol details shared by the Ollama and OpenAI-compatible clients: error bodies and ids."""

from __future__ import annotations

import json
import uuid
from typing import Any

from orchestration.engine import errors as e
from orchestration.engine.types import Timing, Usage


def error_message(raw: bytes) -> str:
    """The human text of an error body: Ollama ``{"error": "..."}``, OpenAI
    ``{"error": {"message": ...}}``, FastAPI ``{"detail": ...}``, or the raw text."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:500].decode("utf-8", "replace").strip()
    if isinstance(body, dict):
        err = body.get("error", body.get("detail"))
        if isinstance(err, dict):
            return str(err.get("message") or err)
        if err is not None:
            return err if isinstance(err, str) else json.dumps(err)[:500]
    return json.dumps(body)[:500]


def error_from_status(status: int, message: str, server: str = "") -> e.ModelError:
    """Map an error status and its message onto the error catalogue (ollama-api.md §7)."""
    low = message.lower()
    cls: type[e.ModelError]
    if "must be of type" in low or "validation error" in low:
        # Ollama answers a wrongly typed option with 500, llama-cpp-python a pydantic validation
        # error with 500: no retry can fix our request
        cls = e.BadRequest
    elif status == 404:
        cls = e.ModelNotFound if "model" in low else e.BadRequest
    elif status in (429, 503):
        cls = e.ServerBusy
    elif status == 408:
        cls = e.ResponseTimeout
    elif status >= 500:
        cls = e.ServerError
    elif "does not support" in low:
        cls = e.ModelUnsupported
    elif "context length" in low or "context window" in low or "maximum context" in low:
        cls = e.ContextOverflow
    elif "not found" in low and "model" in low:
        cls = e.ModelNotFound
    else:
        cls = e.BadRequest
    return cls(message or f"HTTP {status}", status=status, server=server)


def new_call_id() -> str:
    """An id for a tool call the server sent without one (Ollama < 0.12.10), same shape as
    Ollama's own: ``call_`` + 8 characters."""
    return "call_" + uuid.uuid4().hex[:8]


def decode_arguments(raw: Any) -> dict[str, Any]:
    """Tool-call arguments as an object. OpenAI-style servers send a JSON string; text that is
    not a JSON object is kept under ``RAW_ARGUMENTS`` so the repair cascade can still see it."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {RAW_ARGUMENTS: raw}
        if isinstance(value, dict):
            return value
    return {RAW_ARGUMENTS: raw if isinstance(raw, str) else json.dumps(raw)}


RAW_ARGUMENTS = "__raw_arguments__"


def ns_to_ms(value: Any) -> float | None:
    return value / 1e6 if isinstance(value, int | float) else None


def ollama_usage_and_timing(final: dict[str, Any], total_ms: float) -> tuple[Usage, Timing]:
    """Usage and the timing split from Ollama's final line (durations are nanoseconds)."""
    usage = Usage(
        prompt_tokens=final.get("prompt_eval_count"),
        completion_tokens=final.get("eval_count"),
    )
    timing = Timing(
        load_ms=ns_to_ms(final.get("load_duration")),
        prompt_eval_ms=ns_to_ms(final.get("prompt_eval_duration")),
        generation_ms=ns_to_ms(final.get("eval_duration")),
        total_ms=total_ms,
    )
    return usage, timing
