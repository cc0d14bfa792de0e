"""Websocket frames: rendered HTML with htmx out-of-band swaps, built from the database.

Every frame ends with the ``#last-seq`` input the page sends back when its socket reconnects,
so "what the page has" is always a seq. Model text is escaped by the templates like on the page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.html import format_html

from inspector.forms.runs import consultable_roles
from inspector.lanes import Lanes
from inspector.presenters import lanes_for, messages_place, thread_views
from inspector.rows import diagram_context, message_rows_html, tool_calls_html
from inspector.threads_panel import (
    ThreadMarks,
    threads_additions_html,
    threads_marks,
    threads_panel_html,
)
from orchestration.models import Conversation, Message
from orchestration.selectors.conversations import (
    CatchUp,
    escalation_list_for_conversation,
    message_list_for_conversation,
    tool_call_list_for_message,
)
from orchestration.selectors.escalations import escalation_open_count


def seq_marker(seq: int) -> str:
    return format_html(
        '<input id="last-seq" type="hidden" name="last_seq" value="{}" hx-swap-oob="outerHTML">',
        seq,
    )


def notice(text: str, *, reload: bool = False, kind: str = "info") -> str:
    return format_html(
        '<p id="ws-notice" class="ws-notice {}" role="status" data-reload="{}" '
        'hx-swap-oob="outerHTML">{}</p>',
        kind,
        "1" if reload else "0",
        text,
    )


def nav_count() -> str:
    return render_to_string(
        "inspector/partials/nav_count.html",
        {"open_escalation_count": escalation_open_count(), "oob": True},
    )


def stream_id(key: str) -> str:
    """A DOM id for the message being generated under journal ``key`` (any characters)."""
    return "stream-" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16]


@dataclass
class ConversationView:
    """What one page has been sent: its lanes, the streams it is drawing, and what its threads
    panel shows (``None``: not known, the next message redraws the panel)."""

    conversation_id: int
    lanes: Lanes | None = None
    streams: dict[str, str] = field(default_factory=dict)  # journal key -> stream id
    threads: dict[int, ThreadMarks] | None = None


def catch_up_frame(catch_up: CatchUp, view: ConversationView, *, reset_streams: bool) -> str:
    """One frame that brings a page from ``catch_up.after_seq`` to ``catch_up.seq``."""
    conversation = catch_up.conversation
    if catch_up.reload:
        return notice(
            "This page fell too far behind; reloading.", reload=True, kind="warn"
        ) + seq_marker(catch_up.after_seq)
    parts: list[str] = []
    if reset_streams:
        view.streams.clear()
        parts.append('<div id="streams" class="seq-rows streams" hx-swap-oob="outerHTML"></div>')
    finished_streams = [
        view.streams.pop(m.journal_key) for m in catch_up.messages if m.journal_key in view.streams
    ]
    for sid in finished_streams:
        parts.append(format_html('<div id="{}" hx-swap-oob="delete"></div>', sid))
    fork_roles = _ForkRoles()
    context = {"run": conversation, "oob": True}
    participants = {p for m in catch_up.messages for p in (m.sender, m.recipient)}
    if view.lanes is None or not view.lanes.covers(participants):
        # A new participant needs its own lane: redraw the whole diagram once.
        view.lanes = lanes_for(conversation)
        diagram = diagram_context(
            messages=message_list_for_conversation(conversation=conversation),
            loose_calls=tool_call_list_for_message(message_id=None, conversation=conversation),
            lanes=view.lanes,
            fork_roles=fork_roles,
        )
        parts.append(render_to_string("inspector/partials/diagram.html", {**context, **diagram}))
        # The page sends its lanes back when it reconnects, so they must follow the redraw.
        parts.append(
            render_to_string(
                "inspector/partials/lanes_input.html", {"lanes": view.lanes, "oob": True}
            )
        )
    else:
        if catch_up.messages:
            rows = message_rows_html(
                messages_place(catch_up.messages, view.lanes),
                lane_count=len(view.lanes),
                fork_roles=fork_roles,
            )
            parts.append(f'<div hx-swap-oob="beforeend:#seq-rows">{rows}</div>')
        for message_id in catch_up.message_ids_with_changed_calls:
            calls = tool_call_list_for_message(message_id=message_id, conversation=conversation)
            target = f"calls-{message_id}" if message_id is not None else "calls-loose"
            cards = tool_calls_html(calls, fork_roles)
            parts.append(f'<div hx-swap-oob="innerHTML:#{target}">{cards}</div>')
    if catch_up.messages:
        parts.append(threads_frame(conversation, catch_up.messages, view))
    if catch_up.escalations_changed:
        escalations = escalation_list_for_conversation(conversation=conversation)
        parts.append(
            render_to_string(
                "inspector/partials/run_escalations.html",
                {**context, "escalations": escalations},
            )
        )
        parts.append(nav_count())
    if catch_up.status_changed:
        parts.append(render_to_string("inspector/partials/run_status.html", context))
    parts.append(notice(""))
    parts.append(seq_marker(catch_up.seq))
    return "".join(parts)


class _ForkRoles(Sequence[str]):
    """``consultable_roles()``, read from the database only if a card offers a fork."""

    def __init__(self) -> None:
        self._roles: list[str] | None = None

    def _load(self) -> list[str]:
        if self._roles is None:
            self._roles = consultable_roles()
        return self._roles

    def __getitem__(self, index):  # type: ignore[override]
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())


def threads_frame(
    conversation: Conversation, messages: list[Message], view: ConversationView
) -> str:
    """What new ``messages`` change in the threads panel: additions to the rows the page has,
    or the whole panel when the page's panel is unknown or a thread is new to it."""
    marks = view.threads
    if marks is not None and all(m.thread_id is None or m.thread_id in marks for m in messages):
        return threads_additions_html(messages, marks)
    threads = thread_views(conversation)
    view.threads = threads_marks(threads)
    return threads_panel_html(threads, oob=True)


def stream_frame(view: ConversationView, *, key: str, participant: str, text: str) -> str:
    """Tokens of a message being generated: a new streaming row, or text added to one."""
    sid = view.streams.get(key)
    if sid is not None:
        return format_html('<span hx-swap-oob="beforeend:#{}-text">{}</span>', sid, text)
    sid = view.streams[key] = stream_id(key)
    lanes = view.lanes or Lanes.build(specialists=())
    column = lanes.column(participant)
    return format_html(
        '<div hx-swap-oob="beforeend:#streams"><div class="seq-row lanes-{}" id="{}">'
        '<div class="msg gs-{} ge-{} span-1 dir-self role-assistant"><div class="msg-card">'
        '<div class="msg-head" hx-disable><b>{}</b></div>'
        '<div class="msg-body" id="{}-text" hx-disable>{}</div></div></div></div></div>',
        len(lanes),
        sid,
        column,
        column + 1,
        participant,
        sid,
        text,
    )


def runs_rows_frame(runs: list[Conversation]) -> str:
    rows = "".join(
        render_to_string("inspector/partials/run_row.html", {"run": run}) for run in runs
    )
    if not rows:
        rows = '<tr id="runs-empty"><td colspan="8" class="empty">No runs.</td></tr>'
    return f'<tbody id="runs-body" hx-swap-oob="outerHTML">{rows}</tbody>'


def run_row_frame(run: Conversation, *, new: bool) -> str:
    if new:
        row = render_to_string("inspector/partials/run_row.html", {"run": run})
        return f'<tbody hx-swap-oob="afterbegin:#runs-body">{row}</tbody>'
    return render_to_string("inspector/partials/run_row.html", {"run": run, "oob": "outerHTML"})


def inbox_frame() -> str:
    from orchestration.selectors.escalations import escalation_open_list

    return render_to_string(
        "inspector/partials/inbox.html", {"open": escalation_open_list(), "oob": True}
    )
