"""``OpenAIClient``: any ``/v1/chat/completions`` server (llama.cpp, vLLM, LM Studio, Ollama /v1).

Differences from the native Ollama API that matter (``reference/ollama-api.md`` §9): tool-call
arguments travel as JSON *strings*; streaming is SSE ending in ``data: [DONE]``; unset
``temperature``/``top_p`` may be forced to 1.0 by the server, so both are always sent; there is no
``num_ctx`` (the server's own setting applies).

Structured output: the standard ``response_format`` is ``{"type": "json_schema", ...}``;
llama-cpp-python's server only knows ``{"type": "json_object", "schema": ...}`` and rejects the
standard form with a validation error. The client sends the standard form first and, on a 4xx
that names ``response_format``, switches that server to the llama-cpp-python form for good.

Streaming with tools: llama-cpp-python's ``chatml-function-calling`` refuses to stream when the
model may choose between text and a call; it answers 200 and then breaks the stream. When a
stream that offered tools breaks before any text, the client asks again without streaming and
keeps doing so for that server (the text then arrives as one delta). Other servers stream calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from orchestration.engine import errors as e
from orchestration.engine.types import (
    Attempt,
    ChatMessage,
    ModelReply,
    ModelRequest,
    ReplyDone,
    StreamEvent,
    TextDelta,
    Timing,
    ToolCallPart,
    Usage,
)
from orchestration.providers.base import HttpModelClient, ServerHealth, check_request
from orchestration.providers.wire import RAW_ARGUMENTS, decode_arguments, new_call_id


class OpenAIClient(HttpModelClient):
    """A ``ModelClient`` for one OpenAI-compatible server."""

    kind = "openai"

    # Learned per server from its answers (see the module doc); instance attributes once changed.
    schema_style = "json_schema"
    stream_tools = True

    async def chat(self, request: ModelRequest, *, deadline_at: float | None = None) -> ModelReply:
        try:
            return await self._chat(request, deadline_at)
        except e.BadRequest as err:
            if not self._switch_schema_style(request, err):
                raise
            return await self._chat(request, deadline_at)

    async def chat_stream(
        self, request: ModelRequest, *, deadline_at: float | None = None
    ) -> AsyncIterator[StreamEvent]:
        if request.tools and not self.stream_tools:
            async for event in self._whole(request, deadline_at):
                yield event
            return
        shown = False
        try:
            async with aclosing(self._chat_stream(request, deadline_at)) as events:
                async for event in events:
                    shown = True
                    yield event
            return
        except (e.StreamTruncated, e.MidStreamError):
            if shown or not request.tools:
                raise
            self.stream_tools = False
            async for event in self._whole(request, deadline_at):
                yield event
            return
        except e.BadRequest as err:
            if not self._switch_schema_style(request, err):
                raise
        async with aclosing(self._chat_stream(request, deadline_at)) as events:
            async for event in events:
                yield event

    async def _whole(
        self, request: ModelRequest, deadline_at: float | None
    ) -> AsyncIterator[StreamEvent]:
        reply = await self.chat(request, deadline_at=deadline_at)
        if reply.message.content:
            yield TextDelta(reply.message.content)
        yield ReplyDone(reply)

    def _switch_schema_style(self, request: ModelRequest, err: e.BadRequest) -> bool:
        """True when ``err`` is a server refusing the standard schema form (see module doc)."""
        if request.response_format is None or self.schema_style != "json_schema":
            return False
        if "response_format" not in err.message:
            return False
        self.schema_style = "json_object"
        return True

    async def _chat(self, request: ModelRequest, deadline_at: float | None) -> ModelReply:
        t0 = time.perf_counter()
        body, attempts = await self.http.request_json(
            "POST", "/v1/chat/completions", self.chat_body(request, stream=False),
            deadline_at=deadline_at,
        )  # fmt: skip
        choices = body.get("choices") if isinstance(body, dict) else None
        if not choices or not isinstance(choices[0].get("message"), dict):
            raise e.MalformedResponse("completion has no choices[0].message", server=self.server)
        message = choices[0]["message"]
        calls = tuple(
            ToolCallPart(
                id=c.get("id") or new_call_id(),
                name=(c.get("function") or {}).get("name", ""),
                arguments=decode_arguments((c.get("function") or {}).get("arguments")),
            )
            for c in message.get("tool_calls") or ()
        )
        return self._reply(
            request, body, message.get("content") or "", calls,
            choices[0].get("finish_reason") or "", t0, attempts,
        )  # fmt: skip

    async def _chat_stream(
        self, request: ModelRequest, deadline_at: float | None
    ) -> AsyncIterator[StreamEvent]:
        t0 = time.perf_counter()
        attempts: list[Attempt] = []
        text: list[str] = []
        partial: dict[int, dict[str, str]] = {}  # tool calls arrive in pieces, keyed by index
        finish_reason = ""
        last: dict[str, Any] = {}
        events = self.http.stream_json(
            "/v1/chat/completions",
            self.chat_body(request, stream=True),
            framing="sse",
            is_final=_has_finish_reason,
            error_of=_error_event,
            attempts=attempts,
            deadline_at=deadline_at,
        )
        async with aclosing(events):
            async for event in events:
                last = {**last, **{k: v for k, v in event.items() if v is not None}}
                for choice in event.get("choices") or ():
                    delta = choice.get("delta") or {}
                    piece = delta.get("content") or ""
                    if piece:
                        text.append(piece)
                        yield TextDelta(piece)
                    for position, c in enumerate(delta.get("tool_calls") or ()):
                        slot = partial.setdefault(
                            c.get("index", position), {"id": "", "name": "", "arguments": ""}
                        )
                        function = c.get("function") or {}
                        slot["id"] = slot["id"] or c.get("id") or ""
                        slot["name"] += function.get("name") or ""
                        slot["arguments"] += function.get("arguments") or ""
                    finish_reason = choice.get("finish_reason") or finish_reason
        calls = tuple(
            ToolCallPart(
                id=p["id"] or new_call_id(),
                name=p["name"],
                arguments=decode_arguments(p["arguments"]),
            )
            for _, p in sorted(partial.items())
        )
        reply = self._reply(request, last, "".join(text), calls, finish_reason, t0, attempts)
        yield ReplyDone(reply)

    def chat_body(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The exact ``/v1/chat/completions`` JSON for ``request``."""
        check_request(request, server=self.server)
        o = request.options
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_wire_message(m) for m in request.messages],
            "stream": stream,
            "temperature": o.temperature,
            "top_p": o.top_p,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        if o.seed is not None:
            body["seed"] = o.seed
        if o.num_predict is not None:
            body["max_tokens"] = o.num_predict
        if o.stop:
            body["stop"] = list(o.stop)
        if request.tools:
            body["tools"] = [t.to_wire() for t in request.tools]
            # llama-cpp-python's chatml-function-calling ignores the tools unless told to use
            # them, so "auto" is sent whenever tools are offered and nothing else was asked.
            choice = request.tool_choice or "auto"
            if choice in ("auto", "none", "required"):
                body["tool_choice"] = choice
            elif choice:
                body["tool_choice"] = {"type": "function", "function": {"name": choice}}
        if request.response_format is not None and self.schema_style == "json_object":
            body["response_format"] = {"type": "json_object", "schema": request.response_format}
        elif request.response_format is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": request.response_format, "strict": True},
            }
        return body

    def _reply(
        self,
        request: ModelRequest,
        body: dict[str, Any],
        content: str,
        calls: tuple[ToolCallPart, ...],
        finish_reason: str,
        t0: float,
        attempts: list[Attempt] | tuple[Attempt, ...],
    ) -> ModelReply:
        usage = body.get("usage") or {}
        timings = body.get("timings") or {}  # llama.cpp's C++ server reports these
        return ModelReply(
            message=ChatMessage(role="assistant", content=content, tool_calls=calls),
            model=body.get("model") or request.model,
            server=self.server,
            done_reason=finish_reason,
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
            ),
            timing=Timing(
                prompt_eval_ms=timings.get("prompt_ms"),
                generation_ms=timings.get("predicted_ms"),
                total_ms=(time.perf_counter() - t0) * 1000,
            ),
            attempts=tuple(attempts),
        )

    # Server facts ------------------------------------------------------------------------------
    async def models(self, *, deadline_at: float | None = None) -> list[dict[str, Any]]:
        body, _ = await self.http.request_json("GET", "/v1/models", deadline_at=deadline_at)
        return [m for m in body.get("data") or () if isinstance(m, dict)]

    async def loaded_models(self, *, deadline_at: float | None = None) -> set[str]:
        # an OpenAI-compatible server serves exactly the models it lists
        return {m.get("id", "") for m in await self.models(deadline_at=deadline_at)}

    async def health(self, *, deadline_at: float | None = None) -> ServerHealth:
        t0 = time.perf_counter()
        models = await self.models(deadline_at=deadline_at)
        names = tuple(m.get("id", "") for m in models)
        lengths = {}
        for m in models:
            # vLLM: max_model_len; llama.cpp's C++ server: meta.n_ctx_train
            length = m.get("max_model_len") or (m.get("meta") or {}).get("n_ctx_train")
            if isinstance(length, int):
                lengths[m.get("id", "")] = length
        return ServerHealth(
            installed_models=names,
            loaded_models=names,
            context_lengths=lengths,
            latency_ms=(time.perf_counter() - t0) * 1000,
        )


def _wire_message(m: ChatMessage) -> dict[str, Any]:
    if m.role == "assistant" and m.tool_calls:
        return {
            "role": "assistant",
            "content": m.content,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": _arguments_text(c.arguments)},
                }
                for c in m.tool_calls
            ],
        }
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    return {"role": m.role, "content": m.content}


def _arguments_text(arguments: dict[str, Any]) -> str:
    if set(arguments) == {RAW_ARGUMENTS}:
        return str(arguments[RAW_ARGUMENTS])
    return json.dumps(arguments, ensure_ascii=False)


def _has_finish_reason(event: dict[str, Any]) -> bool:
    return any(c.get("finish_reason") for c in event.get("choices") or ())


def _error_event(event: dict[str, Any]) -> e.ModelError | None:
    err = event.get("error")
    if err is None:
        return None
    message = err.get("message") if isinstance(err, dict) else str(err)
    return e.MidStreamError(message or "error event in stream", status=200)
