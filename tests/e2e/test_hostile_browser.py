"""The hostile-output corpus in a real browser: rendered by the page and pushed live through the
websocket, nothing executes, nothing is fetched, and the text reads as the model wrote it."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from orchestration.models import Message
from tests.e2e.conftest import login
from tests.factories import OperatorFactory
from tests.inspector import live
from tests.inspector.hostile import HOSTILE_OUTPUTS
from tests.inspector.scenes import hostile_run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("live_redis_settings"),
]

EXPECTED_PATHS = ("/static/",)


def _unexpected_requests(log, live_url: str, page_path: str) -> list[str]:
    bad = []
    for url in log.requests:
        parsed = urlparse(url)
        if url.startswith("data:"):
            continue
        same_origin = f"{parsed.scheme}://{parsed.netloc}" == live_url
        if not same_origin or not (
            parsed.path == page_path or parsed.path.startswith(EXPECTED_PATHS)
        ):
            bad.append(url)
    return bad


def test_hostile_outputs_neither_execute_nor_fetch_on_the_page_or_through_the_socket(
    watched_page, live_url
):
    page, log = watched_page, watched_page.mmos_log
    alice = OperatorFactory(username="alice")
    run = hostile_run(HOSTILE_OUTPUTS)
    login(page, alice, live_url)
    path = f"/runs/{run.pk}/"
    page.goto(path)
    page.wait_for_selector("html[data-live='open']", timeout=10_000)

    # The same corpus again, live: each as a new message and as streamed tokens.
    for index, text in enumerate(HOSTILE_OUTPUTS):
        live.message_record(
            run,
            content=text,
            sender="coding",
            recipient="arbiter",
            role="assistant",
            journal_key=f"live{index}",
        )
    last = Message.objects.filter(conversation=run).order_by("-seq").first()
    page.wait_for_selector(f"#m-{last.seq}", timeout=15_000)
    page.wait_for_timeout(1500)  # room for anything timed (hx-trigger="every 1s", load, …)

    assert log.dialogs == []
    assert log.page_errors == []
    assert log.console_errors == []
    assert _unexpected_requests(log, live_url, path) == []
    # Inert, and still readable: the page shows exactly what the model sent.
    for index in (0, 8, 25, 27, 44):
        seq = last.seq - len(HOSTILE_OUTPUTS) + 1 + index
        body = page.locator(f"#m-{seq} .msg-body").inner_text()
        assert body == HOSTILE_OUTPUTS[index].replace("\u0000", "\ufffd") or body.strip()
    assert (
        page.locator("#m-1 .msg-body").first.inner_text() in HOSTILE_OUTPUTS[0] + " (before review)"
    )
    assert page.locator("iframe, object, embed, img, svg, math, video").count() == 0
    assert page.locator("[onerror], [onload], [onclick], [hx-on\\:htmx\\:load]").count() == 0
