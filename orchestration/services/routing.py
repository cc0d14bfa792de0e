"""Editing routing rules from the inspector. Every save validates the condition and records who."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from orchestration.models import RoutingRule

EDITABLE_FIELDS = (
    "order",
    "condition",
    "specialist",
    "binding",
    "requires_approval",
    "enabled",
    "description",
)


@transaction.atomic
def routing_rule_save(
    *, rule: RoutingRule | None, data: dict[str, Any], user: AbstractBaseUser | None
) -> RoutingRule:
    """Create (``rule=None``) or update a rule from ``data`` (the ``EDITABLE_FIELDS``).

    Runs the model's validation (the condition parser among it) before writing; raises
    ``django.core.exceptions.ValidationError`` naming the field that is wrong.
    """
    rule = rule if rule is not None else RoutingRule()
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    rule.condition = rule.condition.strip()
    rule.updated_by = user
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()
