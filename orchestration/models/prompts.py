"""Prompt templates, versioned: every edit is a new version; exactly one version is active."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PromptTemplate(models.Model):
    """A named prompt, e.g. ``arbiter.system`` or ``specialist.coding``."""

    key = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class PromptTemplateVersion(models.Model):
    """One immutable text of a template. Activating one deactivates the others."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    note = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="prompt_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=models.Q(is_active=True),
                name="prompt_template_one_active_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.key} v{self.number}{' (active)' if self.is_active else ''}"
