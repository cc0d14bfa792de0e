"""Shaping rows for the run-detail templates: lanes, arrows, and what each participant saw.

Used by the page view and by the websocket consumer, so both draw a message the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inspector.forms.runs import consultable_roles
from inspector.lanes import Lanes
from orchestration.models import Conversation, Message, Thread
from orchestration.selectors.conversations import conversation_participants

CONSULT_PREFIX = "consult_"
CONSULT_SUFFIX = "_specialist"


def lanes_for(conversation: Conversation, *, extra: Iterable[str] = ()) -> Lanes:
    """The lanes of one run: the roles it may use, then everyone who actually took part."""
    roles = list(conversation.allowed_specialists or consultable_roles())
    participants = [*conversation_participants(conversation=conversation), *extra]
    return Lanes.build(specialists=roles, participants=participants)


def message_place(message: Message, lanes: Lanes) -> Message:
    """Attach the grid placement the template reads (start, end, span, direction)."""
    start, end, direction = lanes.span(message.sender, message.recipient)
    message.grid_start, message.grid_end, message.direction = start, end, direction
    message.grid_span = end - start
    message.reviewed = (
        bool(message.original_content) and message.original_content != message.content
    )
    return message


def messages_place(messages: Iterable[Message], lanes: Lanes) -> list[Message]:
    return [message_place(m, lanes) for m in messages]


def consult_role(tool_name: str) -> str:
    """``consult_coding_specialist`` → ``coding``; anything else → ``""``."""
    if tool_name.startswith(CONSULT_PREFIX) and tool_name.endswith(CONSULT_SUFFIX):
        return tool_name[len(CONSULT_PREFIX) : -len(CONSULT_SUFFIX)]
    return ""


@dataclass
class ThreadView:
    """One participant's view: the seqs it was shown and what was kept from it."""

    pk: int
    participant: str
    label: str
    seen: list[int] = field(default_factory=list)
    withheld: list[tuple[int, Any]] = field(default_factory=list)


def thread_views(conversation: Conversation) -> list[ThreadView]:
    """Per thread: the messages its participant was shown (by seq) and what was withheld."""
    views: dict[int, ThreadView] = {
        pk: ThreadView(pk=pk, participant=participant, label=label)
        for pk, participant, label in Thread.objects.filter(conversation=conversation)
        .order_by("id")
        .values_list("pk", "participant", "label")
    }
    rows = (
        Message.objects.filter(conversation=conversation, seq__lte=conversation.last_seq)
        .order_by("seq")
        .values_list("thread_id", "seq", "withheld")
    )
    for thread_id, seq, withheld in rows:
        view = views.get(thread_id)
        if view is None:
            continue
        view.seen.append(seq)
        for item in withheld or ():
            view.withheld.append((seq, item))
    return list(views.values())
