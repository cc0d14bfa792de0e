"""Values every provider returns about its server, and the checks every provider applies."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from orchestration.engine import errors as e
from orchestration.engine.types import ModelRequest
from orchestration.providers.http import HttpEndpoint, RetryPolicy, Timeouts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What a server says about one model (Ollama ``/api/show``)."""

    name: str
    architecture: str = ""
    family: str = ""
    context_length: int | None = None  # the trained maximum, not what the server allocates
    capabilities: tuple[str, ...] = ()  # empty: the server is too old to say (< v0.6.5)

    @property
    def supports_tools(self) -> bool | None:
        """True/False when the server reports capabilities, None when it cannot tell."""
        return "tools" in self.capabilities if self.capabilities else None


@dataclass(frozen=True)
class LoadedModel:
    """A model resident in memory (Ollama ``/api/ps``)."""

    name: str
    context_length: int | None = None  # what the server allocated (v0.10+)
    size: int | None = None
    size_vram: int | None = None
    expires_at: str = ""

    @property
    def partly_on_cpu(self) -> bool:
        return self.size is not None and self.size_vram is not None and self.size_vram < self.size


@dataclass(frozen=True)
class ServerHealth:
    """One health poll: what the dashboard shows on ``Server``."""

    version: str = ""
    installed_models: tuple[str, ...] = ()
    loaded_models: tuple[str, ...] = ()
    context_lengths: dict[str, int] = field(default_factory=dict)
    latency_ms: float | None = None


def tools_warning(info: ModelInfo) -> str | None:
    """Log and return a warning when a model that will be given tools cannot take them.

    Such a model gets ``400 ... does not support tools`` on every call (ollama-api.md §7).
    """
    if info.supports_tools is False:
        message = (
            f"model {info.name!r} does not list the 'tools' capability "
            f"(capabilities: {', '.join(info.capabilities)}); calls with tools will be rejected"
        )
        log.warning(message)
        return message
    return None


def check_request(request: ModelRequest, *, server: str) -> None:
    """Refuse requests no server handles well, before anything is sent."""
    if request.tools and request.response_format is not None:
        # constrained decoding makes the tool-call tag impossible (ollama-api.md §10.9)
        raise e.BadRequest(
            "a request may carry tools or a response format, not both", server=server
        )


class HttpModelClient:
    """What every HTTP model client shares: its server's name and its one ``HttpEndpoint``."""

    kind = ""

    def __init__(
        self,
        *,
        base_url: str,
        server: str = "",
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.server = server or base_url
        self.http = HttpEndpoint(
            server=self.server, base_url=base_url, timeouts=timeouts, retry=retry
        )
