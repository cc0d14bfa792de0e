"""The engine's ``RunJournal`` on the database.

Every write is idempotent by its journal key and happens only while this worker still holds the
step's lease: a stale worker (its lease expired and the step was handed to another) is refused
with ``LeaseLost``, and writes to a cancelled run raise ``RunCancelled``. Events go out after
commit, each with the conversation's ``seq``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from orchestration.engine.ports import (
    EscalationRecord,
    MessageRecord,
    RecordedMessage,
    ToolCallRecord,
)
from orchestration.models import Conversation, Escalation, Message, Step, Thread, ToolCall
from orchestration.services.events import event_publish, event_publish_async
from orchestration.services.journal_records import message_record_of, tool_call_record_of

_STEP_TABLE = Step._meta.db_table
_CONVERSATION_TABLE = Conversation._meta.db_table


class LeaseLost(Exception):
    """This worker no longer owns the step; another worker may be running it."""


class RunCancelled(Exception):
    """The run was cancelled (or otherwise ended) while the step was working."""


def seq_next(conversation_id: int) -> int:
    """Take the conversation's next ``seq``. Call inside a transaction: the row stays locked
    (PostgreSQL) or the database is write-locked (SQLite, IMMEDIATE) until commit."""
    if connection.features.can_return_columns_from_insert:  # RETURNING: one round trip
        table = connection.ops.quote_name(Conversation._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",  # noqa: S608 - table name from the model
                [conversation_id],
            )
            return cursor.fetchone()[0]
    Conversation.objects.filter(pk=conversation_id).update(last_seq=F("last_seq") + 1)
    return Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation_id)


class DatabaseRunJournal:
    def __init__(self, *, conversation_id: int, step_id: int, owner: str) -> None:
        self.conversation_id = conversation_id
        self.step_id = step_id
        self.owner = owner
        self._thread_ids: dict[str, int] = {}
        # Journal keys already in the database, read once per step: a lookup of a key that is
        # not there (the normal case: nothing to replay) costs no query. A key another worker
        # writes meanwhile is still caught by the unique constraint when this one writes.
        self._message_ids: dict[str, int] | None = None
        self._tool_call_ids: dict[str, int] | None = None

    # --- the port -------------------------------------------------------------------------

    async def message_lookup(self, key: str) -> RecordedMessage | None:
        return await sync_to_async(self.message_lookup_sync)(key)

    async def message_record(self, record: MessageRecord) -> RecordedMessage:
        return await sync_to_async(self.message_record_sync)(record)

    async def tool_call_lookup(self, key: str) -> ToolCallRecord | None:
        return await sync_to_async(self.tool_call_lookup_sync)(key)

    async def tool_call_record(self, record: ToolCallRecord) -> None:
        await sync_to_async(self.tool_call_record_sync)(record)

    async def escalation_open(self, record: EscalationRecord) -> None:
        await sync_to_async(self.escalation_open_sync)(record)

    async def conversation_update(self, **changes: Any) -> None:
        await sync_to_async(self.conversation_update_sync)(**changes)

    async def stream_delta(self, key: str, participant: str, text: str) -> None:
        await event_publish_async(
            conversation_id=self.conversation_id,
            type="message.delta",
            seq=0,  # deltas are not stored; they belong to the message recorded under ``key``
            key=key,
            participant=participant,
            text=text,
        )

    # --- synchronous implementations --------------------------------------------------------

    def guard(self) -> None:
        """Refuse writes from a worker that lost its lease, and writes to a finished run."""
        # Raw SQL: this runs before every write of every step, and the ORM's query building
        # cost more than the query itself. FOR UPDATE holds the step row on PostgreSQL; SQLite's
        # IMMEDIATE transactions already hold the write lock.
        lock = " FOR UPDATE OF s" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.status, s.lease_owner, c.status FROM {_STEP_TABLE} s "  # noqa: S608
                f"JOIN {_CONVERSATION_TABLE} c ON c.id = s.conversation_id WHERE s.id = %s{lock}",
                [self.step_id],
            )
            row = cursor.fetchone()
        if row is None or row[0] != Step.Status.RUNNING or row[1] != self.owner:
            raise LeaseLost(f"step {self.step_id} is no longer leased to {self.owner}")
        if row[2] in Conversation.TERMINAL:
            raise RunCancelled(f"conversation {self.conversation_id} is {row[2]}")

    def _known_messages(self) -> dict[str, int]:
        if self._message_ids is None:
            self._message_ids = dict(
                Message.objects.filter(conversation_id=self.conversation_id).values_list(
                    "journal_key", "pk"
                )
            )
        return self._message_ids

    def _known_tool_calls(self) -> dict[str, int]:
        if self._tool_call_ids is None:
            self._tool_call_ids = dict(
                ToolCall.objects.filter(conversation_id=self.conversation_id).values_list(
                    "journal_key", "pk"
                )
            )
        return self._tool_call_ids

    def message_lookup_sync(self, key: str) -> RecordedMessage | None:
        if key not in self._known_messages():
            return None
        row = (
            Message.objects.filter(conversation_id=self.conversation_id, journal_key=key)
            .select_related("thread")
            .first()
        )
        return None if row is None else RecordedMessage(seq=row.seq, record=message_record_of(row))

    def message_record_sync(self, record: MessageRecord) -> RecordedMessage:
        try:
            return self._message_insert(record)
        except IntegrityError:
            # Written meanwhile under the same key (a worker that took over this step).
            self._known_messages()[record.key] = 0
            existing = self.message_lookup_sync(record.key)
            if existing is None:
                raise
            return existing

    def _message_insert(self, record: MessageRecord) -> RecordedMessage:
        with transaction.atomic():
            existing = self.message_lookup_sync(record.key)
            if existing is not None:
                return existing
            self.guard()
            thread_id = self._thread(record)
            seq = seq_next(self.conversation_id)
            row = Message.objects.create(
                conversation_id=self.conversation_id,
                thread_id=thread_id,
                seq=seq,
                journal_key=record.key,
                sender=record.sender,
                recipient=record.recipient,
                role=record.role,
                content=record.content,
                original_content=record.original_content,
                review=record.review,
                withheld=list(record.withheld),
                tool_calls=list(record.tool_calls),
                tool_call_id=record.tool_call_id,
                model=record.model,
                server=record.server,
                done_reason=record.done_reason,
                prompt_tokens=record.usage.prompt_tokens,
                completion_tokens=record.usage.completion_tokens,
                estimated_prompt_tokens=record.estimated_prompt_tokens,
                truncation_suspected=record.truncation_suspected,
                queue_wait_ms=record.timing.queue_wait_ms,
                load_ms=record.timing.load_ms,
                prompt_eval_ms=record.timing.prompt_eval_ms,
                generation_ms=record.timing.generation_ms,
                total_ms=record.timing.total_ms,
                attempts=[asdict(a) for a in record.attempts],
                step_id=self.step_id,
            )
            transaction.on_commit(lambda: self._known_messages().__setitem__(record.key, row.pk))
            event_publish(
                conversation_id=self.conversation_id,
                type="message.created",
                seq=seq,
                message_id=row.pk,
                key=record.key,
            )
        return RecordedMessage(seq=seq, record=record)

    def _thread(self, record: MessageRecord) -> int:
        if record.thread_key in self._thread_ids:
            return self._thread_ids[record.thread_key]
        parent = None
        if record.parent_thread_key:
            parent = Thread.objects.filter(
                conversation_id=self.conversation_id, key=record.parent_thread_key
            ).first()
        thread, _ = Thread.objects.get_or_create(
            conversation_id=self.conversation_id,
            key=record.thread_key,
            defaults={
                "participant": record.participant,
                "label": record.thread_label,
                "parent": parent,
            },
        )
        # Only after commit would be exact; a rolled-back thread row is recreated by the retry,
        # and this journal is dropped with its step anyway.
        self._thread_ids[record.thread_key] = thread.pk
        return thread.pk

    def tool_call_lookup_sync(self, key: str) -> ToolCallRecord | None:
        if key not in self._known_tool_calls():
            return None
        row = ToolCall.objects.filter(conversation_id=self.conversation_id, journal_key=key).first()
        return None if row is None else tool_call_record_of(row)

    def tool_call_record_sync(self, record: ToolCallRecord) -> None:
        with transaction.atomic():
            self.guard()
            message_id = None
            if record.message_key:
                message_id = self._known_messages().get(record.message_key) or (
                    Message.objects.filter(
                        conversation_id=self.conversation_id, journal_key=record.message_key
                    )
                    .values_list("pk", flat=True)
                    .first()
                )
            seq = seq_next(self.conversation_id)
            fields = {
                "call_id": record.call_id,
                "name": record.name,
                "arguments": record.arguments,
                "status": record.status,
                "result": record.result,
                "error": record.error,
                "repairs": list(record.repairs),
                "message_id": message_id,
                "seq": seq,
            }
            known = self._known_tool_calls()
            row_id = known.get(record.key)
            if row_id is None or not ToolCall.objects.filter(pk=row_id).update(**fields):
                row_id = ToolCall.objects.create(
                    conversation_id=self.conversation_id, journal_key=record.key, **fields
                ).pk
                Conversation.objects.filter(pk=self.conversation_id).update(
                    tool_calls_used=F("tool_calls_used") + 1
                )
                transaction.on_commit(lambda: known.__setitem__(record.key, row_id))
            event_publish(
                conversation_id=self.conversation_id,
                type="tool_call.updated",
                seq=seq,
                tool_call_id=row_id,
            )

    def escalation_open_sync(self, record: EscalationRecord) -> None:
        with transaction.atomic():
            if Escalation.objects.filter(
                conversation_id=self.conversation_id, journal_key=record.key
            ).exists():
                return
            self.guard()
            tool_call = None
            if record.tool_call_key:
                tool_call = ToolCall.objects.filter(
                    conversation_id=self.conversation_id, journal_key=record.tool_call_key
                ).first()
            seq = seq_next(self.conversation_id)
            row = Escalation.objects.create(
                conversation_id=self.conversation_id,
                journal_key=record.key,
                kind=record.kind,
                question=record.question,
                options=list(record.options),
                tool_call=tool_call,
                seq=seq,
            )
            event_publish(
                conversation_id=self.conversation_id,
                type="escalation.opened",
                seq=seq,
                escalation_id=row.pk,
            )

    def conversation_update_sync(self, **changes: Any) -> None:
        fields: dict[str, Any] = {}
        for name in ("phase", "classification", "routing_decision"):
            if name in changes:
                fields[name] = changes[name]
        for name in ("tokens_used", "tool_calls_used"):
            if changes.get(name):
                fields[name] = F(name) + int(changes[name])
        if not fields:
            return
        with transaction.atomic():
            self.guard()
            if "phase" in fields:
                current, history = Conversation.objects.values_list("phase", "phase_history").get(
                    pk=self.conversation_id
                )
                if current == fields["phase"]:  # a step replayed after a crash: already done
                    del fields["phase"]
                else:
                    fields["phase_history"] = [
                        *history,
                        {
                            "from": current,
                            "to": fields["phase"],
                            "reason": str(changes.get("phase_reason") or ""),
                            "at": timezone.now().isoformat(),
                        },
                    ]
            shown = {"phase", "classification", "routing_decision"} & set(fields)
            if shown:
                fields["status_seq"] = seq = seq_next(self.conversation_id)
                if "phase_history" in fields:
                    fields["phase_history"][-1]["seq"] = seq
            Conversation.objects.filter(pk=self.conversation_id).update(**fields)
            if shown:
                event_publish(
                    conversation_id=self.conversation_id,
                    type="conversation.status",
                    seq=seq,
                    changed=sorted(shown),
                )
