"""Task classification by the analysis specialist, and routing rules evaluated over the facts.

The classifier answers with a JSON-schema ``response_format``. Its output is untrusted: it is
decoded tolerantly, coerced where the schema allows, validated, and replaced by a clearly marked
default classification (with the reason) when it cannot be used. Routing rules are evaluated in
order; the first that holds is the decision, stated the way the arbiter prompt shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestration.engine import keys
from orchestration.engine.conditions import ConditionError, condition_parse
from orchestration.engine.errors import ModelError
from orchestration.engine.modelcall import StepContext, ensure_message, model_turn
from orchestration.engine.ports import MessageRecord
from orchestration.engine.repair.coerce import coerce_arguments
from orchestration.engine.repair.json_repair import JsonRepairError, json_loads_tolerant
from orchestration.engine.repair.validate import validate_arguments
from orchestration.engine.state import RuleInfo
from orchestration.engine.types import ChatMessage

TASK_TYPES = ("code_generation", "reasoning", "analysis", "question", "other")
CLASSIFICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "complexity": {"type": "integer", "minimum": 1, "maximum": 10},
        "type": {"type": "string", "enum": list(TASK_TYPES)},
        "requires_speed": {"type": "boolean"},
    },
    "required": ["complexity", "type", "requires_speed"],
}
DEFAULT_CLASSIFICATION = {"complexity": 5, "type": "other", "requires_speed": False}
CLASSIFIER_ROLES = ("analysis", "arbiter")
THREAD = "classify"


def parse_classification(text: str) -> tuple[dict[str, Any], str]:
    """``(classification, problem)``: the validated classification and ``""``, or the marked
    default and why the text could not be used."""
    try:
        value, _fixes = json_loads_tolerant(text.strip())
    except (JsonRepairError, ValueError) as exc:
        return default_classification(f"not JSON: {exc}"), f"not JSON: {exc}"
    if not isinstance(value, dict):
        return default_classification("not a JSON object"), "not a JSON object"
    value = {name: value[name] for name in CLASSIFICATION_SCHEMA["properties"] if name in value}
    value, _changes = coerce_arguments(value, CLASSIFICATION_SCHEMA)
    errors = validate_arguments(value, CLASSIFICATION_SCHEMA)
    if errors:
        problem = "; ".join(errors)
        return default_classification(problem), problem
    return {**value, "default": False}, ""


def default_classification(reason: str) -> dict[str, Any]:
    return {**DEFAULT_CLASSIFICATION, "default": True, "reason": reason}


def task_facts(classification: Mapping[str, Any] | None) -> dict[str, Any]:
    classification = classification or {}
    return {
        "task.complexity": classification.get("complexity"),
        "task.type": classification.get("type"),
        "task.requires_speed": classification.get("requires_speed"),
    }


def route(
    rules: Sequence[RuleInfo],
    facts: Mapping[str, Any],
    *,
    only_response_rules: bool = False,
) -> dict[str, Any] | None:
    """The first rule (by ``order``) whose condition holds, as a decision; ``None`` if none.

    With ``only_response_rules`` only rules about the latest reply (``response.*``) take part:
    those are evaluated per reply, the others once after classification.
    """
    for rule in sorted(rules, key=lambda item: item.order):
        try:
            condition = condition_parse(rule.condition)
        except ConditionError:
            continue  # rules are validated when saved; a stale bad one must not stop a run
        about_response = any(name.startswith("response.") for name in condition.facts_used)
        if only_response_rules and not about_response:
            continue
        if condition.evaluate(facts):
            return {
                "rule_order": rule.order,
                "condition": rule.condition,
                "specialist": rule.specialist,
                "binding": rule.binding,
                "requires_approval": rule.requires_approval,
                "stated": f"route to {rule.specialist}: {rule.condition}",
            }
    return None


def classifier_role(ctx: StepContext) -> str | None:
    return next((role for role in CLASSIFIER_ROLES if role in ctx.state.specialists), None)


async def classify_task(ctx: StepContext) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Classify the task, record it and the routing decision; returns both."""
    role = classifier_role(ctx)
    if role is None:
        classification = default_classification("no analysis specialist is configured")
    else:
        classification = await _ask(ctx, role)
    decision = route(ctx.state.rules, task_facts(classification))
    await ctx.journal.conversation_update(classification=classification, routing_decision=decision)
    return classification, decision


async def _ask(ctx: StepContext, role: str) -> dict[str, Any]:
    system = ctx.template("classify.system", {}, role=role)
    where = {"thread_key": THREAD, "participant": role, "thread_label": "classification"}
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=keys.classify(ctx.n, "prompt"),
            sender="engine",
            recipient=role,
            role="user",
            content=ctx.state.task,
            **where,
        ),
    )
    messages = [ChatMessage("system", system), ChatMessage("user", ctx.state.task)]
    try:
        turn = await model_turn(
            ctx,
            role=role,
            key=keys.classify(ctx.n, "reply"),
            messages=messages,
            response_format=CLASSIFICATION_SCHEMA,
            recipient="engine",
            **where,
        )
    except ModelError as exc:
        return default_classification(f"the classifier failed: {exc}")
    classification, _problem = parse_classification(turn.content)
    return classification
