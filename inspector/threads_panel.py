"""The "what each participant saw" panel, rendered in Python, whole or as additions.

The page draws the whole panel; a live page then receives only what new messages add to it (a
link per message, a line per withheld item), so a message costs the same in a run of 2,000
messages as in a run of 3. Every value is escaped as it is put in; thread labels and withheld
context come from models and sit inside ``hx-disable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from inspector.presenters import ThreadView
from inspector.rows import _e
from inspector.templatetags.inspector_tags import pretty_json
from orchestration.models import Message

WITHHELD_CHARS = 300
_NO_SEEN = "—"
_NO_WITHHELD = "nothing"


@dataclass
class ThreadMarks:
    """What one thread's row on a page already shows: any seen message, any withheld item."""

    seen: bool
    withheld: bool


def _seen_html(seq: int) -> str:
    return f'<a href="#m-{int(seq)}">#{int(seq)}</a>'


def _withheld_html(seq: int, item: Any) -> str:
    text = Truncator(pretty_json(item)).chars(WITHHELD_CHARS)
    return f"<div>at #{int(seq)}: <code>{_e(text)}</code></div>"


def _row_html(thread: ThreadView) -> str:
    pk = int(thread.pk)
    seen = ", ".join(_seen_html(seq) for seq in thread.seen) or _NO_SEEN
    withheld = "".join(_withheld_html(seq, item) for seq, item in thread.withheld)
    return (
        f'<tr id="thread-{pk}"><td>{_e(thread.participant)}</td>'
        f"<td hx-disable>{_e(thread.label)}</td>"
        f'<td id="thread-{pk}-seen">{seen}</td>'
        f'<td id="thread-{pk}-withheld" hx-disable>{withheld or _NO_WITHHELD}</td></tr>'
    )


def threads_panel_html(threads: list[ThreadView], *, oob: bool = False) -> SafeString:
    """The whole panel (``oob``: as an out-of-band swap replacing the page's panel)."""
    swap = ' hx-swap-oob="outerHTML"' if oob else ""
    if threads:
        rows = "".join(_row_html(t) for t in threads)
        body = (
            "<table><thead><tr><th>Participant</th><th>Thread</th><th>Saw (message #)</th>"
            f"<th>Withheld</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        body = '<p class="muted">No threads yet.</p>'
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<section id="threads" class="panel threads"{swap} aria-label="What each participant '
        f'saw">\n<h2>What each participant saw</h2>\n{body}\n</section>'
    )


def threads_marks(threads: Iterable[ThreadView]) -> dict[int, ThreadMarks]:
    return {t.pk: ThreadMarks(seen=bool(t.seen), withheld=bool(t.withheld)) for t in threads}


def threads_additions_html(messages: Iterable[Message], marks: dict[int, ThreadMarks]) -> str:
    """Out-of-band swaps adding ``messages`` (in seq order, all in threads that ``marks``
    knows) to a page whose panel shows ``marks``; ``marks`` is brought up to date."""
    seen: dict[int, list[int]] = {}
    withheld: dict[int, list[tuple[int, Any]]] = {}
    for m in messages:
        if m.thread_id is None:
            continue  # the panel lists threads only
        seen.setdefault(m.thread_id, []).append(m.seq)
        withheld.setdefault(m.thread_id, []).extend((m.seq, item) for item in m.withheld or ())
    parts: list[str] = []
    for thread_id, seqs in seen.items():
        mark, pk = marks[thread_id], int(thread_id)
        links = ", ".join(_seen_html(seq) for seq in seqs)
        if mark.seen:
            parts.append(f'<div hx-swap-oob="beforeend:#thread-{pk}-seen">, {links}</div>')
        else:
            parts.append(f'<div hx-swap-oob="innerHTML:#thread-{pk}-seen">{links}</div>')
        mark.seen = True
        items = withheld[thread_id]
        if items:
            lines = "".join(_withheld_html(seq, item) for seq, item in items)
            style = "beforeend" if mark.withheld else "innerHTML"
            parts.append(f'<div hx-swap-oob="{style}:#thread-{pk}-withheld">{lines}</div>')
            mark.withheld = True
    return "".join(parts)
