"""Live inspector sockets. Events only say "look again"; frames are rendered from the database.

``ConversationConsumer`` (one run's page) and ``RunsConsumer`` (the runs list, the inbox, and the
navigation's escalation count on every other page). Clients speak the htmx ws extension's format:
JSON of form values (``action``, ``last_seq``) plus ``HEADERS``; the server answers with HTML
fragments carrying ``hx-swap-oob``. A page that (re)connects sends its last seq and receives what
it missed, in order, once.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from inspector import fragments
from inspector.database import database_sync_to_async
from inspector.forms.runs import RunFilterForm
from inspector.fragments import ConversationView
from inspector.lanes import Lanes
from orchestration.selectors.access import conversation_visible, user_is_operator
from orchestration.selectors.conversations import (
    conversation_catch_up,
    conversation_get,
    conversation_list,
    conversation_list_row,
)
from orchestration.services.events import (
    ESCALATION_EVENTS,
    ESCALATIONS_GROUP,
    RUNS_GROUP,
    conversation_group_name,
)

logger = logging.getLogger(__name__)


CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
MAX_FRAME_BYTES = 16_384


def error_frame(text: str) -> str:
    return fragments.notice(text, kind="error")


def parse_client_frame(text_data: str | None) -> tuple[dict[str, Any] | None, str]:
    """The client's JSON object, or ``None`` and what is wrong with it."""
    if text_data is None:
        return None, "Binary frames are not understood."
    if len(text_data) > MAX_FRAME_BYTES:
        return None, "Frame too large."
    try:
        data = json.loads(text_data)
    except ValueError:
        return None, "Frame is not JSON."
    if not isinstance(data, dict):
        return None, "Frame must be a JSON object."
    return data, ""


def parse_seq(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        seq = int(value)
    except (TypeError, ValueError):
        return None
    return seq if 0 <= seq < 2**31 else None


class InspectorConsumer(AsyncWebsocketConsumer):
    """Shared dispatch: unknown events are ignored, and no frame can crash the consumer."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None and not message["type"].startswith("websocket."):
            logger.debug("ignoring event %s", message["type"])
            return
        await super().dispatch(message)

    async def send_frame(self, frame: str) -> None:
        if frame:
            await self.send(text_data=frame)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        data, problem = parse_client_frame(text_data)
        if data is None:
            await self.send_frame(error_frame(problem))
            return
        try:
            await self.handle_client(data)
        except Exception:  # one bad frame must not take the page's socket down
            logger.exception("inspector socket failed on a client frame")
            await self.send_frame(error_frame("The server could not handle that frame."))

    async def handle_client(self, data: dict[str, Any]) -> None:
        """Pages override this; a socket that expects no frames says so."""
        await self.send_frame(error_frame("This socket does not take frames."))


class ConversationConsumer(InspectorConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        allowed = await database_sync_to_async(_may_watch)(conversation_id, user)
        if allowed is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.view = ConversationView(conversation_id=conversation_id)
        self.sent_seq: int | None = None  # unknown until the page says what it has
        # Other runs matter to this page only through the escalation count in the navigation.
        self.groups_joined = [conversation_group_name(conversation_id), ESCALATIONS_GROUP]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def handle_client(self, data: dict[str, Any]) -> None:
        action = data.get("action", "resume")
        if action != "resume":
            await self.send_frame(error_frame(f"Unknown action {str(action)[:40]!r}."))
            return
        last_seq = parse_seq(data.get("last_seq"))
        if last_seq is None:
            await self.send_frame(error_frame("last_seq must be a whole number of at least 0."))
            return
        self.sent_seq = last_seq
        # The lanes the page draws; unknown or implausible ones make the first frame redraw all.
        self.view.lanes = Lanes.parse(data.get("lanes"))
        self.view.threads = None  # what the page's threads panel shows is not known
        await self.catch_up(reset_streams=True)

    async def catch_up(self, *, reset_streams: bool = False) -> None:
        if self.sent_seq is None:
            return  # events before the page said what it has are covered by its resume
        frame, seq = await database_sync_to_async(_catch_up_frame)(
            self.view, self.sent_seq, reset_streams
        )
        self.sent_seq = seq
        await self.send_frame(frame)

    async def _event(self, event: dict[str, Any]) -> None:
        if event.get("conversation_id") == self.view.conversation_id:
            if self._covered(event.get("seq")):
                return
            await self.catch_up()
        elif event["type"] in ESCALATION_EVENTS and self.sent_seq is not None:
            await self.send_frame(await database_sync_to_async(fragments.nav_count)())

    def _covered(self, seq: Any) -> bool:
        """Whether the page was already sent the change an event announces.

        Every change takes its ``seq`` from the conversation's ``last_seq`` in the transaction
        that writes it, so a catch-up that read ``last_seq >= seq`` has drawn it. One commit
        sends several events (message, call, status); the first catch-up covers them all.
        """
        return (
            self.sent_seq is not None
            and isinstance(seq, int)
            and not isinstance(seq, bool)
            and 0 < seq <= self.sent_seq
        )

    message_created = _event
    tool_call_updated = _event
    escalation_opened = _event
    escalation_closed = _event
    conversation_status = _event

    async def message_delta(self, event: dict[str, Any]) -> None:
        if self.sent_seq is None or event.get("conversation_id") != self.view.conversation_id:
            return
        # Formatting only, no database: done here rather than through a thread.
        frame = fragments.stream_frame(
            self.view,
            key=str(event.get("key", "")),
            participant=str(event.get("participant", "")),
            text=str(event.get("text", "")),
        )
        await self.send_frame(frame)


def _may_watch(conversation_id: int, user: Any) -> bool | None:
    conversation = conversation_get(conversation_id=conversation_id)
    if conversation is None:
        return None
    return conversation_visible(conversation=conversation, user=user)


def _catch_up_frame(view: ConversationView, after_seq: int, reset_streams: bool) -> tuple[str, int]:
    catch_up = conversation_catch_up(conversation_id=view.conversation_id, after_seq=after_seq)
    if catch_up is None:
        return fragments.notice("This run no longer exists.", kind="error"), after_seq
    if catch_up.empty and not reset_streams:
        return "", after_seq
    frame = fragments.catch_up_frame(catch_up, view, reset_streams=reset_streams)
    return frame, (after_seq if catch_up.reload else catch_up.seq)


class RunsConsumer(InspectorConsumer):
    """``?view=list`` (runs list, with the list's filters), ``inbox`` or ``nav`` (count only)."""

    VIEWS = ("list", "inbox", "nav")

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.page_view = query.get("view", ["nav"])[0]
        if self.page_view not in self.VIEWS:
            self.page_view = "nav"
        if self.page_view != "nav" and not await database_sync_to_async(user_is_operator)(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        form = RunFilterForm({k: v[0] for k, v in query.items()})
        self.filters = await database_sync_to_async(form.filters)(user_id=user.pk)
        self.rows: set[int] = set()
        self.resumed = False
        # Only the runs list follows every run; the inbox and the count follow escalations.
        self.group = RUNS_GROUP if self.page_view == "list" else ESCALATIONS_GROUP
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def handle_client(self, data: dict[str, Any]) -> None:
        if data.get("action", "resume") != "resume":
            await self.send_frame(error_frame("Unknown action."))
            return
        self.resumed = True
        # The page may have missed anything: redraw what it shows, then keep it current.
        if self.page_view == "list":
            frame, self.rows = await database_sync_to_async(self._rows_frame)()
            await self.send_frame(frame)
        elif self.page_view == "inbox":
            await self.send_frame(await database_sync_to_async(fragments.inbox_frame)())
        await self.send_frame(await database_sync_to_async(_count_frame)())

    def _rows_frame(self) -> tuple[str, set[int]]:
        runs = list(conversation_list(filters=self.filters))
        return fragments.runs_rows_frame(runs), {run.pk for run in runs}

    async def _event(self, event: dict[str, Any]) -> None:
        if not self.resumed:
            return
        if event["type"] in ESCALATION_EVENTS:
            await self.send_frame(await database_sync_to_async(_count_frame)())
            if self.page_view == "inbox":
                await self.send_frame(await database_sync_to_async(fragments.inbox_frame)())
        if self.page_view == "list":
            frame = await database_sync_to_async(self._row_frame)(event.get("conversation_id"))
            await self.send_frame(frame)

    def _row_frame(self, conversation_id: Any) -> str:
        if not isinstance(conversation_id, int):
            return ""
        run = conversation_list_row(conversation_id=conversation_id)
        if run is None or not self.filters.matches(run, open_escalations=run.open_escalations):
            return ""
        new = run.pk not in self.rows
        if new and not self.rows:
            self.rows.add(run.pk)
            return fragments.runs_rows_frame([run])
        self.rows.add(run.pk)
        return fragments.run_row_frame(run, new=new)

    message_created = _event
    conversation_status = _event
    escalation_opened = _event
    escalation_closed = _event
    tool_call_updated = _event

    async def message_delta(self, event: dict[str, Any]) -> None:
        return  # the runs list shows no tokens


def _count_frame() -> str:
    return fragments.nav_count()
