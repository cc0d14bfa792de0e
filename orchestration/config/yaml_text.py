"""Strict YAML reading: safe loading that also refuses duplicate keys."""

from __future__ import annotations

from typing import Any

import yaml

from orchestration.config.errors import ConfigError, ConfigProblem


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that reports a key written twice instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise ConfigError(
                [
                    ConfigProblem(
                        f"line {mark.line + 1}, column {mark.column + 1}",
                        f"the key {key!r} appears twice in the same mapping",
                    )
                ]
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def yaml_read(text: str) -> Any:
    """Parse YAML text safely. Raises ``ConfigError`` with the line and column of a syntax error."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        raise ConfigError([ConfigProblem(where, f"YAML syntax error: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem("document", f"YAML error: {exc}")]) from exc
