"""FunctionGemma's call syntax, parsed the way Ollama's parser does (reference §11.4).

``<start_function_call>call:NAME{key:<escape>text<escape>,n:5}<end_function_call>``: arguments
split on top-level commas into ``key:value``; a value is a string between ``<escape>`` marks,
``true``/``false``, an integer, a decimal, ``[...]`` (an array of values), ``{...}`` (an object
of ``key:value``), or else the raw text as a string.
"""

from __future__ import annotations

import math
import re
from typing import Any

START = "<start_function_call>"
END = "<end_function_call>"
ESCAPE = "<escape>"
MAX_DEPTH = 64

_CALL = re.compile(r"call:([^{]+)\{(.*)\}", re.DOTALL)
_INTEGER = re.compile(r"-?\d{1,100}")
_DECIMAL = re.compile(r"-?\d{1,100}\.\d{1,100}(?:[eE][+-]?\d{1,4})?")


class FunctionGemmaError(ValueError):
    """A block between the call marks that is not ``call:NAME{...}``."""


def parse_functiongemma_call(body: str) -> tuple[str, dict[str, Any]]:
    """Parse the text between the call marks into ``(name, arguments)``."""
    # Ollama searches for the pattern; anchoring it at the first "call:" finds the same call
    # without rescanning the text from every later "call:".
    first = body.find("call:")
    match = _CALL.match(body, first) if first != -1 else None
    if not match:
        raise FunctionGemmaError("not in the form call:NAME{key:value,...}")
    name = match.group(1).strip()
    return name, _object(match.group(2), depth=1)


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside ``<escape>`` strings and outside brackets."""
    parts: list[str] = []
    depth, in_string, start, position = 0, False, 0, 0
    while position < len(text):
        if text.startswith(ESCAPE, position):
            in_string = not in_string
            position += len(ESCAPE)
            continue
        char = text[position]
        if not in_string:
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            elif char == separator and depth == 0:
                parts.append(text[start:position])
                start = position + 1
        position += 1
    parts.append(text[start:])
    return parts


def _object(text: str, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise FunctionGemmaError(f"arguments nested deeper than {MAX_DEPTH} levels")
    result: dict[str, Any] = {}
    if not text.strip():
        return result
    for pair in _split_top_level(text, ","):
        key, colon, value = pair.partition(":")
        if not colon:
            raise FunctionGemmaError(f"argument {pair.strip()[:40]!r} is not key:value")
        result[key.strip()] = _value(value, depth + 1)
    return result


def _value(text: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise FunctionGemmaError(f"arguments nested deeper than {MAX_DEPTH} levels")
    value = text.strip()
    if len(value) >= 2 * len(ESCAPE) and value.startswith(ESCAPE) and value.endswith(ESCAPE):
        return value[len(ESCAPE) : -len(ESCAPE)]
    if value in ("true", "false"):
        return value == "true"
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value) and math.isfinite(float(value)):
        return float(value)
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1]
        return (
            [_value(item, depth + 1) for item in _split_top_level(inner, ",")]
            if inner.strip()
            else []
        )
    if value.startswith("{") and value.endswith("}"):
        return _object(value[1:-1], depth + 1)
    return value


def find_functiongemma_blocks(text: str) -> tuple[list[tuple[str, bool]], str]:
    """The call blocks in ``text`` as ``(body, closed)``, and the prose around them."""
    blocks: list[tuple[str, bool]] = []
    prose: list[str] = []
    position = 0
    while True:
        start = text.find(START, position)
        if start == -1:
            prose.append(text[position:])
            break
        prose.append(text[position:start])
        end = text.find(END, start + len(START))
        if end == -1:
            blocks.append((text[start + len(START) :], False))
            break
        blocks.append((text[start + len(START) : end], True))
        position = end + len(END)
    return blocks, "".join(prose)
