"""Who reaches which page: login first, operators run things, admins configure."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ConversationFactory, PromptTemplateFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["inspector:templates", "inspector:routing", "inspector:rule_new"]
OPERATOR_PAGES = ["inspector:runs", "inspector:escalations", "inspector:servers"]


@pytest.mark.parametrize("name", ADMIN_PAGES + OPERATOR_PAGES)
def test_anonymous_visitor_is_sent_to_the_login_page(name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_a_csrf_protected_form(db):
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b'name="username"' in response.content


def test_operator_logs_in_and_lands_on_the_runs_page(alice):
    client = Client()
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.status_code == 200
    assert b"<h1>Runs</h1>" in response.content


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_operator_gets_403_on_admin_pages(alice_client, name):
    assert alice_client.get(reverse(name)).status_code == 403


def test_operator_gets_403_on_admin_actions(alice_client):
    template = PromptTemplateFactory(key="arbiter.system")
    rule = RoutingRuleFactory()
    posts = [
        reverse("inspector:template", args=[template.key]),
        reverse("inspector:template_preview", args=[template.key]),
        reverse("inspector:template_activate", args=[template.key, 1]),
        reverse("inspector:rule_edit", args=[rule.pk]),
        reverse("inspector:rule_delete", args=[rule.pk]),
        reverse("inspector:rules_try"),
    ]
    for url in posts:
        assert alice_client.post(url, {"body": "x"}).status_code == 403, url


@pytest.mark.parametrize("name", ADMIN_PAGES + OPERATOR_PAGES)
def test_admin_reaches_every_page(bob_client, name):
    assert bob_client.get(reverse(name)).status_code == 200


def test_operator_navigation_hides_admin_pages(alice_client):
    content = alice_client.get(reverse("inspector:runs")).content
    assert reverse("inspector:servers").encode() in content
    assert reverse("inspector:templates").encode() not in content
    assert reverse("inspector:routing").encode() not in content


def test_admin_navigation_shows_admin_pages(bob_client):
    content = bob_client.get(reverse("inspector:runs")).content
    assert reverse("inspector:templates").encode() in content
    assert reverse("inspector:routing").encode() in content


def test_superuser_counts_as_admin(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw-root-1234")
    client = Client()
    client.force_login(root)
    assert client.get(reverse("inspector:templates")).status_code == 200


def test_stranger_cannot_see_the_runs_list_or_someone_elses_run(charlie_client):
    run = ConversationFactory()
    assert charlie_client.get(reverse("inspector:runs")).status_code == 403
    assert charlie_client.get(reverse("inspector:run", args=[run.pk])).status_code == 403


def test_stranger_sees_a_run_they_started(charlie, charlie_client):
    run = ConversationFactory(created_by=charlie)
    assert charlie_client.get(reverse("inspector:run", args=[run.pk])).status_code == 200


def test_every_page_sends_a_strict_content_security_policy(alice_client):
    policy = alice_client.get(reverse("inspector:runs"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in policy


def test_layout_configures_htmx_without_eval_and_sends_csrf_token_in_headers(alice_client):
    content = alice_client.get(reverse("inspector:runs")).content.decode()
    assert '"allowEval":false' in content
    assert '"allowScriptTags":false' in content
    assert '"includeIndicatorStyles":false' in content
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert "<script>" not in content  # only external scripts


def test_htmx_post_without_csrf_token_is_refused(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("inspector:run_start"), {"task": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403


def test_htmx_post_with_the_csrf_header_from_the_page_is_accepted(alice, specialists):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get(reverse("inspector:runs")).content.decode()
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    response = client.post(
        reverse("inspector:run_start"),
        {"task": "", "mode": "direct"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200  # past CSRF: the form's own errors come back
    assert b"This field is required" in response.content
