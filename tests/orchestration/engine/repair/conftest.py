"""Tools and recorded Ollama replies for the repair-cascade tests.

``ollama_tool_replies.json`` holds the tool-call shapes of the team's reference fixtures
(``ollama-responses.json``), copied verbatim so the tests run from a fresh clone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestration.engine.types import ChatMessage, ToolCallPart, ToolSpec

REPLIES = json.loads((Path(__file__).parent / "ollama_tool_replies.json").read_text("utf-8"))


def weather_tool() -> ToolSpec:
    function = REPLIES["_requests"]["chat_with_tools"]["tools"][0]["function"]
    return ToolSpec(function["name"], function["description"], function["parameters"])


def add_tool() -> ToolSpec:
    # The tool of the `tool_call_wrong_arg_types` reply (Ollama's own example tool).
    return ToolSpec(
        "add_two_numbers",
        "Add two numbers",
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    )


def consult_tool() -> ToolSpec:
    return ToolSpec(
        "consult_coding_specialist",
        "Ask the coding specialist",
        {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "context": {"type": "string"},
                "priority": {"type": "number"},
                "files": {"type": "array", "items": {"type": "string"}},
                "urgent": {"type": "boolean"},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    )


@pytest.fixture
def tools() -> list[ToolSpec]:
    return [weather_tool(), add_tool(), consult_tool()]


def message_from_wire(wire: dict[str, Any]) -> ChatMessage:
    """The assistant message of an Ollama /api/chat reply, as a provider hands it over."""
    calls = tuple(
        ToolCallPart(
            id=call.get("id", ""),
            name=call["function"]["name"],
            arguments=call["function"]["arguments"],
        )
        for call in wire["message"].get("tool_calls") or ()
    )
    return ChatMessage(role="assistant", content=wire["message"]["content"], tool_calls=calls)


@pytest.fixture
def recorded() -> Callable[[str], tuple[ChatMessage, str]]:
    """``recorded(key)`` gives the message and done_reason of one recorded reply."""

    def load(key: str) -> tuple[ChatMessage, str]:
        wire = REPLIES[key]
        return message_from_wire(wire), wire["done_reason"]

    return load
