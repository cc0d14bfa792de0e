"""What the engine knows about a run when a step starts: plain values loaded by the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestration.engine.types import ChatMessage


@dataclass(frozen=True)
class SpecialistInfo:
    """A role bound to a model on a server (the arbiter and the interpreter are roles too)."""

    role: str
    model: str
    server: str
    server_kind: str = "ollama"
    context_window: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    persona: str = ""
    requires_approval: bool = False

    @property
    def tool_name(self) -> str:
        return f"consult_{self.role}_specialist"


@dataclass(frozen=True)
class RuleInfo:
    """A routing rule as configured; ``order`` identifies it in decisions."""

    order: int
    condition: str
    specialist: str
    binding: bool = False
    requires_approval: bool = False


@dataclass(frozen=True)
class Policy:
    """The ``conversation:`` section in force for this run."""

    max_models_per_conversation: int = 3
    include_full_history: bool = False
    allow_model_to_model: bool = True
    arbiter_reviews_all: bool = True


@dataclass(frozen=True)
class Budgets:
    max_steps: int = 20
    max_tool_calls: int = 40
    max_tokens: int = 200_000
    max_wall_seconds: int = 1800


@dataclass(frozen=True)
class Counters:
    """What the run has used so far (before this step)."""

    steps_used: int = 0
    tool_calls_used: int = 0
    tokens_used: int = 0
    elapsed_seconds: float = 0.0


@dataclass(frozen=True)
class RunState:
    conversation_id: int
    task: str
    step_number: int
    mode: str = "arbiter_mediated"
    phase: str = "planning"
    phases: tuple[str, ...] = ("planning", "implementation", "review")
    specialists: dict[str, SpecialistInfo] = field(default_factory=dict)
    allowed_specialists: tuple[str, ...] = ()
    rules: tuple[RuleInfo, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    budgets: Budgets = field(default_factory=Budgets)
    counters: Counters = field(default_factory=Counters)
    classification: dict[str, Any] | None = None
    routing_decision: dict[str, Any] | None = None
    # The arbiter's own thread as the model sees it, without the system prompt (rebuilt per step).
    arbiter_history: tuple[ChatMessage, ...] = ()
    # Tool calls that failed repair recently, so prompts can add worked examples.
    recent_failures: tuple[str, ...] = ()
    # Roles that have taken part so far (for max_models_per_conversation).
    participants: tuple[str, ...] = ()
