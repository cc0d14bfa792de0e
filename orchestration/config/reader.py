"""Walking parsed YAML with paths: every problem collected with where it is."""

from __future__ import annotations

from typing import Any

from orchestration.config.errors import ConfigProblem


class Reader:
    """Walks the parsed YAML, collecting every problem with its path instead of stopping at one."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(ConfigProblem(path, message))

    def mapping(self, value: Any, path: str, allowed: set[str], required: set[str] = frozenset()):
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {type_name(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.problem(path, f"keys must be text, found {key!r}")
            elif key not in allowed:
                self.problem(
                    f"{path}.{key}", f"unknown key; allowed here: {', '.join(sorted(allowed))}"
                )
        for key in sorted(required - set(value)):
            self.problem(f"{path}.{key}", "is required")
        return value

    def text(self, value: Any, path: str, *, max_length: int = 500, allow_empty: bool = False):
        if not isinstance(value, str):
            self.problem(path, f"must be text, not {type_name(value)}")
            return None
        if not allow_empty and not value.strip():
            self.problem(path, "must not be empty")
            return None
        if len(value) > max_length:
            self.problem(path, f"is longer than {max_length} characters")
            return None
        return value

    def boolean(self, value: Any, path: str):
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, not {type_name(value)}")
            return None
        return value

    def integer(self, value: Any, path: str, *, minimum: int, maximum: int):
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, not {type_name(value)}")
            return None
        if not minimum <= value <= maximum:
            self.problem(path, f"must be between {minimum} and {maximum}, got {value}")
            return None
        return value

    def number(self, value: Any, path: str, *, minimum: float, maximum: float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(path, f"must be a number, not {type_name(value)}")
            return None
        if not minimum <= value <= maximum:
            self.problem(path, f"must be between {minimum} and {maximum}, got {value}")
            return None
        return float(value)


def type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )
