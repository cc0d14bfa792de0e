"""Routing rules: validated conditions that point a task at a specialist."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from orchestration.engine.conditions import ConditionError, condition_parse


def validate_condition(value: str) -> None:
    try:
        condition_parse(value)
    except ConditionError as exc:
        raise ValidationError(str(exc), code="invalid_condition") from exc


class RoutingRule(models.Model):
    """Evaluated in ``order``; the first enabled rule whose condition holds decides the route."""

    order = models.PositiveIntegerField(unique=True)
    condition = models.CharField(max_length=500, validators=[validate_condition])
    specialist = models.ForeignKey(
        "orchestration.Specialist", on_delete=models.CASCADE, related_name="routing_rules"
    )
    binding = models.BooleanField(
        default=False,
        help_text="Binding rules are enforced by the engine, not only stated to the arbiter.",
    )
    requires_approval = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"#{self.order}: {self.condition} → {self.specialist.role}"
