"""``ScriptedClient``: a deterministic ``ModelClient`` for tests, demos and replays.

Replies come from a queue (``enqueue``) or from a function of the request (``respond``); every
request is recorded in ``calls``. A script item may be a string (assistant text), a
``ChatMessage``, a full ``ModelReply`` or a ``ModelError`` instance (raised, to drive failure
paths). When the queue is empty and no function is set, the call raises ``ScriptExhausted``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
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
)
from orchestration.providers.base import ServerHealth

ScriptItem = str | ChatMessage | ModelReply | e.ModelError
Responder = Callable[[ModelRequest], ScriptItem]


def tool_call_message(name: str, arguments: dict[str, Any], *, call_id: str = "") -> ChatMessage:
    """An assistant turn that makes one tool call (a script item)."""
    call = ToolCallPart(id=call_id or f"call_{name[:8]}", name=name, arguments=arguments)
    return ChatMessage(role="assistant", content="", tool_calls=(call,))


class ScriptedClient:
    kind = "scripted"

    def __init__(
        self,
        replies: Iterable[ScriptItem] = (),
        *,
        respond: Responder | None = None,
        server: str = "scripted",
        latency_s: float = 0.0,
    ) -> None:
        self.server = server
        self.queue: deque[ScriptItem] = deque(replies)
        self.respond = respond
        self.latency_s = latency_s
        self.calls: list[ModelRequest] = []

    def enqueue(self, *items: ScriptItem) -> ScriptedClient:
        self.queue.extend(items)
        return self

    async def chat(self, request: ModelRequest, *, deadline_at: float | None = None) -> ModelReply:
        started, t0 = time.time(), time.perf_counter()
        self.calls.append(request)
        item = self._next(request)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        duration_ms = (time.perf_counter() - t0) * 1000
        if isinstance(item, e.ModelError):
            attempt = Attempt(1, self.server, started, duration_ms, type(item).__name__, str(item))
            item.server = item.server or self.server
            raise item.with_attempts((attempt,))
        attempt = Attempt(1, self.server, started, duration_ms, "ok")
        if isinstance(item, ModelReply):
            return replace(item, server=item.server or self.server, attempts=(attempt,))
        message = item if isinstance(item, ChatMessage) else ChatMessage("assistant", item)
        return ModelReply(
            message=message,
            model=request.model,
            server=self.server,
            done_reason="stop",
            timing=Timing(total_ms=duration_ms),
            attempts=(attempt,),
        )

    async def chat_stream(
        self, request: ModelRequest, *, deadline_at: float | None = None
    ) -> AsyncIterator[StreamEvent]:
        reply = await self.chat(request, deadline_at=deadline_at)
        # word-sized pieces, whitespace kept, so joined deltas equal the content exactly
        for piece in re.findall(r"\s*\S+\s*", reply.message.content):
            yield TextDelta(piece)
        yield ReplyDone(reply)

    async def health(self, *, deadline_at: float | None = None) -> ServerHealth:
        return ServerHealth()

    async def loaded_models(self, *, deadline_at: float | None = None) -> set[str]:
        return set()

    def _next(self, request: ModelRequest) -> ScriptItem:
        if self.queue:
            return self.queue.popleft()
        if self.respond is not None:
            return self.respond(request)
        raise e.ScriptExhausted(
            f"scripted client {self.server!r} has no reply left for call #{len(self.calls)} "
            f"(model {request.model!r}, last message: {_last_text(request)!r})",
            server=self.server,
        )


def _last_text(request: ModelRequest) -> str:
    return request.messages[-1].content[:80] if request.messages else ""
