"""The "what each participant saw" panel: drawn whole, then grown by what new messages add."""

from __future__ import annotations

import re

from inspector.presenters import ThreadView
from inspector.threads_panel import (
    ThreadMarks,
    threads_additions_html,
    threads_marks,
    threads_panel_html,
)
from orchestration.models import Message


def _cell(html: str, cell_id: str) -> str:
    return re.search(rf'<td id="{cell_id}"[^>]*>(.*?)</td>', html)[1]


def test_whole_panel_lists_each_thread_with_what_it_saw_and_escapes_model_text():
    threads = [
        ThreadView(pk=1, participant="arbiter", label="main", seen=[1, 2], withheld=[]),
        ThreadView(
            pk=2,
            participant="coding",
            label="<i>consult</i>",
            seen=[],
            withheld=[(3, "<script>alert(1)</script>")],
        ),
    ]
    html = threads_panel_html(threads, oob=True)
    assert html.startswith('<section id="threads" class="panel threads" hx-swap-oob="outerHTML"')
    assert _cell(html, "thread-1-seen") == '<a href="#m-1">#1</a>, <a href="#m-2">#2</a>'
    assert _cell(html, "thread-1-withheld") == "nothing"
    assert _cell(html, "thread-2-seen") == "—"
    assert "&lt;i&gt;consult&lt;/i&gt;" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_panel_without_threads_says_so():
    assert "No threads yet." in threads_panel_html([])


def test_first_message_of_a_thread_replaces_its_dash_and_later_ones_are_appended():
    marks = threads_marks(
        [
            ThreadView(pk=1, participant="arbiter", label="", seen=[1]),
            ThreadView(pk=2, participant="coding", label=""),
        ]
    )
    first = threads_additions_html(
        [Message(thread_id=2, seq=4, withheld=[]), Message(thread_id=1, seq=5, withheld=[])],
        marks,
    )
    assert '<div hx-swap-oob="innerHTML:#thread-2-seen"><a href="#m-4">#4</a></div>' in first
    assert '<div hx-swap-oob="beforeend:#thread-1-seen">, <a href="#m-5">#5</a></div>' in first
    assert marks[2] == ThreadMarks(seen=True, withheld=False)
    second = threads_additions_html([Message(thread_id=2, seq=6, withheld=[])], marks)
    assert second == '<div hx-swap-oob="beforeend:#thread-2-seen">, <a href="#m-6">#6</a></div>'


def test_withheld_context_replaces_nothing_then_is_appended_escaped_and_truncated():
    marks = {1: ThreadMarks(seen=True, withheld=False)}
    first = threads_additions_html(
        [Message(thread_id=1, seq=7, withheld=["<b>secret</b>", {"k": "x" * 400}])], marks
    )
    assert 'hx-swap-oob="innerHTML:#thread-1-withheld"' in first
    assert "<div>at #7: <code>&lt;b&gt;secret&lt;/b&gt;</code></div>" in first
    assert "x" * 400 not in first and "…" in first
    second = threads_additions_html([Message(thread_id=1, seq=8, withheld=["more"])], marks)
    assert 'hx-swap-oob="beforeend:#thread-1-withheld"><div>at #8: <code>more</code>' in second


def test_messages_outside_any_thread_change_nothing():
    assert threads_additions_html([Message(thread_id=None, seq=3, withheld=["x"])], {}) == ""
