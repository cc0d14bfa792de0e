"""Forms of the prompt templates page."""

from __future__ import annotations

from django import forms

from orchestration.services.prompts import MAX_BODY_LENGTH


class PromptEditForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        max_length=MAX_BODY_LENGTH,
        strip=False,
    )
    note = forms.CharField(required=False, max_length=300, label="What changed")
    activate = forms.BooleanField(required=False, initial=True, label="Use this version now")
    sample = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        label="Sample context (JSON)",
        max_length=50_000,
    )
