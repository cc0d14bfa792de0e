"""What the repair cascade returns: the calls found, each stage's record, the reply's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestration.engine.types import ToolCallPart

# Stage names, as stored on ToolCall rows and shown by the inspector.
NATIVE = "native"
EXTRACT_TOOL_CALL_TAGS = "extract_tool_call_tags"
EXTRACT_FENCED_JSON = "extract_fenced_json"
EXTRACT_BARE_JSON = "extract_bare_json"
EXTRACT_FUNCTIONGEMMA = "extract_functiongemma"
JSON_REPAIR = "json_repair"
UNWRAP_ARGUMENTS = "unwrap_arguments"
COERCE_TYPES = "coerce_types"
VALIDATE = "validate"
DISTRUST_LENGTH = "distrust_length"
DROPPED_CALL = "dropped_call"

# Stages that change a call rather than read, check or judge it.
REPAIR_STAGES = frozenset(
    {
        EXTRACT_TOOL_CALL_TAGS,
        EXTRACT_FENCED_JSON,
        EXTRACT_BARE_JSON,
        EXTRACT_FUNCTIONGEMMA,
        JSON_REPAIR,
        UNWRAP_ARGUMENTS,
        COERCE_TYPES,
    }
)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types; anything else becomes its ``repr`` (for storage only)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        )
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return repr(value)


@dataclass(frozen=True)
class StageRecord:
    """One stage that did something: what it was given and what it made of it.

    ``call`` is the index of the found call the record is about, ``None`` for the whole reply.
    """

    stage: str
    before: Any
    after: Any
    note: str = ""
    call: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "call": self.call,
            "before": jsonable(self.before),
            "after": jsonable(self.after),
            "note": self.note,
        }


@dataclass(frozen=True)
class FoundCall:
    """A tool call found in a reply, natively or in its text, valid or not.

    ``errors`` is empty when the call is valid; otherwise it says what is wrong, in words a
    model can act on (the constrained re-ask and the interpreter are given these).
    """

    index: int
    id: str
    source: str  # the stage that found it: native or one of the extract_* stages
    name: str
    arguments: Any  # a dict when decoded; the raw text when it could not be
    raw: str  # the text the call came from ("" for native calls)
    errors: tuple[str, ...] = ()
    trail: tuple[StageRecord, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_part(self) -> ToolCallPart:
        """The call as the engine executes it. Only meaningful for a valid call."""
        arguments = self.arguments if isinstance(self.arguments, dict) else {}
        return ToolCallPart(id=self.id, name=self.name, arguments=arguments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "arguments": jsonable(self.arguments),
            "raw": self.raw,
            "valid": self.valid,
            "errors": list(self.errors),
            "trail": [record.to_dict() for record in self.trail],
        }


@dataclass(frozen=True)
class RepairResult:
    """The outcome of the deterministic stages of the cascade for one assistant reply.

    - ``calls``: the valid calls, ready to run (never set when ``distrusted``).
    - ``found``: every call found, valid or not, in order.
    - ``text``: the reply's prose outside any call.
    - ``is_answer``: the reply is prose with no call in it (found or attempted).
    - ``dropped_call``: empty reply, no call, ``done_reason`` "stop", while tools were offered.
    - ``distrusted``: ``done_reason`` "length": the reply was cut off; its calls are not run.
    - ``trail``: every stage record in order (reply-level and per call).
    """

    calls: tuple[ToolCallPart, ...]
    found: tuple[FoundCall, ...]
    text: str
    is_answer: bool
    dropped_call: bool
    distrusted: bool
    trail: tuple[StageRecord, ...]

    @property
    def invalid_calls(self) -> tuple[FoundCall, ...]:
        return tuple(call for call in self.found if not call.valid)

    @property
    def unclear_tool_calls(self) -> bool:
        """The routing fact ``response.unclear_tool_calls``: later stages have work to do."""
        return (
            bool(self.invalid_calls)
            or self.dropped_call
            or (self.distrusted and not self.is_answer)
        )

    @property
    def repaired(self) -> bool:
        """A stage that changes calls (extraction, JSON repair, unwrapping, coercion) stepped in."""
        return any(record.stage in REPAIR_STAGES for record in self.trail)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": [
                {"id": call.id, "name": call.name, "arguments": jsonable(call.arguments)}
                for call in self.calls
            ],
            "found": [call.to_dict() for call in self.found],
            "text": self.text,
            "is_answer": self.is_answer,
            "dropped_call": self.dropped_call,
            "distrusted": self.distrusted,
            "unclear_tool_calls": self.unclear_tool_calls,
            "trail": [record.to_dict() for record in self.trail],
        }
