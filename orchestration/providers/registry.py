"""Which client speaks to which kind of server: a plain dict keyed by ``Server.kind``."""

from __future__ import annotations

from collections.abc import Callable

from orchestration.engine.client import ModelClient
from orchestration.providers.http import RetryPolicy, Timeouts
from orchestration.providers.ollama import OllamaClient
from orchestration.providers.openai import OpenAIClient
from orchestration.providers.scripted import ScriptedClient

ClientFactory = Callable[..., ModelClient]

# Scripted "servers" live in this process only: tests and demos install a ScriptedClient under
# a name and point a server at ``scripted://<name>``.
scripted_servers: dict[str, ScriptedClient] = {}


def _scripted(*, base_url: str, server: str = "", **_: object) -> ScriptedClient:
    name = base_url.removeprefix("scripted://")
    try:
        return scripted_servers[name]
    except KeyError:
        raise LookupError(
            f"no scripted server {name!r} installed (known: {sorted(scripted_servers)})"
        ) from None


CLIENTS: dict[str, ClientFactory] = {
    "ollama": OllamaClient,
    "openai": OpenAIClient,
    "scripted": _scripted,
}


def client_for_server(
    kind: str,
    base_url: str,
    *,
    server: str = "",
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
) -> ModelClient:
    """A client for one server. Raises ``LookupError`` for an unknown kind."""
    try:
        factory = CLIENTS[kind]
    except KeyError:
        raise LookupError(f"unknown server kind {kind!r} (known: {sorted(CLIENTS)})") from None
    return factory(base_url=base_url, server=server, timeouts=timeouts, retry=retry)
