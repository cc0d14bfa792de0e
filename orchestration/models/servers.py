"""Model servers and the specialists (roles bound to a model on a server)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Server(models.Model):
    """A model server: Ollama's native API or any OpenAI-compatible ``/v1`` server."""

    class Kind(models.TextChoices):
        OLLAMA = "ollama", "Ollama"
        OPENAI = "openai", "OpenAI-compatible"

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OLLAMA)
    base_url = models.URLField(max_length=300)
    parallel = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(64)],
        help_text="Calls this server may run at once, across every worker.",
    )
    connect_timeout_s = models.FloatField(default=5.0, validators=[MinValueValidator(0.1)])
    read_timeout_s = models.FloatField(default=300.0, validators=[MinValueValidator(0.1)])
    deadline_s = models.FloatField(
        default=900.0,
        validators=[MinValueValidator(0.1)],
        help_text="Total time one call may take, retries included.",
    )

    # Health, written by the poller; shown on the servers page.
    is_healthy = models.BooleanField(null=True, blank=True)
    version = models.CharField(max_length=64, blank=True)
    loaded_models = models.JSONField(default=list, blank=True)
    context_lengths = models.JSONField(default=dict, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    cooldown_until = models.DateTimeField(null=True, blank=True)
    recent_latency_ms = models.FloatField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parallel__gte=1), name="server_parallel_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Specialist(models.Model):
    """A role (``arbiter``, ``coding``, ``reasoning``, ``analysis``, ``interpreter``, …) bound to a
    model on a server. Every role but the arbiter is offered to the arbiter as
    ``consult_<role>_specialist``."""

    ARBITER = "arbiter"
    INTERPRETER = "interpreter"

    role = models.SlugField(max_length=64, unique=True)
    model = models.CharField(max_length=200)
    server = models.ForeignKey(Server, on_delete=models.PROTECT, related_name="specialists")
    persona = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the YAML calls the role's `role`, e.g. coordinator.",
    )
    description = models.TextField(
        blank=True, help_text="What the arbiter reads about this specialist in its tool list."
    )
    context_window = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(256)],
        help_text="Pinned as num_ctx on every call. Empty: taken from the server's /api/show.",
    )
    options = models.JSONField(default=dict, blank=True, help_text="temperature, top_p, seed, …")
    requires_approval = models.BooleanField(
        default=False, help_text="An operator approves each consult before it runs."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.role} ({self.model} on {self.server_id and self.server.name})"

    @property
    def tool_name(self) -> str:
        return f"consult_{self.role}_specialist"
