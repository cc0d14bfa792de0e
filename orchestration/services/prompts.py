"""Prompt template versions: every edit is a new version; activating one records who and when."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from orchestration.models import PromptTemplate, PromptTemplateVersion

MAX_BODY_LENGTH = 50_000


class PromptError(Exception):
    """A template change that cannot be made; the message says why."""


@transaction.atomic
def prompt_version_create(
    *,
    template: PromptTemplate,
    body: str,
    user: AbstractBaseUser | None,
    note: str = "",
    activate: bool = False,
) -> PromptTemplateVersion:
    """Add the next version of ``template`` (optionally activating it). Returns the new version.

    Raises ``PromptError`` for an empty or oversized body, or one identical to the latest version.
    """
    if not body.strip():
        raise PromptError("The template body is empty.")
    if len(body) > MAX_BODY_LENGTH:
        raise PromptError(f"The template body is longer than {MAX_BODY_LENGTH} characters.")
    # Lock the template so two editors saving at once get consecutive numbers.
    template = PromptTemplate.objects.select_for_update().get(pk=template.pk)
    latest = template.versions.order_by("-number").first()
    if latest is not None and latest.body == body:
        raise PromptError(f"Nothing changed since version {latest.number}.")
    number = (template.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = PromptTemplateVersion.objects.create(
        template=template, number=number, body=body, note=note.strip()[:300], created_by=user
    )
    if activate:
        version = prompt_version_activate(version=version, user=user)
    return version


@transaction.atomic
def prompt_version_activate(
    *, version: PromptTemplateVersion, user: AbstractBaseUser | None
) -> PromptTemplateVersion:
    """Make ``version`` the one in use (a roll back when it is older). Returns it, refreshed."""
    PromptTemplate.objects.select_for_update().get(pk=version.template_id)
    # Deactivate first: the one-active constraint must hold after every statement.
    PromptTemplateVersion.objects.filter(template_id=version.template_id, is_active=True).exclude(
        pk=version.pk
    ).update(is_active=False)
    PromptTemplateVersion.objects.filter(pk=version.pk).update(
        is_active=True, activated_by=user, activated_at=timezone.now()
    )
    version.refresh_from_db()
    return version
