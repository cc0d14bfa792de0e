"""The journal of durable work: one row per unit a worker claims, runs and commits once."""

from __future__ import annotations

from django.db import models


class Step(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey(
        "orchestration.Conversation", on_delete=models.CASCADE, related_name="steps"
    )
    number = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payload = models.JSONField(default=dict, blank=True)
    outcome = models.JSONField(null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conversation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "number"], name="step_number_unique"),
        ]
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="step_lease_idx")]

    def __str__(self) -> str:
        return f"step {self.number} ({self.kind}, {self.status}) of run {self.conversation_id}"
