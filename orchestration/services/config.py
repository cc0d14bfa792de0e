"""Loading a configuration into rows and exporting rows back as a configuration."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from orchestration.config.schema import (
    ConversationConfig,
    OrchestrationConfig,
    RuleConfig,
    ServerConfig,
    SpecialistConfig,
)
from orchestration.models import ConversationDefaults, RoutingRule, Server, Specialist


@dataclass(frozen=True)
class ConfigLoadResult:
    servers: int
    specialists: int
    rules: int
    removed: int


@transaction.atomic
def config_load(*, config: OrchestrationConfig) -> ConfigLoadResult:
    """Make the rows equal the configuration, in one transaction: all of it or nothing.

    Rows are updated in place (same primary keys), so loading the same file twice changes nothing.
    Specialists, rules and servers the configuration no longer names are removed.
    """
    servers = {}
    for sc in config.servers:
        servers[sc.name], _ = Server.objects.update_or_create(
            name=sc.name,
            defaults={
                "kind": sc.kind,
                "base_url": sc.url,
                "parallel": sc.parallel,
                "connect_timeout_s": sc.connect_timeout_s,
                "read_timeout_s": sc.read_timeout_s,
                "deadline_s": sc.deadline_s,
            },
        )
    specialists = {}
    for spec in (config.arbiter, *config.specialists):
        specialists[spec.role], _ = Specialist.objects.update_or_create(
            role=spec.role,
            defaults={
                "model": spec.model,
                "server": servers[spec.server],
                "persona": spec.persona,
                "description": spec.description,
                "context_window": spec.context_window,
                "options": dict(spec.options),
                "requires_approval": spec.requires_approval,
                "enabled": True,
            },
        )
    removed, _ = RoutingRule.objects.filter(order__gte=len(config.rules)).delete()
    for order, rule in enumerate(config.rules):
        RoutingRule.objects.update_or_create(
            order=order,
            defaults={
                "condition": rule.condition,
                "specialist": specialists[rule.specialist],
                "binding": rule.binding,
                "requires_approval": rule.requires_approval,
                "enabled": rule.enabled,
                "description": rule.description,
            },
        )
    gone_specs, _ = Specialist.objects.exclude(role__in=specialists).delete()
    gone_servers, _ = Server.objects.exclude(name__in=servers).delete()
    conv = config.conversation
    ConversationDefaults.objects.update_or_create(
        pk=1,
        defaults={
            "max_models_per_conversation": conv.max_models_per_conversation,
            "include_full_history": conv.include_full_history,
            "allow_model_to_model": conv.allow_model_to_model,
            "arbiter_reviews_all": conv.arbiter_reviews_all,
            "phases": list(conv.phases),
            "max_steps": conv.max_steps,
            "max_tool_calls": conv.max_tool_calls,
            "max_tokens": conv.max_tokens,
            "max_wall_seconds": conv.max_wall_seconds,
        },
    )
    return ConfigLoadResult(
        servers=len(servers),
        specialists=len(specialists),
        rules=len(config.rules),
        removed=removed + gone_specs + gone_servers,
    )


def config_export() -> OrchestrationConfig:
    """The configuration the rows describe. Raises ``Specialist.DoesNotExist`` if no arbiter."""
    arbiter = Specialist.objects.select_related("server").get(role=Specialist.ARBITER)
    others = Specialist.objects.select_related("server").exclude(role=Specialist.ARBITER)
    defaults = ConversationDefaults.load()
    return OrchestrationConfig(
        servers=tuple(
            ServerConfig(
                name=s.name,
                url=s.base_url,
                kind=s.kind,
                parallel=s.parallel,
                connect_timeout_s=s.connect_timeout_s,
                read_timeout_s=s.read_timeout_s,
                deadline_s=s.deadline_s,
            )
            for s in Server.objects.order_by("name")
        ),
        arbiter=_specialist_config(arbiter),
        specialists=tuple(_specialist_config(s) for s in others.order_by("id")),
        rules=tuple(
            RuleConfig(
                condition=rule.condition,
                specialist=rule.specialist.role,
                binding=rule.binding,
                requires_approval=rule.requires_approval,
                enabled=rule.enabled,
                description=rule.description,
            )
            for rule in RoutingRule.objects.select_related("specialist").order_by("order")
        ),
        conversation=ConversationConfig(
            max_models_per_conversation=defaults.max_models_per_conversation,
            include_full_history=defaults.include_full_history,
            allow_model_to_model=defaults.allow_model_to_model,
            arbiter_reviews_all=defaults.arbiter_reviews_all,
            phases=tuple(defaults.phases),
            max_steps=defaults.max_steps,
            max_tool_calls=defaults.max_tool_calls,
            max_tokens=defaults.max_tokens,
            max_wall_seconds=defaults.max_wall_seconds,
        ),
    )


def _specialist_config(spec: Specialist) -> SpecialistConfig:
    return SpecialistConfig(
        role=spec.role,
        model=spec.model,
        server=spec.server.name,
        persona=spec.persona,
        description=spec.description,
        context_window=spec.context_window,
        options=dict(spec.options),
        requires_approval=spec.requires_approval,
    )
