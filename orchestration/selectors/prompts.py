"""Reads of prompt templates: the list, one template's history, and diffs between versions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from orchestration.models import PromptTemplate, PromptTemplateVersion


def prompt_template_list() -> QuerySet[PromptTemplate]:
    active = Prefetch(
        "versions",
        queryset=PromptTemplateVersion.objects.filter(is_active=True).select_related(
            "activated_by"
        ),
        to_attr="active_versions",
    )
    return PromptTemplate.objects.prefetch_related(active).order_by("key")


def prompt_template_get(*, key: str) -> PromptTemplate | None:
    return PromptTemplate.objects.filter(key=key).first()


def prompt_version_list(*, template: PromptTemplate) -> list[PromptTemplateVersion]:
    return list(template.versions.select_related("created_by", "activated_by").order_by("-number"))


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "hunk", "context", "header"
    text: str


def prompt_version_diff(
    *, old: PromptTemplateVersion, new: PromptTemplateVersion
) -> list[DiffLine]:
    """A unified diff of two versions' bodies, as lines the template escapes and colours."""
    lines = difflib.unified_diff(
        old.body.splitlines(),
        new.body.splitlines(),
        fromfile=f"version {old.number}",
        tofile=f"version {new.number}",
        lineterm="",
    )
    result = []
    for line in lines:
        if line.startswith(("---", "+++")):
            kind = "header"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "remove"
        else:
            kind = "context"
        result.append(DiffLine(kind=kind, text=line))
    return result
