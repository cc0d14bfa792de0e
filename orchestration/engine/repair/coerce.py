"""Schema-allowed type coercion of tool-call arguments, each change recorded.

Only safe, unambiguous changes, and only where the value does not already have a type the
schema allows: a numeric string to an integer or number, "true"/"false" to a boolean, a number
to a string, a single value to a one-element array. Enums, formats and ``anyOf``-style schemas
are left alone: changing those would be guessing.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

_INTEGER = re.compile(r"[+-]?\d{1,100}")
_NUMBER = re.compile(r"[+-]?(?:\d{1,100}(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")


@dataclass(frozen=True)
class Coercion:
    """One changed value: where (a JSON path), from what, to what, by which rule."""

    path: str
    before: Any
    after: Any
    rule: str

    def describe(self) -> str:
        return f"{self.path}: {json.dumps(self.before)} -> {json.dumps(self.after)} ({self.rule})"


def _has_type(value: Any, type_name: str) -> bool:
    if type_name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "null": value is None,
    }.get(type_name, False)


def _convert(value: Any, type_name: str) -> tuple[bool, Any, str]:
    """Try to turn ``value`` into ``type_name``; returns (converted?, new value, rule)."""
    if type_name == "integer" and isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return True, int(value.strip()), "numeric string to integer"
    if type_name == "number" and isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()
        number = float(text) if re.search("[.eE]", text) else int(text)
        if isinstance(number, float) and not math.isfinite(number):
            return False, value, ""
        return True, number, "numeric string to number"
    if (
        type_name == "boolean"
        and isinstance(value, str)
        and value.strip().lower()
        in {
            "true",
            "false",
        }
    ):
        return True, value.strip().lower() == "true", "string to boolean"
    if type_name == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return True, json.dumps(value), "number to string"
    if type_name == "array" and value is not None and not isinstance(value, list | dict):
        return True, [value], "single value to one-element array"
    return False, value, ""


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [item for item in declared if isinstance(item, str)]
    return []


def _coerce(value: Any, schema: Any, path: str, changes: list[Coercion]) -> Any:
    if not isinstance(schema, dict):
        return value
    types = _types(schema)
    if types and not any(_has_type(value, type_name) for type_name in types):
        for type_name in types:
            converted, new_value, rule = _convert(value, type_name)
            if converted:
                changes.append(Coercion(path=path, before=value, after=new_value, rule=rule))
                value = new_value
                break
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        properties = schema["properties"]
        return {
            key: _coerce(item, properties.get(key), f"{path}.{key}", changes)
            for key, item in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [
            _coerce(item, schema["items"], f"{path}[{position}]", changes)
            for position, item in enumerate(value)
        ]
    return value


def coerce_arguments(
    arguments: dict[str, Any], schema: dict[str, Any]
) -> tuple[dict[str, Any], list[Coercion]]:
    """Return ``(new arguments, changes)``. ``arguments`` itself is never modified."""
    changes: list[Coercion] = []
    result = _coerce(arguments, schema, "$", changes)
    return (result if isinstance(result, dict) else arguments), changes
