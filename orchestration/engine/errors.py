"""Errors a model call can end with. Each says whether retrying can help.

The classes follow the error catalogue of ``reference/ollama-api.md`` §7: a provider maps a status
code, an error body or a transport failure onto exactly one of them. ``retryable`` answers "can
another attempt of the *same* request help?"; the HTTP module retries only those, and the server
pool fails retryable errors over to another server.
"""

from __future__ import annotations

from typing import Any

from orchestration.engine.types import Attempt


class ModelError(Exception):
    """Base of every model-call failure. ``retryable`` tells whether another attempt can help.

    ``attempts`` holds every HTTP attempt made before the call gave up, for the inspector.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server: str = "",
        attempts: tuple[Attempt, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.server = server
        self.attempts = tuple(attempts)

    def with_attempts(self, attempts: tuple[Attempt, ...]) -> ModelError:
        """Attach the attempt trail (the HTTP module does this once the call has ended)."""
        self.attempts = tuple(attempts)
        return self

    def __str__(self) -> str:
        where = f" [{self.server}]" if self.server else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.message}{status}{where}"

    def __reduce__(self) -> tuple[Any, ...]:  # exceptions that cross Celery must pickle
        return (_rebuild, (type(self), self.message, self.status, self.server, self.attempts))


def _rebuild(
    cls: type[ModelError],
    message: str,
    status: int | None,
    server: str,
    attempts: tuple[Attempt, ...] = (),
) -> ModelError:
    return cls(message, status=status, server=server, attempts=attempts)


# --- transport: the request may never have reached the model -------------------------------


class ConnectFailed(ModelError):
    """Refused, reset or timed out while connecting, or closed before any response arrived."""

    retryable = True


class ResponseTimeout(ModelError):
    """The server went silent for longer than the read timeout."""

    retryable = True


class DeadlineExceeded(ModelError):
    """The call's total deadline passed (slot wait, retries and streaming included). Final."""

    retryable = False


# --- the server answered with a failure ------------------------------------------------------


class ServerBusy(ModelError):
    """503: the scheduler queue is full (models being swapped). Back off and retry."""

    retryable = True


class ServerError(ModelError):
    """500/502/504: the runner crashed or a proxy failed. Another attempt may succeed."""

    retryable = True


class MidStreamError(ServerError):
    """An ``{"error": ...}`` line inside a 200 stream: the runner failed after output began.

    Same cause as a 500 that arrived before the first byte, so equally retryable; but a stream
    that already showed text to its consumer is never retried by the HTTP module itself.
    """


class StreamTruncated(ModelError):
    """The connection closed before the reply was complete (no final line / short body)."""

    retryable = True


class MalformedResponse(ModelError):
    """The server sent something that is not the protocol (invalid JSON, missing fields)."""

    retryable = False


class BadRequest(ModelError):
    """4xx: the request itself is wrong (string arguments in history, bad option type, ...)."""

    retryable = False


class ModelNotFound(BadRequest):
    """404: the model is not installed on that server."""


class ModelUnsupported(BadRequest):
    """400: the model lacks a capability the request needs (``tools``, ``thinking``, chat)."""


class ContextOverflow(BadRequest):
    """400: the prompt is longer than the context window (only with truncation switched off)."""


# --- raised by our own layers ----------------------------------------------------------------


class NoServerAvailable(ModelError):
    """Every server that could run the model is cooling down or failed this call."""

    retryable = False


class ScriptExhausted(ModelError):
    """A ``ScriptedClient`` was called more times than its script has replies."""

    retryable = False
