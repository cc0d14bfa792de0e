"""The escalations inbox, and answering or deciding one (from here or from the run page)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from inspector.forms.escalations import ApprovalDecideForm, EscalationAnswerForm
from inspector.views.common import fragment, operator_required, page
from inspector.views.errors import domain_error_message, domain_errors
from orchestration.models import Escalation
from orchestration.selectors.access import conversation_visible
from orchestration.selectors.escalations import (
    escalation_get,
    escalation_open_list,
    escalation_recent_closed,
)


@require_GET
@operator_required
def escalations(request: HttpRequest) -> HttpResponse:
    context = {"open": escalation_open_list(), "closed": escalation_recent_closed()}
    return page(request, "inspector/escalations.html", context, nav="escalations")


def _escalation_for(request: HttpRequest, escalation_id: int) -> Escalation:
    escalation = escalation_get(escalation_id=escalation_id)
    if escalation is None:
        raise Http404("No such escalation.")
    if not conversation_visible(conversation=escalation.conversation, user=request.user):
        raise PermissionDenied("You may not see this run.")
    return escalation


def _card(request: HttpRequest, escalation_id: int, error: str = "") -> HttpResponse:
    escalation = escalation_get(escalation_id=escalation_id)
    return fragment(
        request,
        "inspector/partials/escalation_card.html",
        {"escalation": escalation, "error": error, "show_run": request.POST.get("show_run") == "1"},
    )


@require_POST
@operator_required
def escalation_answer(request: HttpRequest, escalation_id: int) -> HttpResponse:
    from orchestration.services.runs import escalation_answer as answer

    escalation = _escalation_for(request, escalation_id)
    form = EscalationAnswerForm(request.POST)
    if not form.is_valid():
        return _card(request, escalation_id, " ".join(form.non_field_errors()) or "Invalid answer.")
    try:
        answer(escalation=escalation, text=form.cleaned_data["answer"], user=request.user)
    except domain_errors() as exc:
        return _card(request, escalation_id, domain_error_message(exc))
    return _card(request, escalation_id)


@require_POST
@operator_required
def approval_decide(request: HttpRequest, escalation_id: int) -> HttpResponse:
    from orchestration.services.runs import approval_decide as decide

    escalation = _escalation_for(request, escalation_id)
    form = ApprovalDecideForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        return _card(request, escalation_id, " ".join(errors))
    try:
        decide(
            escalation=escalation,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"].strip(),
            arguments=form.cleaned_data["arguments"],
            user=request.user,
        )
    except domain_errors() as exc:
        return _card(request, escalation_id, domain_error_message(exc))
    return _card(request, escalation_id)
