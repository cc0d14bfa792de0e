"""The hostile-output corpus through the real run page and the real websocket fragments:
every output appears escaped, never as markup (the browser test checks nothing executes)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils.html import escape

from inspector.fragments import ConversationView, catch_up_frame
from orchestration.selectors.conversations import conversation_catch_up
from tests.inspector.hostile import HOSTILE_OUTPUTS
from tests.inspector.scenes import hostile_run

pytestmark = pytest.mark.django_db

MARKUP = [text for text in HOSTILE_OUTPUTS if "<" in text or '"' in text]


def test_the_corpus_has_at_least_fifty_outputs():
    assert len(HOSTILE_OUTPUTS) >= 50


FORBIDDEN_TAGS = {
    "iframe",
    "object",
    "embed",
    "img",
    "svg",
    "math",
    "style",
    "base",
    "video",
    "source",
}
OUR_TRIGGERS = {
    "htmx:wsOpen from:body",
    "change, submit",
    "input from:#template-form delay:300ms",
    "every 10s",
}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def _assert_inert(html: str) -> None:
    """No model text became an element or an attribute: only our own markup is there."""
    for text in MARKUP:
        assert text not in html, text
    parser = _Elements()
    parser.feed(html)
    tags = [tag for tag, _ in parser.elements]
    assert tags.count("title") <= 1 and tags.count("body") <= 1 and tags.count("head") <= 1
    for tag, attrs in parser.elements:
        assert tag not in FORBIDDEN_TAGS, (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), attrs
        if tag == "link":
            assert attrs.get("rel") in ("stylesheet", "icon"), attrs
        if tag == "meta":
            assert attrs.get("name") in (None, "viewport", "htmx-config"), attrs
            assert '"allowEval":true' not in (attrs.get("content") or "")
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            assert not (value or "").strip().lower().startswith(("javascript:", "data:text")), attrs
            assert not name.startswith(("hx-on", "data-hx", "hx-vals", "style")), (tag, attrs)
            assert name != "ws-connect" or ((value or "").startswith("/ws/") and tag == "div")
        if "hx-trigger" in attrs:
            assert attrs["hx-trigger"] in OUR_TRIGGERS, attrs
        if "hx-get" in attrs:
            assert attrs["hx-get"] in ("/runs/", "/servers/"), attrs
        if "hx-swap-oob" in attrs:
            assert "owned" not in str(attrs) and "replaced" not in str(attrs)
    assert escape(HOSTILE_OUTPUTS[8]) in html


def test_hostile_outputs_are_escaped_on_the_run_page(alice_client):
    run = hostile_run(HOSTILE_OUTPUTS)
    html = alice_client.get(reverse("inspector:run", args=[run.pk])).content.decode()
    _assert_inert(html)
    assert html.count("hx-disable") >= len(HOSTILE_OUTPUTS)


def test_hostile_outputs_are_escaped_in_websocket_fragments(alice):
    run = hostile_run(HOSTILE_OUTPUTS)
    catch_up = conversation_catch_up(conversation_id=run.pk, after_seq=0)
    catch_up.escalations_changed = catch_up.status_changed = True
    frame = catch_up_frame(catch_up, ConversationView(conversation_id=run.pk), reset_streams=True)
    _assert_inert(frame)


def test_hostile_outputs_are_escaped_on_the_runs_list_and_inbox(alice_client):
    hostile_run(HOSTILE_OUTPUTS)
    for name in ("inspector:runs", "inspector:escalations"):
        html = alice_client.get(reverse(name)).content.decode()
        for text in MARKUP:
            assert text not in html, (name, text)
