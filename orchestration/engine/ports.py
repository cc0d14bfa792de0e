"""The ports through which the engine records what happens and reaches models.

The services implement ``RunJournal`` on top of the database; tests use an in-memory one.
Every write carries a journal ``key`` unique within the conversation: a step that runs again after
a crash looks its keys up and reuses what was already recorded instead of calling a model twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from orchestration.engine.client import ModelClient
from orchestration.engine.state import SpecialistInfo
from orchestration.engine.types import Attempt, Timing, Usage


@dataclass(frozen=True)
class MessageRecord:
    """One message to store. ``thread_key`` names the participant's thread it belongs to
    (``arbiter`` for the arbiter's own thread; e.g. ``consult:<call_id>`` for a consult)."""

    key: str
    thread_key: str
    participant: str
    sender: str
    recipient: str
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[dict[str, Any], ...] = ()
    tool_call_id: str = ""
    model: str = ""
    server: str = ""
    done_reason: str = ""
    usage: Usage = field(default_factory=Usage)
    timing: Timing = field(default_factory=Timing)
    attempts: tuple[Attempt, ...] = ()
    estimated_prompt_tokens: int | None = None
    truncation_suspected: bool = False
    original_content: str = ""
    review: dict[str, Any] | None = None
    withheld: tuple[Any, ...] = ()
    thread_label: str = ""
    parent_thread_key: str = ""


@dataclass(frozen=True)
class RecordedMessage:
    seq: int
    record: MessageRecord


ToolCallStatus = Literal[
    "proposed", "awaiting_approval", "running", "succeeded", "failed", "rejected", "invalid"
]


@dataclass(frozen=True)
class ToolCallRecord:
    key: str
    call_id: str
    name: str
    arguments: dict[str, Any]
    status: ToolCallStatus
    result: str = ""
    error: str = ""
    repairs: tuple[dict[str, Any], ...] = ()
    message_key: str = ""


@dataclass(frozen=True)
class EscalationRecord:
    key: str
    kind: Literal["question", "approval"]
    question: str
    options: tuple[str, ...] = ()
    tool_call_key: str = ""


class RunJournal(Protocol):
    """Where the engine writes. Every method is idempotent by ``key``."""

    async def message_lookup(self, key: str) -> RecordedMessage | None: ...

    async def message_record(self, record: MessageRecord) -> RecordedMessage: ...

    async def tool_call_lookup(self, key: str) -> ToolCallRecord | None: ...

    async def tool_call_record(self, record: ToolCallRecord) -> None: ...

    async def escalation_open(self, record: EscalationRecord) -> None: ...

    async def conversation_update(self, **changes: Any) -> None:
        """Changes among: ``phase`` (with ``phase_reason``), ``classification``,
        ``routing_decision``, ``tokens_used`` (added), ``tool_calls_used`` (added),
        ``participants`` (roles that took part)."""
        ...

    async def stream_delta(self, key: str, participant: str, text: str) -> None:
        """Tokens of the message that will be recorded under ``key``, as they are generated."""
        ...


class ModelDirectory(Protocol):
    """Reaches the model behind a role."""

    def specialist(self, role: str) -> SpecialistInfo: ...

    def client_for(self, role: str) -> ModelClient: ...


StepNext = Literal["arbiter", "wait_for_user", "wait_for_approval", "finished"]


@dataclass(frozen=True)
class StepOutcome:
    """What the step decided. ``status``/``reason`` are set when ``next == "finished"``
    (``completed``, ``failed``, ``step_limit``, ``tool_call_limit``, ``token_limit``,
    ``time_limit``)."""

    next: StepNext
    status: str = ""
    reason: str = ""
    final_answer: str = ""
