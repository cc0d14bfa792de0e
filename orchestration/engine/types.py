"""Plain values that cross the engine boundary: messages, tools, replies, timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: a name, a description and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The OpenAI-style function tool that both Ollama and /v1 servers accept."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolCallPart:
    """One tool call as the model made it (arguments already decoded to an object)."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn. Assistant turns may carry tool calls; tool turns answer one call."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCallPart, ...] = ()
    tool_call_id: str | None = None
    tool_name: str | None = None


@dataclass(frozen=True)
class ModelOptions:
    """Sampling and load options. ``num_ctx`` is pinned per specialist, never left to the server."""

    num_ctx: int | None = None
    temperature: float = 0.2
    top_p: float = 0.9
    seed: int | None = None
    num_predict: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelRequest:
    """Everything one model call needs. ``response_format`` is a JSON schema, never sent with
    tools."""

    model: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolSpec, ...] = ()
    response_format: dict[str, Any] | None = None
    # "auto" (the default when tools are offered), "none", "required", or one tool's name.
    tool_choice: str | None = None
    options: ModelOptions = field(default_factory=ModelOptions)
    keep_alive: str | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @property
    def total_tokens(self) -> int:
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)


@dataclass(frozen=True)
class Timing:
    """Where the time of one call went, in milliseconds. Unknown parts stay ``None``."""

    queue_wait_ms: float | None = None
    load_ms: float | None = None
    prompt_eval_ms: float | None = None
    generation_ms: float | None = None
    total_ms: float | None = None


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a call, kept so the inspector can show retries."""

    number: int
    server: str
    started_at: float
    duration_ms: float
    outcome: str  # "ok" or the error class name
    detail: str = ""


@dataclass(frozen=True)
class ModelReply:
    """The complete reply to one call."""

    message: ChatMessage
    model: str
    server: str = ""
    done_reason: str = ""
    usage: Usage = field(default_factory=Usage)
    timing: Timing = field(default_factory=Timing)
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class TextDelta:
    """A piece of text streamed while the model generates."""

    text: str


@dataclass(frozen=True)
class ReplyDone:
    """The last event of a stream: the full reply."""

    reply: ModelReply


StreamEvent = TextDelta | ReplyDone
