"""The configuration's shape: what ``mmos_config load`` accepts, validated with YAML paths.

The ``orchestration:`` block of the original design loads exactly as written; ``servers:`` is
optional and a server that is named but not defined gets ``http://<name>:11434``, kind ollama.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from orchestration.config.errors import ConfigError
from orchestration.config.reader import Reader, type_name
from orchestration.config.yaml_text import yaml_read
from orchestration.engine.conditions import ConditionError, condition_parse

SERVER_KINDS = ("ollama", "openai")
ARBITER_ROLE = "arbiter"
DEFAULT_PHASES = ("planning", "implementation", "review")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": (int,),
    "seed": (int,),
    "num_predict": (int,),
    "repeat_penalty": (int, float),
    "presence_penalty": (int, float),
    "frequency_penalty": (int, float),
    "stop": (list,),
}


@dataclass(frozen=True)
class ServerConfig:
    name: str
    url: str
    kind: str = "ollama"
    parallel: int = 1
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 300.0
    deadline_s: float = 900.0


@dataclass(frozen=True)
class SpecialistConfig:
    role: str
    model: str
    server: str
    persona: str = ""
    description: str = ""
    context_window: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    requires_approval: bool = False


@dataclass(frozen=True)
class RuleConfig:
    condition: str
    specialist: str
    binding: bool = False
    requires_approval: bool = False
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class ConversationConfig:
    max_models_per_conversation: int = 3
    include_full_history: bool = False
    allow_model_to_model: bool = True
    arbiter_reviews_all: bool = True
    phases: tuple[str, ...] = DEFAULT_PHASES
    max_steps: int = 20
    max_tool_calls: int = 40
    max_tokens: int = 200_000
    max_wall_seconds: int = 1800


@dataclass(frozen=True)
class OrchestrationConfig:
    servers: tuple[ServerConfig, ...]
    arbiter: SpecialistConfig
    specialists: tuple[SpecialistConfig, ...]
    rules: tuple[RuleConfig, ...]
    conversation: ConversationConfig


def config_parse(text: str) -> OrchestrationConfig:
    """Parse and validate configuration YAML. Raises ``ConfigError`` listing every problem."""
    return config_from_data(yaml_read(text))


def config_from_data(data: Any) -> OrchestrationConfig:
    """Validate already-parsed YAML data. Raises ``ConfigError`` listing every problem."""
    r = Reader()
    top = r.mapping(data, "(top level)", {"servers", "orchestration"}, {"orchestration"})
    if top is None:
        raise ConfigError(r.problems)
    servers = _servers(r, top.get("servers", {}))
    orch = r.mapping(
        top.get("orchestration"),
        "orchestration",
        {"arbiter", "specialists", "routing", "conversation"},
        {"arbiter", "specialists"},
    )
    if orch is None:
        raise ConfigError(r.problems)
    arbiter = _specialist(r, ARBITER_ROLE, orch.get("arbiter"), "orchestration.arbiter")
    specialists = []
    roles: set[str] = set()
    raw_specs = orch.get("specialists")
    if r.mapping(raw_specs, "orchestration.specialists", set(raw_specs or {})) is not None:
        for role, body in raw_specs.items():
            path = f"orchestration.specialists.{role}"
            if not isinstance(role, str) or not _ROLE_NAME.match(role):
                r.problem(path, "a role is lower-case letters, digits and _ (e.g. coding)")
            elif role == ARBITER_ROLE:
                r.problem(path, "the arbiter is configured under orchestration.arbiter")
            else:
                # Count the role as declared even if its body has problems, so rules naming it
                # don't add a second, misleading error.
                roles.add(role)
                specialists.append(_specialist(r, role, body, path))
    rules = _rules(r, orch.get("routing", {}), roles)
    conversation = _conversation(r, orch.get("conversation", {}))
    known = {s.name for s in servers}
    for spec in [arbiter, *specialists]:
        if spec is not None and spec.server not in known and _SERVER_NAME.match(spec.server):
            servers.append(ServerConfig(name=spec.server, url=f"http://{spec.server}:11434"))
            known.add(spec.server)
    if r.problems:
        raise ConfigError(r.problems)
    return OrchestrationConfig(
        servers=tuple(servers),
        arbiter=arbiter,
        specialists=tuple(specialists),
        rules=tuple(rules),
        conversation=conversation,
    )


def _servers(r: Reader, raw: Any) -> list[ServerConfig]:
    if raw is None:
        return []
    if r.mapping(raw, "servers", set(raw) if isinstance(raw, dict) else set()) is None:
        return []
    servers = []
    for name, body in raw.items():
        path = f"servers.{name}"
        if not isinstance(name, str) or not _SERVER_NAME.match(name):
            r.problem(path, "a server name is letters, digits, - and _ (at most 64)")
            continue
        body = r.mapping(body, path, {"url", "kind", "parallel", "timeouts"}, {"url"})
        if body is None:
            continue
        url = _server_url(r, body.get("url"), f"{path}.url")
        kind = body.get("kind", "ollama")
        if kind not in SERVER_KINDS:
            r.problem(f"{path}.kind", f"must be one of {', '.join(SERVER_KINDS)}, got {kind!r}")
        parallel = r.integer(body.get("parallel", 1), f"{path}.parallel", minimum=1, maximum=64)
        timeouts = r.mapping(
            body.get("timeouts", {}), f"{path}.timeouts", {"connect", "read", "total"}
        )
        timeouts = timeouts or {}
        connect = r.number(
            timeouts.get("connect", 5.0), f"{path}.timeouts.connect", minimum=0.1, maximum=600
        )
        read = r.number(
            timeouts.get("read", 300.0), f"{path}.timeouts.read", minimum=0.1, maximum=86400
        )
        total = r.number(
            timeouts.get("total", 900.0), f"{path}.timeouts.total", minimum=0.1, maximum=86400
        )
        if None in (url, parallel, connect, read, total) or kind not in SERVER_KINDS:
            continue
        servers.append(ServerConfig(name, url, kind, parallel, connect, read, total))
    return servers


def _server_url(r: Reader, value: Any, path: str) -> str | None:
    text = r.text(value, path, max_length=300)
    if text is None:
        return None
    parts = urlsplit(text.strip())
    try:
        port = parts.port
    except ValueError:
        r.problem(path, f"has an invalid port: {text!r}")
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        r.problem(path, f"must be an http:// or https:// URL with a host, got {text!r}")
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        r.problem(path, "must not carry a query, fragment or credentials")
        return None
    if port == 0:
        r.problem(path, f"has an invalid port: {text!r}")
        return None
    return text.strip().rstrip("/")


def _specialist(r: Reader, role: str, raw: Any, path: str) -> SpecialistConfig | None:
    body = r.mapping(
        raw,
        path,
        {
            "model",
            "server",
            "role",
            "description",
            "context_window",
            "options",
            "requires_approval",
        },
        {"model", "server"},
    )
    if body is None:
        return None
    model = r.text(body.get("model"), f"{path}.model", max_length=200)
    server = r.text(body.get("server"), f"{path}.server", max_length=64)
    if server is not None and not _SERVER_NAME.match(server):
        r.problem(f"{path}.server", "a server name is letters, digits, - and _ (at most 64)")
        server = None
    persona = r.text(body.get("role", ""), f"{path}.role", max_length=200, allow_empty=True)
    description = r.text(
        body.get("description", ""), f"{path}.description", max_length=2000, allow_empty=True
    )
    window = body.get("context_window")
    if window is not None:
        window = r.integer(window, f"{path}.context_window", minimum=256, maximum=10_000_000)
    options = _options(r, body.get("options", {}), f"{path}.options")
    approval = r.boolean(body.get("requires_approval", False), f"{path}.requires_approval")
    if None in (model, server, persona, description, options, approval):
        return None
    return SpecialistConfig(role, model, server, persona, description, window, options, approval)


def _options(r: Reader, raw: Any, path: str) -> dict[str, Any] | None:
    body = r.mapping(raw, path, set(_OPTION_TYPES))
    if body is None:
        return None
    for key, value in body.items():
        types = _OPTION_TYPES.get(key)
        if types and (isinstance(value, bool) or not isinstance(value, types)):
            r.problem(f"{path}.{key}", f"must be {' or '.join(t.__name__ for t in types)}")
            return None
    return dict(body)


def _rules(r: Reader, raw: Any, roles: set[str]) -> list[RuleConfig]:
    routing = r.mapping(raw, "orchestration.routing", {"rules"})
    if routing is None:
        return []
    items = routing.get("rules", [])
    if not isinstance(items, list):
        r.problem("orchestration.routing.rules", f"must be a list, not {type_name(items)}")
        return []
    rules = []
    for index, item in enumerate(items):
        path = f"orchestration.routing.rules[{index}]"
        body = r.mapping(
            item,
            path,
            {"condition", "specialist", "binding", "requires_approval", "enabled", "description"},
            {"condition", "specialist"},
        )
        if body is None:
            continue
        condition = r.text(body.get("condition"), f"{path}.condition")
        if condition is not None:
            try:
                condition_parse(condition)
            except ConditionError as exc:
                r.problem(f"{path}.condition", str(exc))
                condition = None
        specialist = r.text(body.get("specialist"), f"{path}.specialist", max_length=64)
        if specialist is not None and specialist not in roles:
            r.problem(
                f"{path}.specialist",
                f"names no configured specialist: {specialist!r} "
                f"(configured: {', '.join(sorted(roles)) or 'none'})",
            )
            specialist = None
        binding = r.boolean(body.get("binding", False), f"{path}.binding")
        approval = r.boolean(body.get("requires_approval", False), f"{path}.requires_approval")
        enabled = r.boolean(body.get("enabled", True), f"{path}.enabled")
        description = r.text(
            body.get("description", ""), f"{path}.description", max_length=300, allow_empty=True
        )
        if None not in (condition, specialist, binding, approval, enabled, description):
            rules.append(RuleConfig(condition, specialist, binding, approval, enabled, description))
    return rules


def _conversation(r: Reader, raw: Any) -> ConversationConfig:
    path = "orchestration.conversation"
    defaults = ConversationConfig()
    body = r.mapping(raw, path, set(ConversationConfig.__dataclass_fields__))
    if body is None:
        return defaults
    values: dict[str, Any] = {}
    for key in ("include_full_history", "allow_model_to_model", "arbiter_reviews_all"):
        if key in body:
            values[key] = r.boolean(body[key], f"{path}.{key}")
    limits = {
        "max_models_per_conversation": 64,
        "max_steps": 10_000,
        "max_tool_calls": 100_000,
        "max_tokens": 100_000_000,
        "max_wall_seconds": 7 * 86400,
    }
    for key, maximum in limits.items():
        if key in body:
            values[key] = r.integer(body[key], f"{path}.{key}", minimum=1, maximum=maximum)
    if "phases" in body:
        phases = body["phases"]
        if (
            not isinstance(phases, list)
            or not phases
            or not all(isinstance(p, str) and _ROLE_NAME.match(p) for p in phases)
            or len(set(phases)) != len(phases)
        ):
            r.problem(f"{path}.phases", "must be a non-empty list of distinct lower-case names")
        else:
            values["phases"] = tuple(phases)
    return ConversationConfig(**{k: v for k, v in values.items() if v is not None})


def config_with_server_urls(
    config: OrchestrationConfig, urls: dict[str, str]
) -> OrchestrationConfig:
    """The same configuration with some servers' URLs replaced (validated like the file's)."""
    r = Reader()
    known = {s.name for s in config.servers}
    checked = {}
    for name, url in urls.items():
        if name not in known:
            r.problem(f"--server {name}", f"the configuration names no server {name!r}")
            continue
        checked[name] = _server_url(r, url, f"--server {name}")
    if r.problems:
        raise ConfigError(r.problems)
    servers = tuple(
        replace(s, url=checked[s.name]) if s.name in checked else s for s in config.servers
    )
    return replace(config, servers=servers)
