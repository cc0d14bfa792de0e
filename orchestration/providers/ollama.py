"""``OllamaClient``: Ollama's native API (``/api/chat``, ``/api/tags|show|ps|version``).

Wire rules from ``reference/ollama-api.md`` §13: ``stream`` is always sent; ``num_ctx`` is always
pinned; assistant tool turns are echoed with ``content: ""`` and object arguments; tool results are
strings with ``tool_name`` and ``tool_call_id``; tool calls are collected from every stream line
(pattern A: a ``done:false`` line, pattern B: the final line); legacy calls without ``id`` get one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from orchestration.engine import errors as e
from orchestration.engine.types import (
    ChatMessage,
    ModelReply,
    ModelRequest,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCallPart,
)
from orchestration.providers.base import (
    HttpModelClient,
    LoadedModel,
    ModelInfo,
    ServerHealth,
    check_request,
    tools_warning,
)
from orchestration.providers.wire import decode_arguments, new_call_id, ollama_usage_and_timing


class OllamaClient(HttpModelClient):
    """A ``ModelClient`` for one Ollama server."""

    kind = "ollama"

    # Chat --------------------------------------------------------------------------------------
    async def chat(self, request: ModelRequest, *, deadline_at: float | None = None) -> ModelReply:
        t0 = time.perf_counter()
        body, attempts = await self.http.request_json(
            "POST", "/api/chat", self.chat_body(request, stream=False), deadline_at=deadline_at
        )
        if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
            raise e.MalformedResponse(
                "chat reply has no message object", server=self.server, attempts=attempts
            )
        if body.get("error"):
            raise e.ServerError(str(body["error"]), server=self.server, attempts=attempts)
        message = body["message"]
        return self._reply(
            request, body, message.get("content") or "", _calls(message), t0, attempts
        )

    async def chat_stream(
        self, request: ModelRequest, *, deadline_at: float | None = None
    ) -> AsyncIterator[StreamEvent]:
        t0 = time.perf_counter()
        attempts: list = []
        text: list[str] = []
        calls: list[ToolCallPart] = []
        final: dict[str, Any] = {}
        lines = self.http.stream_json(
            "/api/chat",
            self.chat_body(request, stream=True),
            framing="ndjson",
            is_final=_is_done,
            error_of=_error_line,
            attempts=attempts,
            deadline_at=deadline_at,
        )
        async with aclosing(lines):
            async for line in lines:
                message = line.get("message") or {}
                piece = message.get("content") or ""
                if piece:
                    text.append(piece)
                    yield TextDelta(piece)
                calls.extend(_calls(message))  # pattern A and B both land here
                if line.get("done"):
                    final = line
        yield ReplyDone(self._reply(request, final, "".join(text), tuple(calls), t0, attempts))

    def chat_body(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The exact ``/api/chat`` JSON for ``request``."""
        check_request(request, server=self.server)
        o = request.options
        if o.num_ctx is None:
            # the server default differs by version and VRAM, and mixing values reloads models
            raise e.BadRequest("options.num_ctx must be pinned for Ollama", server=self.server)
        options: dict[str, Any] = {
            "num_ctx": o.num_ctx,
            "temperature": o.temperature,
            "top_p": o.top_p,
        }
        if o.seed is not None:
            options["seed"] = o.seed
        if o.num_predict is not None:
            options["num_predict"] = o.num_predict
        if o.stop:
            options["stop"] = list(o.stop)
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_wire_message(m) for m in request.messages],
            "stream": stream,
            "options": options,
        }
        if request.tools:
            body["tools"] = [t.to_wire() for t in request.tools]
        if request.response_format is not None:
            body["format"] = request.response_format
        if request.keep_alive is not None:
            body["keep_alive"] = request.keep_alive
        return body

    def _reply(
        self,
        request: ModelRequest,
        final: dict[str, Any],
        content: str,
        calls: tuple[ToolCallPart, ...],
        t0: float,
        attempts: list | tuple,
    ) -> ModelReply:
        usage, timing = ollama_usage_and_timing(final, (time.perf_counter() - t0) * 1000)
        return ModelReply(
            message=ChatMessage(role="assistant", content=content, tool_calls=calls),
            model=final.get("model") or request.model,
            server=self.server,
            done_reason=final.get("done_reason") or "",
            usage=usage,
            timing=timing,
            attempts=tuple(attempts),
        )

    # Server facts ------------------------------------------------------------------------------
    async def version(self, *, deadline_at: float | None = None) -> str:
        body, _ = await self.http.request_json("GET", "/api/version", deadline_at=deadline_at)
        return str(body.get("version", ""))

    async def tags(self, *, deadline_at: float | None = None) -> list[ModelInfo]:
        """Installed models. v0.30+ also reports context length and capabilities here."""
        body, _ = await self.http.request_json("GET", "/api/tags", deadline_at=deadline_at)
        out = []
        for m in body.get("models") or []:
            details = m.get("details") or {}
            out.append(
                ModelInfo(
                    name=m.get("name") or m.get("model", ""),
                    family=details.get("family", ""),
                    context_length=details.get("context_length"),
                    capabilities=tuple(m.get("capabilities") or ()),
                )
            )
        return out

    async def show(self, model: str, *, deadline_at: float | None = None) -> ModelInfo:
        """Context length (``<arch>.context_length``) and capabilities of one model."""
        body, _ = await self.http.request_json(
            "POST", "/api/show", {"model": model}, deadline_at=deadline_at
        )
        info = body.get("model_info") or {}
        arch = info.get("general.architecture", "")
        length = info.get(f"{arch}.context_length") if arch else None
        return ModelInfo(
            name=model,
            architecture=arch,
            family=(body.get("details") or {}).get("family", ""),
            context_length=length if isinstance(length, int) else None,
            capabilities=tuple(body.get("capabilities") or ()),
        )

    async def ps(self, *, deadline_at: float | None = None) -> list[LoadedModel]:
        body, _ = await self.http.request_json("GET", "/api/ps", deadline_at=deadline_at)
        return [
            LoadedModel(
                name=m.get("name") or m.get("model", ""),
                context_length=m.get("context_length"),
                size=m.get("size"),
                size_vram=m.get("size_vram"),
                expires_at=m.get("expires_at", ""),
            )
            for m in body.get("models") or []
        ]

    async def loaded_models(self, *, deadline_at: float | None = None) -> set[str]:
        return {m.name for m in await self.ps(deadline_at=deadline_at)}

    async def check_tools(self, model: str, *, deadline_at: float | None = None) -> str | None:
        """Warn (log + return the text) when ``model`` lacks the ``tools`` capability."""
        return tools_warning(await self.show(model, deadline_at=deadline_at))

    async def health(self, *, deadline_at: float | None = None) -> ServerHealth:
        t0 = time.perf_counter()
        version = await self.version(deadline_at=deadline_at)
        latency_ms = (time.perf_counter() - t0) * 1000
        installed, loaded = await asyncio.gather(
            self.tags(deadline_at=deadline_at), self.ps(deadline_at=deadline_at)
        )
        lengths = {m.name: m.context_length for m in installed if m.context_length}
        missing = [m.name for m in installed if m.name not in lengths]
        # servers before v0.30 only say it in /api/show
        for info in await asyncio.gather(*(self.show(n, deadline_at=deadline_at) for n in missing)):
            if info.context_length:
                lengths[info.name] = info.context_length
        return ServerHealth(
            version=version,
            installed_models=tuple(m.name for m in installed),
            loaded_models=tuple(m.name for m in loaded),
            context_lengths=lengths,
            latency_ms=latency_ms,
        )


def _wire_message(m: ChatMessage) -> dict[str, Any]:
    if m.role == "assistant" and m.tool_calls:
        # content must be "" or the qwen2.5 template silently drops the calls (§2.2)
        return {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": c.id, "function": {"index": i, "name": c.name, "arguments": c.arguments}}
                for i, c in enumerate(m.tool_calls)
            ],
        }
    if m.role == "tool":
        out: dict[str, Any] = {"role": "tool", "content": m.content}
        if m.tool_name:
            out["tool_name"] = m.tool_name
        if m.tool_call_id:
            out["tool_call_id"] = m.tool_call_id
        return out
    return {"role": m.role, "content": m.content}


def _calls(message: dict[str, Any]) -> tuple[ToolCallPart, ...]:
    calls = []
    for raw in message.get("tool_calls") or ():
        function = raw.get("function") or {}
        calls.append(
            ToolCallPart(
                id=raw.get("id") or new_call_id(),
                name=function.get("name", ""),
                arguments=decode_arguments(function.get("arguments")),
            )
        )
    return tuple(calls)


def _is_done(line: dict[str, Any]) -> bool:
    return bool(line.get("done"))


def _error_line(line: dict[str, Any]) -> e.ModelError | None:
    if "error" in line:
        return e.MidStreamError(str(line["error"]), status=200)
    return None
