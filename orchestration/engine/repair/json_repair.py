"""Strict JSON first, then a small tolerant parser for text that is almost JSON.

The tolerant parser accepts what local models get wrong most often and says what it fixed:
single-quoted strings, trailing commas, Python's ``True``/``False``/``None``, unquoted object
keys, and missing closing ``]``/``}`` at the end. It never evaluates anything, and it does not
guess: an unterminated string (where did the value end?), text after the value and NaN/Infinity
(which cannot be stored as JSON) are errors.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 64

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_BAREWORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_LITERALS = {"true": True, "false": False, "null": None}
_PYTHON_LITERALS = {"True": True, "False": False, "None": None}
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class JsonRepairError(ValueError):
    """The text is not JSON, and not close enough to repair without guessing."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON arguments")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is too large")
    return value


def json_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def json_loads_strict(text: str) -> Any:
    """``json.loads`` without NaN/Infinity and with bounded depth. Raises ``ValueError``."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def json_loads_tolerant(text: str) -> tuple[Any, list[str]]:
    """Decode ``text``; returns ``(value, fixes)`` where ``fixes`` says what was repaired.

    ``fixes`` is empty when the text was valid JSON. Raises ``JsonRepairError``.
    """
    try:
        return json_loads_strict(text), []
    except ValueError:
        pass
    parser = _Parser(text)
    value = parser.parse()
    return value, parser.fixes


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.fixes: list[str] = []

    def parse(self) -> Any:
        self._skip_space()
        if self.pos >= len(self.text):
            raise JsonRepairError("no JSON value found")
        value = self._value(depth=1)
        self._skip_space()
        if self.pos < len(self.text):
            raise JsonRepairError(f"unexpected text after the JSON value at {self.pos}")
        return value

    def _fail(self, what: str) -> JsonRepairError:
        return JsonRepairError(f"{what} at {self.pos}")

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _at_end(self) -> bool:
        self._skip_space()
        return self.pos >= len(self.text)

    def _value(self, depth: int) -> Any:
        if depth > MAX_JSON_DEPTH:
            raise self._fail(f"nested deeper than {MAX_JSON_DEPTH} levels")
        self._skip_space()
        if self.pos >= len(self.text):
            raise self._fail("missing value")
        char = self.text[self.pos]
        if char == "{":
            return self._object(depth)
        if char == "[":
            return self._array(depth)
        if char in "\"'":
            return self._string()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            try:
                return (
                    _finite_float(number.group())
                    if re.search("[.eE]", number.group())
                    else int(number.group())
                )
            except ValueError as exc:
                raise self._fail(str(exc)) from None
        word = _BAREWORD.match(self.text, self.pos)
        if word and word.group() in _LITERALS:
            self.pos = word.end()
            return _LITERALS[word.group()]
        if word and word.group() in _PYTHON_LITERALS:
            self.fixes.append(f"Python literal {word.group()} at {self.pos}")
            self.pos = word.end()
            return _PYTHON_LITERALS[word.group()]
        raise self._fail(f"unexpected {char!r}")

    def _object(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            if self._at_end():
                self.fixes.append(f"closed an unclosed object at {self.pos}")
                return result
            if self.text[self.pos] == "}":
                self.pos += 1
                return result
            if result:
                self._expect_comma("}")
                if self._at_end() or self.text[self.pos] == "}":
                    continue
            key = self._key()
            self._skip_space()
            if self.pos >= len(self.text) or self.text[self.pos] != ":":
                raise self._fail("expected ':' after an object key")
            self.pos += 1
            result[key] = self._value(depth + 1)

    def _array(self, depth: int) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            if self._at_end():
                self.fixes.append(f"closed an unclosed array at {self.pos}")
                return result
            if self.text[self.pos] == "]":
                self.pos += 1
                return result
            if result:
                self._expect_comma("]")
                if self._at_end() or self.text[self.pos] == "]":
                    continue
            result.append(self._value(depth + 1))

    def _expect_comma(self, closer: str) -> None:
        if self.text[self.pos] != ",":
            raise self._fail(f"expected ',' or {closer!r}")
        self.pos += 1
        self._skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == closer:
            self.fixes.append(f"trailing comma at {self.pos - 1}")

    def _key(self) -> str:
        if self.text[self.pos] in "\"'":
            return self._string()
        word = _BAREWORD.match(self.text, self.pos)
        if not word:
            raise self._fail("expected an object key")
        self.fixes.append(f"unquoted key {word.group()!r} at {self.pos}")
        self.pos = word.end()
        return word.group()

    def _string(self) -> str:
        quote = self.text[self.pos]
        if quote == "'":
            self.fixes.append(f"single-quoted string at {self.pos}")
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                parts.append(self._escape(quote))
                continue
            parts.append(char)
            self.pos += 1
        raise self._fail("unterminated string")

    def _escape(self, quote: str) -> str:
        code = self.text[self.pos + 1 : self.pos + 2]
        if code == "u":
            digits = self.text[self.pos + 2 : self.pos + 6]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                raise self._fail("bad \\u escape")
            self.pos += 6
            code_point = int(digits, 16)
            if 0xD800 <= code_point < 0xDC00:
                low = re.match(r"\\u(d[c-f][0-9a-f]{2})", self.text[self.pos : self.pos + 6], re.I)
                if low:
                    self.pos += 6
                    return chr(0x10000 + ((code_point - 0xD800) << 10) + int(low[1], 16) - 0xDC00)
            if 0xD800 <= code_point < 0xE000:
                return "\ufffd"  # a lone surrogate cannot be stored as UTF-8
            return chr(code_point)
        self.pos += 2
        if code in _ESCAPES:
            return _ESCAPES[code]
        if code == quote:
            return quote
        if code == "":
            return ""
        raise self._fail(f"bad escape \\{code}")
