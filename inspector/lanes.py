"""Lanes of the sequence diagram: one column per participant, in a stable, readable order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The stylesheet has grid classes for this many columns; later participants share the last lane.
MAX_LANES = 12
OPERATOR = "operator"
ENGINE = "engine"  # the orchestration code itself: it sends system prompts, receives replies
ARBITER = "arbiter"
INTERPRETER = "interpreter"
# Names the engine may use for the person at the keyboard.
_ALIASES = {"user": OPERATOR}


def lane_name(participant: str) -> str:
    return _ALIASES.get(participant, participant) or "unknown"


@dataclass(frozen=True)
class Lanes:
    names: tuple[str, ...]

    @classmethod
    def build(cls, *, specialists: Sequence[str], participants: Iterable[str] = ()) -> Lanes:
        """Operator, engine (when it took part), arbiter, the specialists in the given order,
        interpreter, then anyone else."""
        participants = [lane_name(p) for p in participants]
        ordered: dict[str, None] = {OPERATOR: None}
        if ENGINE in participants:
            ordered[ENGINE] = None
        ordered[ARBITER] = None
        for role in specialists:
            if role not in (ARBITER, INTERPRETER):
                ordered.setdefault(role, None)
        ordered.setdefault(INTERPRETER, None)
        for participant in participants:
            ordered.setdefault(participant, None)
        return cls(names=tuple(list(ordered)[:MAX_LANES]))

    @classmethod
    def parse(cls, text: object) -> Lanes | None:
        """Lanes as a page sends them back (comma-separated names), or ``None`` if implausible."""
        if not isinstance(text, str) or not text or len(text) > 2_000:
            return None
        names = tuple(text.split(","))
        if len(names) > MAX_LANES or len(set(names)) != len(names):
            return None
        if any(not name or len(name) > 64 for name in names):
            return None
        return cls(names=names)

    def __len__(self) -> int:
        return len(self.names)

    def covers(self, participants: Iterable[str]) -> bool:
        if len(self.names) >= MAX_LANES:
            return True
        return all(lane_name(p) in self.names for p in participants)

    def column(self, participant: str) -> int:
        """1-based grid column; unknown participants beyond the limit share the last lane."""
        name = lane_name(participant)
        try:
            return self.names.index(name) + 1
        except ValueError:
            return len(self.names)

    def span(self, sender: str, recipient: str) -> tuple[int, int, str]:
        """Grid start, grid end (exclusive) and the arrow's direction for one message."""
        start, end = self.column(sender), self.column(recipient)
        if start == end:
            return start, start + 1, "self"
        if start < end:
            return start, end + 1, "right"
        return end, start + 1, "left"
