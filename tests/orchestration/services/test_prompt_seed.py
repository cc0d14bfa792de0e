import pytest

from orchestration.engine.prompt_defaults import PROMPT_DEFAULTS
from orchestration.models import PromptTemplate, PromptTemplateVersion
from orchestration.services.prompt_seed import prompt_templates_seed

pytestmark = pytest.mark.django_db


def test_migrate_seeds_every_default_template_as_active_version_one():
    assert set(PromptTemplate.objects.values_list("key", flat=True)) == set(PROMPT_DEFAULTS)
    version = PromptTemplateVersion.objects.get(template__key="arbiter.system")
    assert (version.number, version.is_active, version.body) == (
        1,
        True,
        PROMPT_DEFAULTS["arbiter.system"].body,
    )


def test_seeding_again_keeps_an_admins_versions():
    template = PromptTemplate.objects.get(key="arbiter.system")
    template.versions.update(is_active=False)
    PromptTemplateVersion.objects.create(template=template, number=2, body="mine", is_active=True)

    assert prompt_templates_seed() == 0

    assert template.versions.get(is_active=True).body == "mine"
    assert template.versions.count() == 2
