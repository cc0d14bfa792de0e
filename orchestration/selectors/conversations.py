"""Reads of runs for the inspector: the runs list, one run's timeline, and what a client missed."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from orchestration.models import Conversation, Escalation, Message, Thread, ToolCall

# A client further behind than this reloads the page instead of replaying the gap.
CATCH_UP_LIMIT = 500


@dataclass(frozen=True)
class RunFilters:
    """The runs list's filters, as parsed from the query string."""

    status: str = ""
    text: str = ""
    waiting: bool = False
    mine_user_id: int | None = None

    def matches(self, conversation: Conversation, *, open_escalations: int) -> bool:
        """The same test as ``conversation_list`` applies, for one row already loaded."""
        if self.status and conversation.status != self.status:
            return False
        if self.text and self.text.lower() not in conversation.task.lower():
            return False
        if self.waiting and not open_escalations:
            return False
        return not (self.mine_user_id and conversation.created_by_id != self.mine_user_id)


def conversation_list(*, filters: RunFilters, limit: int = 100) -> QuerySet[Conversation]:
    """Runs, newest first, with their open escalations counted and their threads loaded."""
    runs = Conversation.objects.select_related("created_by").annotate(
        open_escalations=Count("escalations", filter=Q(escalations__status=Escalation.Status.OPEN))
    )
    if filters.status:
        runs = runs.filter(status=filters.status)
    if filters.text:
        runs = runs.filter(task__icontains=filters.text)
    if filters.waiting:
        runs = runs.filter(open_escalations__gt=0)
    if filters.mine_user_id:
        runs = runs.filter(created_by_id=filters.mine_user_id)
    threads = Prefetch("threads", queryset=Thread.objects.only("conversation_id", "participant"))
    return runs.prefetch_related(threads).order_by("-created_at")[:limit]


def conversation_list_row(*, conversation_id: int) -> Conversation | None:
    """One runs-list row, annotated the same way as ``conversation_list``."""
    return (
        Conversation.objects.select_related("created_by")
        .annotate(
            open_escalations=Count(
                "escalations", filter=Q(escalations__status=Escalation.Status.OPEN)
            )
        )
        .prefetch_related("threads")
        .filter(pk=conversation_id)
        .first()
    )


def conversation_get(*, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related("created_by", "forked_from")
        .filter(pk=conversation_id)
        .first()
    )


def conversation_participants(*, conversation: Conversation) -> list[str]:
    """Everyone who sent or received a message, plus the thread owners, in first-seen order."""
    seen: dict[str, None] = {}
    for participant in Thread.objects.filter(conversation=conversation).values_list(
        "participant", flat=True
    ):
        seen.setdefault(participant, None)
    pairs = Message.objects.filter(conversation=conversation).values_list("sender", "recipient")
    for sender, recipient in pairs.distinct():
        seen.setdefault(sender, None)
        seen.setdefault(recipient, None)
    return list(seen)


def message_list_for_conversation(
    *, conversation: Conversation, after_seq: int = 0, up_to_seq: int | None = None
) -> list[Message]:
    """Messages with ``after_seq < seq <= up_to_seq`` in seq order, each with its tool calls as
    ``message.calls``.

    ``up_to_seq`` defaults to the ``last_seq`` read with ``conversation``: a message is committed
    together with the ``last_seq`` that counts it, so nothing at or below it can appear later,
    and a client told "you have everything up to S" really has.
    """
    up_to = conversation.last_seq if up_to_seq is None else up_to_seq
    messages = _messages_between(conversation, after_seq, up_to)
    # One query for all their calls, grouped here: a prefetch would build a queryset per message.
    calls: list[ToolCall] = []
    if messages:
        calls = list(
            ToolCall.objects.filter(
                conversation=conversation, message__seq__gt=after_seq, message__seq__lte=up_to
            ).order_by("id")
        )
    _calls_attach(messages, calls)
    return messages


def _messages_between(conversation: Conversation, after_seq: int, up_to: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation=conversation, seq__gt=after_seq, seq__lte=up_to)
        .defer("attempts", "tool_calls", "step_id", "created_at")
        .order_by("seq")
    )


def _calls_attach(messages: list[Message], calls: list[ToolCall]) -> None:
    by_message: dict[int, list[ToolCall]] = {m.pk: [] for m in messages}
    for call in calls:
        if call.message_id in by_message:
            by_message[call.message_id].append(call)
    for message in messages:
        message.calls = by_message[message.pk]


def tool_call_list_for_message(
    *, message_id: int | None, conversation: Conversation
) -> list[ToolCall]:
    """The tool calls of one message (``None``: the calls not tied to a message)."""
    return list(
        ToolCall.objects.filter(conversation=conversation, message_id=message_id).order_by("id")
    )


def escalation_list_for_conversation(*, conversation: Conversation) -> list[Escalation]:
    """Open escalations first, then the answered ones, newest first within each."""
    escalations = Escalation.objects.filter(conversation=conversation).select_related(
        "tool_call", "answered_by"
    )
    return sorted(escalations, key=lambda e: (e.status != Escalation.Status.OPEN, -e.pk))


@dataclass
class CatchUp:
    """What a client whose last seen seq is ``after_seq`` has missed, read from the database.

    ``reload`` is set when the gap is too large to replay; ``messages`` are in seq order;
    ``message_ids_with_changed_calls`` names messages whose tool-call cards must be redrawn
    (``None`` stands for calls not tied to a message).
    """

    conversation: Conversation
    after_seq: int
    reload: bool = False
    messages: list[Message] = field(default_factory=list)
    message_ids_with_changed_calls: list[int | None] = field(default_factory=list)
    escalations_changed: bool = False
    status_changed: bool = False

    @property
    def seq(self) -> int:
        return self.conversation.last_seq

    @property
    def empty(self) -> bool:
        return not (
            self.reload
            or self.messages
            or self.message_ids_with_changed_calls
            or self.escalations_changed
            or self.status_changed
        )


def conversation_catch_up(*, conversation_id: int, after_seq: int) -> CatchUp | None:
    """Everything of one conversation that changed after ``after_seq``, or ``None`` if it is gone.

    Reads the conversation first, so what follows is at least as new as its ``last_seq``.
    Every change takes its own ``seq`` (a message, a tool call written or updated, an
    escalation opened or closed, the status): when the new messages and the status account for
    every seq since ``after_seq``, no call or escalation changed, and they are not read.
    """
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    catch_up = CatchUp(conversation=conversation, after_seq=after_seq)
    if after_seq >= conversation.last_seq and conversation.status_seq <= after_seq:
        return catch_up
    if conversation.last_seq - after_seq > CATCH_UP_LIMIT or after_seq < 0:
        catch_up.reload = True
        return catch_up
    catch_up.status_changed = conversation.status_seq > after_seq
    messages = _messages_between(conversation, after_seq, conversation.last_seq)
    catch_up.messages = messages
    accounted = {m.seq for m in messages}
    if catch_up.status_changed:
        accounted.add(conversation.status_seq)
    if len(accounted) >= conversation.last_seq - after_seq:
        _calls_attach(messages, [])
        return catch_up
    # A call is written after its message, with a later seq: the calls changed since
    # ``after_seq`` include every call of the new messages.
    changed = list(
        ToolCall.objects.filter(conversation=conversation, seq__gt=after_seq).order_by("id")
    )
    _calls_attach(messages, changed)
    new_message_ids = {m.pk for m in messages}
    # A new message is drawn with its calls already; only older messages need their cards redrawn.
    catch_up.message_ids_with_changed_calls = sorted(
        {c.message_id for c in changed if c.message_id not in new_message_ids},
        key=lambda m: (m is not None, m or 0),
    )
    catch_up.escalations_changed = Escalation.objects.filter(
        conversation=conversation, seq__gt=after_seq
    ).exists()
    return catch_up
