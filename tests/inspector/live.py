"""Helpers for the socket tests: writes that go through the real seq and event machinery, and
websocket clients that log in with a real session cookie."""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction

from mmos_site.asgi import application
from orchestration.models import Conversation, Escalation, Message, ToolCall
from orchestration.services.events import event_publish
from orchestration.services.journal import seq_next
from orchestration.services.steps import conversation_status_set

ORIGIN = "http://localhost"


def session_cookie_for(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"sessionid={session.session_key}"


def communicator(path: str, *, cookie: str = "", origin: str = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"host", b"localhost")]
    if origin:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def message_record(conversation: Conversation, **fields: Any) -> Message:
    """A message written as the journal writes one: next seq, then the event after commit."""
    with transaction.atomic():
        seq = seq_next(conversation.pk)
        fields.setdefault("sender", "arbiter")
        fields.setdefault("recipient", "coding")
        fields.setdefault("role", "user")
        message = Message.objects.create(
            conversation=conversation,
            seq=seq,
            journal_key=fields.pop("journal_key", f"k{seq}"),
            **fields,
        )
        event_publish(
            conversation_id=conversation.pk,
            type="message.created",
            seq=seq,
            message_id=message.pk,
            key=message.journal_key,
        )
    return message


def tool_call_record(conversation: Conversation, **fields: Any) -> ToolCall:
    with transaction.atomic():
        seq = seq_next(conversation.pk)
        call_id = fields.pop("call_id", f"call{seq}")
        call, _ = ToolCall.objects.update_or_create(
            conversation=conversation,
            journal_key=f"tc:{call_id}",
            defaults={"call_id": call_id, "seq": seq, **fields},
        )
        event_publish(
            conversation_id=conversation.pk,
            type="tool_call.updated",
            seq=seq,
            tool_call_id=call.pk,
        )
    return call


def escalation_open(conversation: Conversation, question: str) -> Escalation:
    with transaction.atomic():
        seq = seq_next(conversation.pk)
        escalation = Escalation.objects.create(
            conversation=conversation, journal_key=f"esc{seq}", seq=seq, question=question
        )
        event_publish(
            conversation_id=conversation.pk,
            type="escalation.opened",
            seq=seq,
            escalation_id=escalation.pk,
        )
    return escalation


def status_set(conversation: Conversation, status: str, reason: str = "") -> None:
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        conversation_status_set(locked, status, reason=reason)
