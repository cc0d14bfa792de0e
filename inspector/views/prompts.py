"""Prompt templates (admins only): edit with a live preview, history with diffs, activate."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inspector.forms.prompts import PromptEditForm
from inspector.preview import prompt_preview, sample_context_for
from inspector.views.common import admin_required, fragment, page
from orchestration.engine.prompt_defaults import DEFAULT_TEMPLATES
from orchestration.models import PromptTemplate, PromptTemplateVersion
from orchestration.selectors.prompts import (
    prompt_template_get,
    prompt_template_list,
    prompt_version_diff,
    prompt_version_list,
)
from orchestration.services.prompts import (
    PromptError,
    prompt_version_activate,
    prompt_version_create,
)


@require_GET
@admin_required
def templates(request: HttpRequest) -> HttpResponse:
    return page(
        request, "inspector/templates.html", {"templates": prompt_template_list()}, nav="templates"
    )


def _template_or_404(key: str) -> PromptTemplate:
    template = prompt_template_get(key=key)
    if template is None:
        raise Http404("No such template.")
    return template


def _diff_pair(
    request: HttpRequest, versions: list[PromptTemplateVersion]
) -> tuple[PromptTemplateVersion, PromptTemplateVersion] | None:
    """The two versions to compare: ``?old=&new=`` numbers, else the latest and the one before."""
    by_number = {v.number: v for v in versions}
    try:
        old = by_number.get(int(request.GET.get("old", "")))
        new = by_number.get(int(request.GET.get("new", "")))
    except ValueError:
        old = new = None
    if old and new:
        return old, new
    if len(versions) >= 2:
        return versions[1], versions[0]
    return None


@require_http_methods(["GET", "POST"])
@admin_required
def template_detail(request: HttpRequest, key: str) -> HttpResponse:
    template = _template_or_404(key)
    versions = prompt_version_list(template=template)
    current = next((v for v in versions if v.is_active), versions[0] if versions else None)
    if request.method == "POST":
        form = PromptEditForm(request.POST)
        if form.is_valid():
            try:
                prompt_version_create(
                    template=template,
                    body=form.cleaned_data["body"],
                    note=form.cleaned_data["note"],
                    activate=form.cleaned_data["activate"],
                    user=request.user,
                )
            except PromptError as exc:
                form.add_error("body", str(exc))
            else:
                return redirect("inspector:template", key=template.key)
    else:
        body = current.body if current else DEFAULT_TEMPLATES.get(template.key, "")
        form = PromptEditForm(initial={"body": body, "sample": sample_context_for(body)})
    body = form["body"].value() or ""
    pair = _diff_pair(request, versions)
    context = {
        "template": template,
        "versions": versions,
        "current": current,
        "form": form,
        "preview": prompt_preview(body, form["sample"].value() or sample_context_for(body)),
        "diff_old": pair[0] if pair else None,
        "diff_new": pair[1] if pair else None,
        "diff": prompt_version_diff(old=pair[0], new=pair[1]) if pair else [],
    }
    status = 200 if form.is_bound is False or form.is_valid() else 422
    return page(request, "inspector/template_detail.html", context, nav="templates", status=status)


@require_POST
@admin_required
def template_preview(request: HttpRequest, key: str) -> HttpResponse:
    _template_or_404(key)
    body = request.POST.get("body", "")
    sample = request.POST.get("sample", "") or sample_context_for(body)
    return fragment(
        request,
        "inspector/partials/template_preview.html",
        {"preview": prompt_preview(body, sample)},
    )


@require_POST
@admin_required
def template_activate(request: HttpRequest, key: str, number: int) -> HttpResponse:
    template = _template_or_404(key)
    version = template.versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    prompt_version_activate(version=version, user=request.user)
    return redirect("inspector:template", key=template.key)
