"""Forms for answering a question and deciding an approval."""

from __future__ import annotations

import json
from typing import Any

from django import forms


class EscalationAnswerForm(forms.Form):
    text = forms.CharField(required=False, max_length=20_000)
    option = forms.CharField(required=False, max_length=2_000)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # A clicked option wins over the (possibly empty) text box submitted with it.
        answer = (data.get("option") or data.get("text") or "").strip()
        if not answer:
            raise forms.ValidationError("Write an answer or pick an option.")
        data["answer"] = answer
        return data


class ApprovalDecideForm(forms.Form):
    DECISIONS = [("approve", "Approve"), ("reject", "Reject"), ("edit", "Approve with edits")]

    decision = forms.ChoiceField(choices=DECISIONS)
    reason = forms.CharField(required=False, max_length=2_000)
    arguments = forms.CharField(required=False, max_length=100_000)

    def clean_arguments(self) -> dict[str, Any] | None:
        text = self.cleaned_data["arguments"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The arguments must be a JSON object.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        decision = data.get("decision")
        if decision == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why you reject it; the model is told.")
        if decision == "edit" and not data.get("arguments"):
            self.add_error("arguments", "Give the edited arguments.")
        if decision != "edit":
            data["arguments"] = None
        return data
