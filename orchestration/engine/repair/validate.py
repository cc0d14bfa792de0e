"""Checking a call against the offered tools: a known name, and arguments that fit the schema."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from orchestration.engine.types import ToolSpec

MAX_ERRORS = 20
MAX_ERROR_LENGTH = 300


def unknown_tool_error(name: str, tools: Sequence[ToolSpec]) -> str:
    """The message a model gets for a name that is not a tool: it lists the valid names."""
    valid = ", ".join(tool.name for tool in tools) or "(no tools were offered)"
    return f"unknown tool {name!r}; valid tools: {valid}"


def find_tool(name: str, tools: Sequence[ToolSpec]) -> ToolSpec | None:
    return next((tool for tool in tools if tool.name == name), None)


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator | str:
    """A validator for a schema (as canonical JSON), or the reason the schema itself is bad."""
    schema = json.loads(schema_json)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return _short(f"the tool's own schema is invalid: {exc.message}")
    return Draft202012Validator(schema)


def validate_arguments(arguments: Any, schema: dict[str, Any]) -> list[str]:
    """Errors of ``arguments`` against ``schema`` (JSON Schema 2020-12); empty when valid."""
    if not isinstance(arguments, dict):
        return [f"arguments must be a JSON object, not {type(arguments).__name__}"]
    validator = _validator(json.dumps(schema, sort_keys=True, default=repr))
    if isinstance(validator, str):
        return [validator]
    errors = sorted(validator.iter_errors(arguments), key=lambda error: list(map(str, error.path)))
    messages = [_short(f"{error.json_path}: {error.message}") for error in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        messages.append(f"... and {len(errors) - MAX_ERRORS} more errors")
    return messages
