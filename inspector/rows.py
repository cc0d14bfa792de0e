"""The sequence diagram's rows and tool-call cards, rendered in Python.

A long run has thousands of rows; Django's template engine needs ~0.5 ms for one, this ~20 µs,
which is what lets a 2,000-message run open in well under 300 ms. Every value goes through
``format_html``/``escape``: model text is never trusted, and it always sits inside ``hx-disable``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from inspector.lanes import Lanes
from inspector.presenters import consult_role, messages_place
from inspector.templatetags.inspector_tags import ms, pretty_json, tokens
from orchestration.models import Message, ToolCall

_STATUS_LABELS = dict(ToolCall.Status.choices)


def _join(parts: Iterable[str]) -> SafeString:
    # Every part is already escaped HTML from format_html/escape.
    return mark_safe("".join(parts))  # noqa: S308


def fork_form_html(call: ToolCall, fork_roles: Sequence[str], error: str = "") -> SafeString:
    role = consult_role(call.name)
    options = _join(
        format_html('<option value="{}">{}</option>', r, r) for r in fork_roles if r != role
    )
    url = reverse("inspector:run_fork", args=[call.conversation_id, call.pk])
    error_html = format_html(' <span class="error" role="alert">{}</span>', error) if error else ""
    return format_html(
        '<form id="fork-{}" class="fork inline" hx-post="{}" hx-target="this" hx-swap="outerHTML">'
        '<label for="fork-{}-specialist">Re-run this hop with</label>'
        '<select id="fork-{}-specialist" name="specialist">{}</select>'
        '<button type="submit">Fork</button>{}</form>',
        call.pk,
        url,
        call.pk,
        call.pk,
        options,
        error_html,
    )


def _repair_html(stage: object) -> SafeString:
    if not isinstance(stage, dict):
        return format_html("<li><pre>{}</pre></li>", pretty_json(stage))
    model = (
        format_html(' by <span class="model">{}</span>', stage["model"])
        if stage.get("model")
        else ""
    )
    note = format_html(" — {}", stage["note"]) if stage.get("note") else ""
    if stage.get("before") is not None or stage.get("after") is not None:
        detail = format_html(
            '<div class="before-after"><div><h6>Given</h6><pre>{}</pre></div>'
            "<div><h6>Made</h6><pre>{}</pre></div></div>",
            pretty_json(stage.get("before")),
            pretty_json(stage.get("after")),
        )
    else:
        detail = ""
    return format_html(
        '<li><div class="stage"><b>{}</b>{}{}</div>{}</li>',
        stage.get("stage") or "stage",
        model,
        note,
        detail,
    )


def tool_call_card_html(call: ToolCall, fork_roles: Sequence[str]) -> SafeString:
    repairs = call.repairs or []
    repaired = (
        format_html(
            ' <span class="badge repaired">repaired · {} stage{}</span>',
            len(repairs),
            "" if len(repairs) == 1 else "s",
        )
        if repairs
        else ""
    )
    body = [
        format_html(
            '<div class="kv-pre"><h5>Arguments</h5><pre>{}</pre></div>', pretty_json(call.arguments)
        )
    ]
    if call.result:
        body.append(
            format_html('<div class="kv-pre"><h5>Result</h5><pre>{}</pre></div>', call.result)
        )
    if call.error:
        body.append(
            format_html(
                '<div class="kv-pre"><h5>Error</h5><pre class="error">{}</pre></div>', call.error
            )
        )
    if repairs:
        body.append(
            format_html(
                '<details class="repairs" open><summary>Repair trail</summary><ol>{}</ol></details>',
                _join(_repair_html(stage) for stage in repairs),
            )
        )
    fork = fork_form_html(call, fork_roles) if fork_roles and consult_role(call.name) else ""
    return format_html(
        '<article class="call status-{}" id="tc-{}" data-seq="{}">'
        '<header hx-disable><code class="name">{}</code> <span class="badge status-{}">{}</span>{}'
        '</header><div class="call-body" hx-disable>{}</div>{}</article>',
        call.status,
        call.pk,
        call.seq,
        call.name,
        call.status,
        _STATUS_LABELS.get(call.status, call.status),
        repaired,
        _join(body),
        fork,
    )


def tool_calls_html(calls: Iterable[ToolCall], fork_roles: Sequence[str]) -> SafeString:
    return _join(tool_call_card_html(call, fork_roles) for call in calls)


def _metrics_html(m: Message) -> str:
    if m.role != Message.Role.ASSISTANT and m.prompt_tokens is None:
        return ""
    parts = [
        format_html(
            '<span title="prompt / completion tokens">{} / {} tok</span>',
            tokens(m.prompt_tokens),
            tokens(m.completion_tokens),
        )
    ]
    if m.truncation_suspected:
        parts.append(mark_safe(' <span class="badge warn">prompt may be truncated</span>'))
    if m.done_reason:
        parts.append(format_html(" · {}", m.done_reason))
    if m.total_ms is not None:
        parts.append(
            format_html(
                ' · <span class="timing" title="queue wait · model load · prompt eval · generation">'
                "queue {} · load {} · prompt {} · gen {} = {}</span>",
                ms(m.queue_wait_ms),
                ms(m.load_ms),
                ms(m.prompt_eval_ms),
                ms(m.generation_ms),
                ms(m.total_ms),
            )
        )
    return format_html('<div class="metrics">{}</div>', _join(parts))


def _content_html(m: Message) -> str:
    if m.reviewed:
        review = (
            format_html(
                '<div class="note" hx-disable>Arbiter review: {}</div>', pretty_json(m.review)
            )
            if m.review
            else ""
        )
        return format_html(
            '<div class="review" hx-disable><div><h4>Original from {}</h4>'
            '<div class="msg-body">{}</div></div><div><h4>Delivered to {}</h4>'
            '<div class="msg-body">{}</div></div></div>{}',
            m.sender,
            m.original_content,
            m.recipient,
            m.content,
            review,
        )
    if m.content:
        return format_html('<div class="msg-body" hx-disable>{}</div>', m.content)
    return ""


def message_row_html(m: Message, *, lane_count: int, fork_roles: Sequence[str]) -> SafeString:
    """One row of the diagram: the arrow from sender to recipient and the message card.

    ``m`` has been placed by ``presenters.message_place`` and carries its tool calls as ``calls`` (see the selector).
    """
    model = ""
    if m.model:
        server = format_html(" @ {}", m.server) if m.server else ""
        model = format_html(' · <span class="model">{}</span>{}', m.model, server)
    withheld = ""
    if m.withheld:
        withheld = format_html(
            '<details class="withheld"><summary>Withheld from {} ({})</summary>'
            "<pre hx-disable>{}</pre></details>",
            m.recipient,
            len(m.withheld),
            pretty_json(m.withheld),
        )
    return format_html(
        '<div class="seq-row lanes-{}" id="m-{}" data-seq="{}" data-sender="{}" data-recipient="{}">'
        '<div class="msg gs-{} ge-{} span-{} dir-{} role-{}"><div class="arrow" aria-hidden="true">'
        '</div><div class="msg-card"><div class="msg-head" hx-disable><span class="seq">#{}</span> '
        '<b>{}</b> → <b>{}</b> <span class="role">{}</span>{}</div>{}{}{}'
        '<div id="calls-{}" class="calls">{}</div></div></div></div>',
        lane_count,
        m.seq,
        m.seq,
        m.sender,
        m.recipient,
        m.grid_start,
        m.grid_end,
        m.grid_span,
        m.direction,
        m.role,
        m.seq,
        m.sender,
        m.recipient,
        m.role,
        model,
        _content_html(m),
        withheld,
        _metrics_html(m),
        m.pk,
        tool_calls_html(m.calls, fork_roles),
    )


def message_rows_html(
    messages: Iterable[Message], *, lane_count: int, fork_roles: Sequence[str]
) -> SafeString:
    return _join(
        message_row_html(m, lane_count=lane_count, fork_roles=fork_roles) for m in messages
    )


def diagram_context(
    *,
    messages: Sequence[Message],
    loose_calls: Iterable[ToolCall],
    lanes: Lanes,
    fork_roles: Sequence[str],
) -> dict[str, object]:
    """What ``partials/diagram.html`` needs: the lanes and the rows, rendered."""
    placed = messages_place(messages, lanes)
    return {
        "lanes": lanes,
        "rows": message_rows_html(placed, lane_count=len(lanes), fork_roles=fork_roles),
        "loose_calls_html": tool_calls_html(loose_calls, fork_roles),
    }
