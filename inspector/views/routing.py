"""Routing rules (admins only): list in order, edit with validation at save, try on sample facts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inspector.forms.routing import FactsForm, RoutingRuleForm
from inspector.views.common import admin_required, fragment, page
from orchestration.engine.conditions import FACTS
from orchestration.models import RoutingRule
from orchestration.selectors.routing import routing_rule_list, routing_rules_try
from orchestration.services.routing import routing_rule_delete, routing_rule_save


@require_GET
@admin_required
def routing(request: HttpRequest) -> HttpResponse:
    context = {"rules": routing_rule_list(), "facts_form": FactsForm(), "facts": FACTS.values()}
    return page(request, "inspector/routing.html", context, nav="routing")


@require_http_methods(["GET", "POST"])
@admin_required
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=rule_id) if rule_id is not None else None
    form = RoutingRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            routing_rule_save(rule=rule, data=form.cleaned_data, user=request.user)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("inspector:routing")
    status = 422 if form.is_bound and form.errors else 200
    context = {"form": form, "rule": rule, "facts": FACTS.values()}
    return page(request, "inspector/rule_edit.html", context, nav="routing", status=status)


@require_POST
@admin_required
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    routing_rule_delete(rule=get_object_or_404(RoutingRule, pk=rule_id))
    return redirect("inspector:routing")


@require_POST
@admin_required
def rules_try(request: HttpRequest) -> HttpResponse:
    form = FactsForm(request.POST)
    context: dict[str, object] = {"facts_form": form}
    if form.is_valid():
        facts = form.facts()
        outcomes, fired = routing_rules_try(facts=facts)
        context.update(outcomes=outcomes, fired=fired, tried=True)
        if form.cleaned_data["condition"]:
            from orchestration.engine.conditions import condition_parse

            context["condition_holds"] = condition_parse(form.cleaned_data["condition"]).evaluate(
                facts
            )
    return fragment(request, "inspector/partials/rules_try.html", context)
