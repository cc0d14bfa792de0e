"""Reads of routing rules, and trying them against sample facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from orchestration.engine.conditions import ConditionError, condition_parse
from orchestration.models import RoutingRule


def routing_rule_list() -> QuerySet[RoutingRule]:
    return RoutingRule.objects.select_related("specialist", "updated_by").order_by("order")


@dataclass(frozen=True)
class RuleOutcome:
    rule: RoutingRule
    holds: bool
    error: str = ""


def routing_rules_try(
    *, facts: Mapping[str, object]
) -> tuple[list[RuleOutcome], RoutingRule | None]:
    """Each rule's verdict on ``facts``, in order, and the first enabled rule that holds."""
    outcomes = []
    fired = None
    for rule in routing_rule_list():
        try:
            holds = condition_parse(rule.condition).evaluate(facts)
        except ConditionError as exc:  # a rule saved before validation existed
            outcomes.append(RuleOutcome(rule=rule, holds=False, error=str(exc)))
            continue
        outcomes.append(RuleOutcome(rule=rule, holds=holds))
        if holds and rule.enabled and fired is None:
            fired = rule
    return outcomes, fired
