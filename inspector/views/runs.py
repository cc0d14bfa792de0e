"""The runs list: every conversation with its state, filters, and the form to start a run."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from inspector.forms.runs import RunFilterForm, RunStartForm
from inspector.views.common import fragment, operator_required, page
from inspector.views.errors import domain_error_message, domain_errors
from orchestration.selectors.conversations import conversation_list


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("inspector:runs")


@require_GET
@operator_required
def runs(request: HttpRequest) -> HttpResponse:
    filter_form = RunFilterForm(request.GET or None)
    filters = filter_form.filters(user_id=request.user.pk)
    context = {
        "runs": conversation_list(filters=filters),
        "filter_form": filter_form,
        # The live socket sends only rows that match the same filters.
        "filter_query": urlencode(
            {k: v for k, v in request.GET.items() if k in filter_form.fields and v}
        ),
    }
    if getattr(request, "htmx", False) and request.htmx.target == "runs-table":
        return fragment(request, "inspector/partials/runs_table.html", context)
    context["start_form"] = RunStartForm()
    return page(request, "inspector/runs.html", context, nav="runs")


@require_POST
@operator_required
def run_start(request: HttpRequest) -> HttpResponse:
    from orchestration.services.runs import conversation_start

    form = RunStartForm(request.POST)
    if form.is_valid():
        try:
            conversation = conversation_start(
                task=form.cleaned_data["task"],
                user=request.user,
                mode=form.cleaned_data["mode"],
                allowed_specialists=form.cleaned_data["allowed_specialists"],
                budgets=form.budgets(),
            )
        except domain_errors() as exc:
            form.add_error(None, domain_error_message(exc))
        else:
            url = reverse("inspector:run", args=[conversation.pk])
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
    return fragment(request, "inspector/partials/run_start_form.html", {"start_form": form})
