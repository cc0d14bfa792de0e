"""Prompt templates: new versions with who and when, preview, diff, activate and roll back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orchestration.models import PromptTemplateVersion
from tests.factories import PromptTemplateFactory, PromptTemplateVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(bob):
    template = PromptTemplateFactory(key="specialist.coding", description="Coding prompt")
    PromptTemplateVersionFactory(
        template=template,
        number=1,
        body="You write code.\nTask: {task}",
        is_active=True,
        created_by=bob,
    )
    return template


def test_templates_list_shows_each_template_and_its_active_version(bob_client, template):
    content = bob_client.get(reverse("inspector:templates")).content.decode()
    assert "specialist.coding" in content and "v1" in content


def test_saving_creates_a_new_active_version_recording_who_and_when(bob, bob_client, template):
    response = bob_client.post(
        reverse("inspector:template", args=[template.key]),
        {
            "body": "You write careful code.\nTask: {task}",
            "note": "be careful",
            "activate": "on",
            "sample": "{}",
        },
    )
    assert response.status_code == 302
    v2 = template.versions.get(number=2)
    assert v2.is_active and v2.created_by == bob and v2.activated_by == bob
    assert v2.activated_at is not None and v2.note == "be careful"
    assert not template.versions.get(number=1).is_active


def test_saving_without_activating_keeps_the_old_version_in_use(bob_client, template):
    bob_client.post(
        reverse("inspector:template", args=[template.key]), {"body": "Draft {task}", "sample": "{}"}
    )
    assert template.versions.get(is_active=True).number == 1
    assert template.versions.count() == 2


def test_saving_an_unchanged_body_is_refused_next_to_the_field(bob_client, template):
    response = bob_client.post(
        reverse("inspector:template", args=[template.key]),
        {"body": "You write code.\nTask: {task}", "sample": "{}"},
    )
    assert response.status_code == 422
    assert b"Nothing changed since version 1" in response.content
    assert template.versions.count() == 1


def test_rolling_back_activates_the_older_version_and_records_who(bob, bob_client, template):
    PromptTemplateVersion.objects.filter(template=template).update(is_active=False)
    PromptTemplateVersionFactory(template=template, number=2, body="new", is_active=True)
    bob_client.post(reverse("inspector:template_activate", args=[template.key, 1]))
    v1 = template.versions.get(number=1)
    assert v1.is_active and v1.activated_by == bob
    assert template.versions.filter(is_active=True).count() == 1


def test_preview_renders_the_body_with_the_sample_context_through_the_engine(bob_client, template):
    response = bob_client.post(
        reverse("inspector:template_preview", args=[template.key]),
        {"body": "Task: {task}\n{missing}\nEnd <b>", "sample": '{"task": "sort <this>"}'},
    )
    content = response.content.decode()
    assert "Task: sort &lt;this&gt;\nEnd &lt;b&gt;" in content  # the empty section's line is gone
    assert "Not in the sample (rendered empty): missing" in content


def test_preview_with_a_broken_sample_says_so(bob_client, template):
    response = bob_client.post(
        reverse("inspector:template_preview", args=[template.key]),
        {"body": "x", "sample": "{not json"},
    )
    assert b"The sample context is not valid JSON" in response.content


def test_history_shows_an_escaped_diff_between_versions(bob_client, template):
    PromptTemplateVersionFactory(
        template=template, number=2, body="You write <code>.\nTask: {task}"
    )
    content = bob_client.get(reverse("inspector:template", args=[template.key])).content.decode()
    diff = content.split('<pre class="diff">')[1].split("</pre>")[0]
    assert '<span class="d-remove">-You write code.</span>' in diff
    assert '<span class="d-add">+You write &lt;code&gt;.</span>' in diff


def test_template_without_versions_starts_from_the_built_in_default(bob_client):
    PromptTemplateFactory(key="arbiter.system")
    content = bob_client.get(reverse("inspector:template", args=["arbiter.system"])).content
    assert b"{phase}" in content
