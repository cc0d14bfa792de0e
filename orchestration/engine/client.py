"""The one port through which the engine talks to models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from orchestration.engine.types import ModelReply, ModelRequest, StreamEvent


@runtime_checkable
class ModelClient(Protocol):
    """A model server client: ``OllamaClient``, ``OpenAIClient`` or ``ScriptedClient``."""

    async def chat(self, request: ModelRequest) -> ModelReply:
        """Send one request and return the whole reply. Raises ``ModelError`` subclasses."""
        ...

    def chat_stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Yield ``TextDelta`` events while the model generates, then one ``ReplyDone``."""
        ...
