"""One orchestrated run (``Conversation``), its participants' views (``Thread``), what was said
(``Message``), the tool calls made (``ToolCall``) and the questions for people (``Escalation``)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

DEFAULT_PHASES = ["planning", "implementation", "review"]


def _default_phases() -> list[str]:
    return list(DEFAULT_PHASES)


class ConversationDefaults(models.Model):
    """The ``conversation:`` section of the configuration: one row (pk 1)."""

    max_models_per_conversation = models.PositiveSmallIntegerField(default=3)
    include_full_history = models.BooleanField(default=False)
    allow_model_to_model = models.BooleanField(default=True)
    arbiter_reviews_all = models.BooleanField(default=True)
    phases = models.JSONField(default=_default_phases)
    max_steps = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    max_tool_calls = models.PositiveIntegerField(default=40, validators=[MinValueValidator(1)])
    max_tokens = models.PositiveIntegerField(default=200_000, validators=[MinValueValidator(1)])
    max_wall_seconds = models.PositiveIntegerField(default=1800, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name_plural = "conversation defaults"

    def __str__(self) -> str:
        return "Conversation defaults"

    @classmethod
    def load(cls) -> ConversationDefaults:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class Conversation(models.Model):
    """One orchestrated run, from the task to a terminal status."""

    class Mode(models.TextChoices):
        ARBITER_MEDIATED = "arbiter_mediated", "Arbiter-mediated"
        DIRECT = "direct", "Direct"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        WAITING_FOR_USER = "waiting_for_user", "Waiting for user"
        WAITING_FOR_APPROVAL = "waiting_for_approval", "Waiting for approval"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        STEP_LIMIT = "step_limit", "Step limit reached"
        TOOL_CALL_LIMIT = "tool_call_limit", "Tool-call limit reached"
        TOKEN_LIMIT = "token_limit", "Token budget spent"
        TIME_LIMIT = "time_limit", "Wall time exceeded"

    TERMINAL = frozenset(
        {
            Status.COMPLETED,
            Status.FAILED,
            Status.CANCELLED,
            Status.STEP_LIMIT,
            Status.TOOL_CALL_LIMIT,
            Status.TOKEN_LIMIT,
            Status.TIME_LIMIT,
        }
    )

    task = models.TextField()
    mode = models.CharField(max_length=32, choices=Mode.choices, default=Mode.ARBITER_MEDIATED)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True)
    phase = models.CharField(max_length=64, default="planning")
    phases = models.JSONField(default=_default_phases)
    phase_history = models.JSONField(
        default=list, blank=True, help_text="Accepted phase changes: from, to, reason, seq, at."
    )
    allowed_specialists = models.JSONField(
        default=list, blank=True, help_text="Roles that may take part; empty means all enabled."
    )
    policy = models.JSONField(
        default=dict, blank=True, help_text="The conversation defaults in force for this run."
    )

    max_steps = models.PositiveIntegerField(default=20)
    max_tool_calls = models.PositiveIntegerField(default=40)
    max_tokens = models.PositiveIntegerField(default=200_000)
    max_wall_seconds = models.PositiveIntegerField(default=1800)
    max_models = models.PositiveSmallIntegerField(default=3)
    steps_used = models.PositiveIntegerField(default=0)
    tool_calls_used = models.PositiveIntegerField(default=0)
    tokens_used = models.PositiveIntegerField(default=0)

    classification = models.JSONField(null=True, blank=True)
    routing_decision = models.JSONField(null=True, blank=True)
    final_answer = models.TextField(blank=True)

    # Every message and every change the inspector shows takes the next value; a client that
    # reconnects asks for everything after the last seq it saw.
    last_seq = models.PositiveIntegerField(default=0)
    status_seq = models.PositiveIntegerField(default=0)

    forked_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="conversation_status_idx")]

    def __str__(self) -> str:
        return f"Conversation {self.pk}: {self.task[:60]}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Thread(models.Model):
    """One participant's own view of the conversation (what it was shown, in order)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="threads")
    key = models.CharField(max_length=300, help_text="e.g. arbiter, consult:<call id>")
    participant = models.CharField(max_length=64, help_text="arbiter, a specialist role, operator")
    label = models.CharField(max_length=200, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "key"], name="thread_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} thread {self.pk}"


class Message(models.Model):
    """Something one participant said to another, in the order of ``seq``."""

    class Role(models.TextChoices):
        SYSTEM = "system", "System"
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"
        TOOL = "tool", "Tool"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    thread = models.ForeignKey(
        Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    journal_key = models.CharField(
        max_length=300, help_text="Idempotency key: a step that runs again finds what it wrote."
    )
    sender = models.CharField(max_length=64)
    recipient = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    original_content = models.TextField(
        blank=True, help_text="What the sender wrote, when a reviewer changed it before delivery."
    )
    review = models.JSONField(null=True, blank=True, help_text="The arbiter's delivery decision.")
    withheld = models.JSONField(
        default=list, blank=True, help_text="Context the recipient was not shown."
    )
    tool_calls = models.JSONField(
        default=list, blank=True, help_text="Calls as the model sent them."
    )
    tool_call_id = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    server = models.CharField(max_length=64, blank=True)
    done_reason = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    estimated_prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    truncation_suspected = models.BooleanField(default=False)
    queue_wait_ms = models.FloatField(null=True, blank=True)
    load_ms = models.FloatField(null=True, blank=True)
    prompt_eval_ms = models.FloatField(null=True, blank=True)
    generation_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    attempts = models.JSONField(default=list, blank=True)
    step = models.ForeignKey(
        "orchestration.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "journal_key"], name="message_journal_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.sender}→{self.recipient}"


class ToolCall(models.Model):
    """A call a model made, from what it sent through each repair stage to its result."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        INVALID = "invalid", "Invalid"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="tool_calls"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="tool_call_rows"
    )
    call_id = models.CharField(max_length=100)
    journal_key = models.CharField(max_length=300)
    seq = models.PositiveIntegerField(
        default=0, help_text="The conversation seq of the last change."
    )
    name = models.CharField(max_length=200)
    arguments = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.PROPOSED)
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)
    repairs = models.JSONField(
        default=list, blank=True, help_text="The repair trail: each stage's before and after."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["conversation", "id"]
        indexes = [models.Index(fields=["conversation", "status"], name="toolcall_conv_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "journal_key"], name="toolcall_journal_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Escalation(models.Model):
    """A question for a person (``escalate_to_user``) or an approval a call waits for."""

    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        APPROVAL = "approval", "Approval"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EDITED = "edited", "Approved with edits"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="escalations"
    )
    tool_call = models.ForeignKey(
        ToolCall, null=True, blank=True, on_delete=models.CASCADE, related_name="escalations"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.QUESTION)
    journal_key = models.CharField(max_length=300)
    seq = models.PositiveIntegerField(
        default=0, help_text="The conversation seq of the last change."
    )
    question = models.TextField()
    options = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(blank=True)
    edited_arguments = models.JSONField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="escalation_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "journal_key"], name="escalation_journal_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on conversation {self.conversation_id} ({self.status})"
