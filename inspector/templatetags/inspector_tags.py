"""Formatting filters for the inspector. None of them marks anything safe: autoescape applies."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def ms(value: float | None) -> str:
    """A duration in milliseconds, as people read it: ``—``, ``840 ms`` or ``2.4 s``."""
    if value is None:
        return "—"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


@register.filter
def pretty_json(value: Any) -> str:
    """JSON for reading. The result is plain text: the template escapes it."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


@register.filter
def tokens(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


@register.filter
def seconds_ago(value: Any) -> str:
    from django.utils import timezone

    if value is None:
        return "—"
    delta = (timezone.now() - value).total_seconds()
    if delta < 60:
        return f"{int(delta)} s ago"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return f"{int(delta // 86400)} d ago"


@register.filter
def consult_role(tool_name: str) -> str:
    """The specialist role a ``consult_<role>_specialist`` call names, else ``""``."""
    from inspector.presenters import consult_role as role_of

    return role_of(str(tool_name))
