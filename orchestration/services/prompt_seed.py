"""Seed the default prompt templates (``orchestration.engine.prompt_defaults``) as rows.

Runs after every ``migrate``. It only adds templates that do not exist yet: an admin's versions
are never touched.
"""

from __future__ import annotations

from django.db import transaction

from orchestration.engine.prompt_defaults import PROMPT_DEFAULTS
from orchestration.models import PromptTemplate, PromptTemplateVersion


@transaction.atomic
def prompt_templates_seed() -> int:
    """Create missing templates with their default text as active version 1. Returns how many."""
    created = 0
    for key, default in PROMPT_DEFAULTS.items():
        template, made = PromptTemplate.objects.get_or_create(
            key=key, defaults={"description": default.description}
        )
        if made or not template.versions.exists():
            PromptTemplateVersion.objects.create(
                template=template, number=1, body=default.body, note="default", is_active=True
            )
            created += 1
    return created


def seed_after_migrate(sender, app_config=None, **kwargs) -> None:
    if app_config is not None and app_config.name == "orchestration":
        prompt_templates_seed()
