"""Forms of the routing rules page: editing a rule and the sample facts to try rules on."""

from __future__ import annotations

from typing import Any

from django import forms

from orchestration.engine.conditions import FACTS, ConditionError, condition_parse
from orchestration.models import RoutingRule


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = (
            "order",
            "condition",
            "specialist",
            "binding",
            "requires_approval",
            "enabled",
            "description",
        )
        widgets = {"condition": forms.TextInput(attrs={"class": "code", "spellcheck": "false"})}


def _fact_field(kind: str, description: str) -> forms.Field:
    if kind == "int":
        return forms.IntegerField(required=False, help_text=description)
    if kind == "bool":
        return forms.NullBooleanField(required=False, help_text=description)
    return forms.CharField(required=False, max_length=200, help_text=description)


class FactsForm(forms.Form):
    """One field per fact a condition may name; ``condition`` optionally tries one expression."""

    condition = forms.CharField(
        required=False,
        max_length=500,
        label="Condition to try",
        widget=forms.TextInput(attrs={"class": "code", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, fact in FACTS.items():
            self.fields[self.field_name(name)] = _fact_field(fact.type, fact.description)
            self.fields[self.field_name(name)].label = name

    @staticmethod
    def field_name(fact: str) -> str:
        return fact.replace(".", "__")

    def fact_fields(self) -> list[forms.BoundField]:
        return [self[self.field_name(name)] for name in FACTS]

    def facts(self) -> dict[str, object]:
        """The facts given (blank ones are left out: the evaluator treats them as missing)."""
        values = {}
        for name in FACTS:
            value = self.cleaned_data.get(self.field_name(name))
            if value not in (None, ""):
                values[name] = value
        return values

    def clean_condition(self) -> str:
        text = self.cleaned_data["condition"].strip()
        if text:
            try:
                condition_parse(text)
            except ConditionError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return text
