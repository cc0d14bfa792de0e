"""Forms of the runs pages: filtering the list, starting a run, re-running a hop."""

from __future__ import annotations

from typing import Any

from django import forms

from orchestration.models import Conversation, ConversationDefaults, Specialist
from orchestration.selectors.conversations import RunFilters

STATUS_CHOICES = [("", "Any status"), *Conversation.Status.choices]


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    q = forms.CharField(required=False, max_length=200, label="Task contains")
    waiting = forms.BooleanField(required=False, label="Waiting for someone")
    mine = forms.BooleanField(required=False, label="Started by me")

    def filters(self, *, user_id: int) -> RunFilters:
        """The parsed filters; an invalid form filters nothing rather than failing the page."""
        if not self.is_valid():
            return RunFilters()
        data = self.cleaned_data
        return RunFilters(
            status=data["status"],
            text=data["q"].strip(),
            waiting=data["waiting"],
            mine_user_id=user_id if data["mine"] else None,
        )


def consultable_roles() -> list[str]:
    """Roles the arbiter may consult: every enabled specialist but the arbiter itself."""
    return list(
        Specialist.objects.filter(enabled=True)
        .exclude(role=Specialist.ARBITER)
        .order_by("role")
        .values_list("role", flat=True)
    )


class RunStartForm(forms.Form):
    task = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What should the models do?"}),
        max_length=20_000,
    )
    mode = forms.ChoiceField(
        choices=Conversation.Mode.choices, initial=Conversation.Mode.ARBITER_MEDIATED
    )
    allowed_specialists = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every enabled specialist may take part.",
    )
    max_steps = forms.IntegerField(min_value=1, max_value=1000, label="Steps")
    max_tool_calls = forms.IntegerField(min_value=1, max_value=5000, label="Tool calls")
    max_tokens = forms.IntegerField(min_value=1, max_value=10_000_000, label="Tokens")
    max_wall_seconds = forms.IntegerField(min_value=1, max_value=86_400, label="Wall time (s)")

    BUDGETS = ("max_steps", "max_tool_calls", "max_tokens", "max_wall_seconds")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allowed_specialists"].choices = [(r, r) for r in consultable_roles()]
        defaults = ConversationDefaults.load()
        for name in self.BUDGETS:
            self.fields[name].initial = getattr(defaults, name)

    def budgets(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in self.BUDGETS}


class ForkForm(forms.Form):
    """Re-run one consult with another specialist; the original run is kept."""

    specialist = forms.ChoiceField()

    def __init__(self, *args: Any, exclude: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["specialist"].choices = [(r, r) for r in consultable_roles() if r != exclude]
