"""The sequence diagram's rows and tool-call cards, rendered in Python.

A long run has thousands of rows; Django's template engine needs ~0.5 ms for one, this a few
tens of µs, which is what lets a 2,000-message run open in well under 300 ms. Every value is
escaped with ``_e`` as it is put in (the same escaping as Django's ``escape``); model text is
never trusted and always sits inside ``hx-disable``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape as _html_escape

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from inspector.lanes import Lanes
from inspector.presenters import consult_role, messages_place
from inspector.templatetags.inspector_tags import ms, pretty_json, tokens
from orchestration.engine.repair.results import REPAIR_STAGES
from orchestration.models import Message, ToolCall

_STATUS_LABELS = dict(ToolCall.Status.choices)


def _e(value: object) -> str:
    """Escape for text and quoted attribute values: & < > " ' (as django.utils.html.escape)."""
    return _html_escape(str(value), quote=True)


def fork_form_html(call: ToolCall, fork_roles: Sequence[str], error: str = "") -> SafeString:
    role = consult_role(call.name)
    options = "".join(f'<option value="{_e(r)}">{_e(r)}</option>' for r in fork_roles if r != role)
    url = _e(reverse("inspector:run_fork", args=[call.conversation_id, call.pk]))
    error_html = f' <span class="error" role="alert">{_e(error)}</span>' if error else ""
    pk = int(call.pk)
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<form id="fork-{pk}" class="fork inline" hx-post="{url}" hx-target="this" '
        f'hx-swap="outerHTML"><label for="fork-{pk}-specialist">Re-run this hop with</label>'
        f'<select id="fork-{pk}-specialist" name="specialist">{options}</select>'
        f'<button type="submit">Fork</button>{error_html}</form>'
    )


def _repair_html(stage: object) -> str:
    if not isinstance(stage, dict):
        return f"<li><pre>{_e(pretty_json(stage))}</pre></li>"
    model = f' by <span class="model">{_e(stage["model"])}</span>' if stage.get("model") else ""
    note = f" — {_e(stage['note'])}" if stage.get("note") else ""
    detail = ""
    if stage.get("before") is not None or stage.get("after") is not None:
        before, after = _e(pretty_json(stage.get("before"))), _e(pretty_json(stage.get("after")))
        detail = (
            f'<div class="before-after"><div><h6>Given</h6><pre>{before}</pre></div>'
            f"<div><h6>Made</h6><pre>{after}</pre></div></div>"
        )
    name = _e(stage.get("stage") or "stage")
    return f'<li><div class="stage"><b>{name}</b>{model}{note}</div>{detail}</li>'


def tool_call_card_html(call: ToolCall, fork_roles: Sequence[str]) -> str:
    repairs = call.repairs or []
    # Only stages that changed the call count as repairs; the trail also shows checks.
    changed = [s for s in repairs if isinstance(s, dict) and s.get("stage") in REPAIR_STAGES]
    repaired = ""
    if changed:
        plural = "" if len(changed) == 1 else "s"
        repaired = f' <span class="badge repaired">repaired · {len(changed)} stage{plural}</span>'
    body = (
        f'<div class="kv-pre"><h5>Arguments</h5><pre>{_e(pretty_json(call.arguments))}</pre></div>'
    )
    if call.result:
        body += f'<div class="kv-pre"><h5>Result</h5><pre>{_e(call.result)}</pre></div>'
    if call.error:
        body += f'<div class="kv-pre"><h5>Error</h5><pre class="error">{_e(call.error)}</pre></div>'
    if repairs:
        trail = "".join(_repair_html(stage) for stage in repairs)
        body += (
            '<details class="repairs" open><summary>Repair trail</summary>'
            f"<ol>{trail}</ol></details>"
        )
    # Role first: the roles may be read from the database only when a card can be forked.
    fork = fork_form_html(call, fork_roles) if consult_role(call.name) and fork_roles else ""
    status = _e(call.status)
    label = _e(_STATUS_LABELS.get(call.status, call.status))
    return (
        f'<article class="call status-{status}" id="tc-{int(call.pk)}" data-seq="{int(call.seq)}">'
        f'<header hx-disable><code class="name">{_e(call.name)}</code> '
        f'<span class="badge status-{status}">{label}</span>{repaired}</header>'
        f'<div class="call-body" hx-disable>{body}</div>{fork}</article>'
    )


def tool_calls_html(calls: Iterable[ToolCall], fork_roles: Sequence[str]) -> SafeString:
    return mark_safe("".join(tool_call_card_html(c, fork_roles) for c in calls))  # noqa: S308


def _metrics_html(m: Message) -> str:
    if m.role != Message.Role.ASSISTANT and m.prompt_tokens is None:
        return ""
    html = (
        f'<div class="metrics"><span title="prompt / completion tokens">'
        f"{_e(tokens(m.prompt_tokens))} / {_e(tokens(m.completion_tokens))} tok</span>"
    )
    if m.truncation_suspected:
        html += ' <span class="badge warn">prompt may be truncated</span>'
    if m.done_reason:
        html += f" · {_e(m.done_reason)}"
    if m.total_ms is not None:
        html += (
            ' · <span class="timing" title="queue wait · model load · prompt eval · generation">'
            f"queue {ms(m.queue_wait_ms)} · load {ms(m.load_ms)} · prompt {ms(m.prompt_eval_ms)}"
            f" · gen {ms(m.generation_ms)} = {ms(m.total_ms)}</span>"
        )
    return html + "</div>"


def _content_html(m: Message) -> str:
    if m.reviewed:
        review = (
            f'<div class="note" hx-disable>Arbiter review: {_e(pretty_json(m.review))}</div>'
            if m.review
            else ""
        )
        return (
            f'<div class="review" hx-disable><div><h4>Original from {_e(m.sender)}</h4>'
            f'<div class="msg-body">{_e(m.original_content)}</div></div>'
            f"<div><h4>Delivered to {_e(m.recipient)}</h4>"
            f'<div class="msg-body">{_e(m.content)}</div></div></div>{review}'
        )
    if m.content:
        return f'<div class="msg-body" hx-disable>{_e(m.content)}</div>'
    return ""


def message_row_html(m: Message, *, lane_count: int, fork_roles: Sequence[str]) -> str:
    """One row of the diagram: the arrow from sender to recipient and the message card.

    ``m`` has been placed by ``presenters.message_place`` and carries its tool calls as
    ``calls`` (see the selector).
    """
    sender, recipient, role = _e(m.sender), _e(m.recipient), _e(m.role)
    model = ""
    if m.model:
        server = f" @ {_e(m.server)}" if m.server else ""
        model = f' · <span class="model">{_e(m.model)}</span>{server}'
    withheld = ""
    if m.withheld:
        withheld = (
            f'<details class="withheld"><summary>Withheld from {recipient} ({len(m.withheld)})'
            f"</summary><pre hx-disable>{_e(pretty_json(m.withheld))}</pre></details>"
        )
    seq = int(m.seq)
    return (
        f'<div class="seq-row lanes-{int(lane_count)}" id="m-{seq}" data-seq="{seq}" '
        f'data-sender="{sender}" data-recipient="{recipient}">'
        f'<div class="msg gs-{int(m.grid_start)} ge-{int(m.grid_end)} span-{int(m.grid_span)} '
        f'dir-{_e(m.direction)} role-{role}"><div class="arrow" aria-hidden="true"></div>'
        f'<div class="msg-card"><div class="msg-head" hx-disable><span class="seq">#{seq}</span> '
        f'<b>{sender}</b> → <b>{recipient}</b> <span class="role">{role}</span>{model}</div>'
        f"{_content_html(m)}{withheld}{_metrics_html(m)}"
        f'<div id="calls-{int(m.pk)}" class="calls">{tool_calls_html(m.calls, fork_roles)}</div>'
        "</div></div></div>"
    )


def message_rows_html(
    messages: Iterable[Message], *, lane_count: int, fork_roles: Sequence[str]
) -> SafeString:
    rows = "".join(
        message_row_html(m, lane_count=lane_count, fork_roles=fork_roles) for m in messages
    )
    return mark_safe(rows)  # noqa: S308 - built from escaped values only


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
