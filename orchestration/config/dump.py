"""Turn a configuration back into YAML, writing only what differs from the defaults so the
original design's YAML round-trips to the same text shape."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import yaml

from orchestration.config.schema import (
    ConversationConfig,
    OrchestrationConfig,
    RuleConfig,
    ServerConfig,
    SpecialistConfig,
)

_DESIGN_CONVERSATION_KEYS = (
    "max_models_per_conversation",
    "include_full_history",
    "allow_model_to_model",
    "arbiter_reviews_all",
)


def config_to_data(config: OrchestrationConfig) -> dict[str, Any]:
    return {
        "servers": {server.name: _server(server) for server in config.servers},
        "orchestration": {
            "arbiter": _specialist(config.arbiter),
            "specialists": {spec.role: _specialist(spec) for spec in config.specialists},
            "routing": {"rules": [_rule(rule) for rule in config.rules]},
            "conversation": _conversation(config.conversation),
        },
    }


def config_dump(config: OrchestrationConfig) -> str:
    return yaml.safe_dump(config_to_data(config), sort_keys=False, allow_unicode=True, width=100)


def _server(server: ServerConfig) -> dict[str, Any]:
    data: dict[str, Any] = {"url": server.url, "kind": server.kind, "parallel": server.parallel}
    default = ServerConfig(name=server.name, url=server.url)
    timeouts = {}
    for key, attr in (
        ("connect", "connect_timeout_s"),
        ("read", "read_timeout_s"),
        ("total", "deadline_s"),
    ):
        if getattr(server, attr) != getattr(default, attr):
            timeouts[key] = getattr(server, attr)
    if timeouts:
        data["timeouts"] = timeouts
    return data


def _specialist(spec: SpecialistConfig) -> dict[str, Any]:
    data: dict[str, Any] = {"model": spec.model, "server": spec.server}
    if spec.persona:
        data["role"] = spec.persona
    if spec.description:
        data["description"] = spec.description
    if spec.context_window is not None:
        data["context_window"] = spec.context_window
    if spec.options:
        data["options"] = dict(spec.options)
    if spec.requires_approval:
        data["requires_approval"] = True
    return data


def _rule(rule: RuleConfig) -> dict[str, Any]:
    data: dict[str, Any] = {"condition": rule.condition, "specialist": rule.specialist}
    default = RuleConfig(condition=rule.condition, specialist=rule.specialist)
    for f in fields(RuleConfig):
        if f.name not in data and getattr(rule, f.name) != getattr(default, f.name):
            data[f.name] = getattr(rule, f.name)
    return data


def _conversation(conv: ConversationConfig) -> dict[str, Any]:
    default = ConversationConfig()
    data: dict[str, Any] = {key: getattr(conv, key) for key in _DESIGN_CONVERSATION_KEYS}
    for f in fields(ConversationConfig):
        value = getattr(conv, f.name)
        if f.name not in data and value != getattr(default, f.name):
            data[f.name] = list(value) if isinstance(value, tuple) else value
    return data
