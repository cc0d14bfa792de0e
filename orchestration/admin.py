"""Django admin pages. History (messages, tool calls, steps, template versions) is read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from orchestration.models import (
    Conversation,
    ConversationDefaults,
    Escalation,
    Message,
    PromptTemplate,
    PromptTemplateVersion,
    RoutingRule,
    Server,
    Specialist,
    Step,
    Thread,
    ToolCall,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that are history: viewable, never edited or added by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Server)
class ServerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "base_url",
        "parallel",
        "is_healthy",
        "version",
        "last_checked_at",
    ]
    list_filter = ["kind", "is_healthy"]
    search_fields = ["name", "base_url"]
    readonly_fields = [
        "is_healthy",
        "version",
        "loaded_models",
        "context_lengths",
        "last_checked_at",
        "last_error",
        "cooldown_until",
        "recent_latency_ms",
    ]


@admin.register(Specialist)
class SpecialistAdmin(admin.ModelAdmin):
    list_display = ["role", "model", "server", "context_window", "requires_approval", "enabled"]
    list_filter = ["server", "enabled", "requires_approval"]
    search_fields = ["role", "model", "description"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "order",
        "condition",
        "specialist",
        "binding",
        "enabled",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["enabled", "binding", "specialist"]
    search_fields = ["condition", "description"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class PromptTemplateVersionInline(admin.TabularInline):
    model = PromptTemplateVersion
    extra = 0
    fields = ["number", "is_active", "note", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["key", "description"]
    search_fields = ["key", "description"]
    inlines = [PromptTemplateVersionInline]


@admin.register(PromptTemplateVersion)
class PromptTemplateVersionAdmin(ReadOnlyAdmin):
    list_display = ["template", "number", "is_active", "created_by", "created_at"]
    list_filter = ["is_active", "template"]
    search_fields = ["template__key", "body", "note"]


@admin.register(ConversationDefaults)
class ConversationDefaultsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "max_models_per_conversation",
        "include_full_history",
        "allow_model_to_model",
        "arbiter_reviews_all",
    ]


class ThreadInline(admin.TabularInline):
    model = Thread
    extra = 0
    fields = ["participant", "label", "parent", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "short_task", "status", "phase", "mode", "tokens_used", "created_at"]
    list_filter = ["status", "mode", "phase"]
    search_fields = ["task", "final_answer"]
    date_hierarchy = "created_at"
    inlines = [ThreadInline]
    readonly_fields = [
        "task",
        "classification",
        "routing_decision",
        "final_answer",
        "last_seq",
        "steps_used",
        "tool_calls_used",
        "tokens_used",
        "created_by",
        "started_at",
        "finished_at",
        "forked_from",
    ]

    @admin.display(description="task")
    def short_task(self, obj: Conversation) -> str:
        return obj.task[:80]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["conversation", "seq", "sender", "recipient", "role", "model", "created_at"]
    list_filter = ["role", "sender", "recipient"]
    search_fields = ["content", "original_content"]
    list_select_related = ["conversation"]


@admin.register(ToolCall)
class ToolCallAdmin(ReadOnlyAdmin):
    list_display = ["conversation", "name", "status", "call_id", "created_at"]
    list_filter = ["status", "name"]
    search_fields = ["name", "call_id", "result", "error"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["conversation", "kind", "status", "answered_by", "answered_at", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["question", "answer"]


@admin.register(Step)
class StepAdmin(ReadOnlyAdmin):
    list_display = ["conversation", "number", "kind", "status", "attempts", "lease_expires_at"]
    list_filter = ["status", "kind"]
    search_fields = ["idempotency_key", "error"]
