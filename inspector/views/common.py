"""What every inspector page shares: access checks and the layout's context."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from orchestration.selectors.access import user_is_admin, user_is_operator
from orchestration.selectors.escalations import escalation_open_count


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


View = TypeVar("View", bound=Callable[..., HttpResponse])


def operator_required(view: View) -> View:
    """Operators and admins only; anyone else logged in gets 403 (login is already required)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_operator(request.user):
            raise PermissionDenied("Operators only.")
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: View) -> View:
    """Admins only. Checked in the view because a partial can be requested directly."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_admin(request.user):
            raise PermissionDenied("Admins only.")
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    nav: str = "",
    status: int = 200,
) -> HttpResponse:
    """Render a full page with what the layout needs (navigation, live escalation count)."""
    full = {
        "nav": nav,
        "is_admin": user_is_admin(request.user),
        "open_escalation_count": escalation_open_count(),
        **(context or {}),
    }
    return render(request, template, full, status=status)


def fragment(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """Render one partial (an htmx swap target)."""
    return render(
        request,
        template,
        {"is_admin": user_is_admin(request.user), **(context or {})},
        status=status,
    )
