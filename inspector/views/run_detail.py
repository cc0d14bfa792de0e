"""Run detail: the visual conversation inspector, and the actions taken from it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from inspector.forms.runs import ForkForm, consultable_roles
from inspector.presenters import consult_role, lanes_for, thread_views
from inspector.rows import diagram_context, fork_form_html
from inspector.threads_panel import threads_panel_html
from inspector.views.common import fragment, operator_required, page
from inspector.views.errors import domain_error_message, domain_errors
from orchestration.models import Conversation, ToolCall
from orchestration.selectors.access import conversation_visible
from orchestration.selectors.conversations import (
    conversation_get,
    escalation_list_for_conversation,
    message_list_for_conversation,
    tool_call_list_for_message,
)


def _conversation_for(request: HttpRequest, conversation_id: int) -> Conversation:
    conversation = conversation_get(conversation_id=conversation_id)
    if conversation is None:
        raise Http404("No such run.")
    if not conversation_visible(conversation=conversation, user=request.user):
        raise PermissionDenied("You may not see this run.")
    return conversation


def run_context(conversation: Conversation) -> dict[str, Any]:
    """Everything the run page draws, read once; the consumer redraws parts of it the same way."""
    fork_roles = consultable_roles()
    diagram = diagram_context(
        messages=message_list_for_conversation(conversation=conversation),
        loose_calls=tool_call_list_for_message(message_id=None, conversation=conversation),
        lanes=lanes_for(conversation),
        fork_roles=fork_roles,
    )
    return {
        "run": conversation,
        **diagram,
        "escalations": escalation_list_for_conversation(conversation=conversation),
        "threads_html": threads_panel_html(thread_views(conversation)),
        "seq": conversation.last_seq,
    }


@require_GET
def run(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_for(request, conversation_id)
    return page(request, "inspector/run.html", run_context(conversation), nav="runs")


@require_POST
@operator_required
def run_cancel(request: HttpRequest, conversation_id: int) -> HttpResponse:
    from orchestration.services.runs import conversation_cancel

    conversation = _conversation_for(request, conversation_id)
    error = ""
    try:
        conversation_cancel(conversation=conversation, user=request.user)
    except domain_errors() as exc:
        error = domain_error_message(exc)
    conversation.refresh_from_db()
    return fragment(
        request, "inspector/partials/run_status.html", {"run": conversation, "error": error}
    )


@require_POST
@operator_required
def run_fork(request: HttpRequest, conversation_id: int, tool_call_id: int) -> HttpResponse:
    """Re-run one consult with another specialist, as a new run that keeps the original."""
    conversation = _conversation_for(request, conversation_id)
    tool_call = ToolCall.objects.filter(pk=tool_call_id, conversation=conversation).first()
    if tool_call is None:
        raise Http404("No such tool call in this run.")
    form = ForkForm(request.POST, exclude=consult_role(tool_call.name))
    error = ""
    if form.is_valid():
        from orchestration.services.forks import conversation_fork

        try:
            fork = conversation_fork(
                conversation=conversation,
                tool_call=tool_call,
                specialist=form.cleaned_data["specialist"],
                user=request.user,
            )
        except domain_errors() as exc:
            error = domain_error_message(exc)
        else:
            url = reverse("inspector:run", args=[fork.pk])
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    return HttpResponse(fork_form_html(tool_call, consultable_roles(), error))
