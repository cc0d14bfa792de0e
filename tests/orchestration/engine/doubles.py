"""Test doubles of the engine's ports: an in-memory ``RunJournal`` and a ``ModelDirectory``.

The journal behaves like the database one where the engine can tell: every write is idempotent
by key (a second write of a recorded message returns the first), messages get a monotonic
``seq``, tool-call records keep the history of their statuses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from orchestration.engine.ports import (
    EscalationRecord,
    MessageRecord,
    RecordedMessage,
    StepOutcome,
    ToolCallRecord,
)
from orchestration.engine.run import step_run
from orchestration.engine.state import RuleInfo, RunState, SpecialistInfo
from orchestration.engine.types import ChatMessage, ToolCallPart
from orchestration.providers.scripted import ScriptedClient


@dataclass
class MemoryJournal:
    messages: dict[str, RecordedMessage] = field(default_factory=dict)
    tool_calls: dict[str, ToolCallRecord] = field(default_factory=dict)
    status_history: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    escalations: dict[str, EscalationRecord] = field(default_factory=dict)
    conversation: dict[str, Any] = field(
        default_factory=lambda: {"tokens_used": 0, "tool_calls_used": 0, "participants": []}
    )
    deltas: list[tuple[str, str, str]] = field(default_factory=list)
    writes: int = 0

    async def message_lookup(self, key: str) -> RecordedMessage | None:
        return self.messages.get(key)

    async def message_record(self, record: MessageRecord) -> RecordedMessage:
        if record.key in self.messages:
            return self.messages[record.key]
        self.writes += 1
        recorded = RecordedMessage(seq=len(self.messages) + 1, record=record)
        self.messages[record.key] = recorded
        return recorded

    async def tool_call_lookup(self, key: str) -> ToolCallRecord | None:
        return self.tool_calls.get(key)

    async def tool_call_record(self, record: ToolCallRecord) -> None:
        previous = self.tool_calls.get(record.key)
        if previous is not None and previous == record:
            return
        self.tool_calls[record.key] = record
        history = self.status_history[record.key]
        if not history or history[-1] != record.status:
            history.append(record.status)

    async def escalation_open(self, record: EscalationRecord) -> None:
        self.escalations.setdefault(record.key, record)

    async def conversation_update(self, **changes: Any) -> None:
        for name, value in changes.items():
            if name in ("tokens_used", "tool_calls_used"):
                self.conversation[name] += value
            elif name == "participants":
                known = self.conversation["participants"]
                known.extend(role for role in value if role not in known)
            else:
                self.conversation[name] = value

    async def stream_delta(self, key: str, participant: str, text: str) -> None:
        self.deltas.append((key, participant, text))

    # --- reading helpers for assertions ------------------------------------------------------

    def thread(self, thread_key: str) -> list[MessageRecord]:
        ordered = sorted(self.messages.values(), key=lambda recorded: recorded.seq)
        return [m.record for m in ordered if m.record.thread_key == thread_key]

    def ordered_keys(self) -> list[str]:
        return [m.record.key for m in sorted(self.messages.values(), key=lambda r: r.seq)]

    def record(self, key: str) -> MessageRecord:
        return self.messages[key].record


@dataclass
class ScriptedModels:
    """A ``ModelDirectory`` over scripted clients, one per role."""

    specialists: dict[str, SpecialistInfo]
    clients: dict[str, ScriptedClient]

    def specialist(self, role: str) -> SpecialistInfo:
        return self.specialists[role]

    def client_for(self, role: str) -> ScriptedClient:
        return self.clients[role]

    def total_calls(self) -> int:
        return sum(len(client.calls) for client in self.clients.values())


# --- the design document's configuration, as the engine receives it --------------------------

DESIGN_SPECIALISTS = {
    "arbiter": SpecialistInfo("arbiter", "qwen2.5:14b", "ollama01", context_window=8192),
    "coding": SpecialistInfo("coding", "qwen2.5-coder:32b", "ollama02", context_window=16384),
    "reasoning": SpecialistInfo("reasoning", "qwen2.5:32b", "ollama02", context_window=16384),
    "analysis": SpecialistInfo("analysis", "qwen2.5:14b", "ollama01", context_window=8192),
    "interpreter": SpecialistInfo("interpreter", "functiongemma", "ollama01", context_window=8192),
}
DESIGN_RULES = (
    RuleInfo(1, "task.complexity > 7", "reasoning"),
    RuleInfo(2, "task.type == 'code_generation'", "coding"),
    RuleInfo(3, "task.requires_speed", "analysis"),
    RuleInfo(4, "response.unclear_tool_calls", "interpreter"),
)


def design_state(**changes: Any) -> RunState:
    values: dict[str, Any] = {
        "conversation_id": 1,
        "task": "Write a function that reverses a string.",
        "step_number": 2,
        "specialists": dict(DESIGN_SPECIALISTS),
        "rules": DESIGN_RULES,
        "arbiter_history": (ChatMessage("user", "Write a function that reverses a string."),),
    }
    values.update(changes)
    return RunState(**values)


def scripted_models(specialists: dict[str, SpecialistInfo] | None = None) -> ScriptedModels:
    specialists = dict(specialists or DESIGN_SPECIALISTS)
    return ScriptedModels(specialists, {role: ScriptedClient(server=role) for role in specialists})


def history_for_step(journal: MemoryJournal, step_number: int) -> tuple[ChatMessage, ...]:
    """The arbiter's thread as the services rebuild it for a step: what earlier steps recorded
    (no system prompt), assistant turns with their recorded calls and empty content."""
    ordered = sorted(journal.messages.values(), key=lambda recorded: recorded.seq)
    rows = [
        m.record
        for m in ordered
        if m.record.thread_key == "arbiter"
        and m.record.role != "system"
        and not m.record.key.startswith(f"s{step_number}:")
    ]
    history: list[ChatMessage] = []
    names: dict[str, str] = {}
    for row in rows:
        calls = [
            ToolCallPart(record.call_id, record.name, record.arguments)
            for record in journal.tool_calls.values()
            if record.message_key == row.key
        ]
        for call in calls:
            names[call.id] = call.name
        if row.role == "assistant" and calls:
            history.append(ChatMessage("assistant", "", tuple(calls)))
        elif row.role == "tool":
            history.append(
                ChatMessage(
                    "tool",
                    row.content,
                    tool_call_id=row.tool_call_id,
                    tool_name=names.get(row.tool_call_id),
                )
            )
        else:
            history.append(ChatMessage(row.role, row.content))
    return tuple(history)


async def drive(
    state: RunState,
    journal: MemoryJournal,
    models: ScriptedModels,
    *,
    first_kind: str = "arbiter",
    max_steps: int = 10,
) -> list[StepOutcome]:
    """Run steps the way the services chain them, until the run finishes or waits."""
    if "task" not in journal.messages:
        await journal.message_record(
            MessageRecord(
                key="task",
                thread_key="arbiter",
                participant="arbiter",
                sender="operator",
                recipient="arbiter",
                role="user",
                content=state.task,
            )
        )
    outcomes: list[StepOutcome] = []
    kind = first_kind
    number = state.step_number
    for used in range(max_steps):
        conversation = journal.conversation
        state = replace(
            state,
            step_number=number,
            phase=conversation.get("phase", state.phase),
            classification=conversation.get("classification", state.classification),
            routing_decision=conversation.get("routing_decision", state.routing_decision),
            arbiter_history=history_for_step(journal, number),
            counters=replace(
                state.counters,
                steps_used=state.counters.steps_used + (1 if used else 0),
                tool_calls_used=len(journal.tool_calls),
                tokens_used=conversation["tokens_used"],
            ),
        )
        outcome = await step_run(kind, state, journal, models, {})
        outcomes.append(outcome)
        if outcome.next != "arbiter":
            break
        kind, number = "arbiter", number + 1
    return outcomes
