import pytest
import yaml

from orchestration.config.dump import config_dump
from orchestration.config.schema import config_parse
from orchestration.models import ConversationDefaults, RoutingRule, Server, Specialist
from orchestration.services.config import config_export, config_load
from tests.orchestration.config.design_yaml import DESIGN_YAML

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "servers": list(
            Server.objects.order_by("pk").values_list("pk", "name", "base_url", "kind")
        ),
        "specialists": list(
            Specialist.objects.order_by("pk").values_list("pk", "role", "model", "server__name")
        ),
        "rules": list(
            RoutingRule.objects.order_by("pk").values_list(
                "pk", "order", "condition", "specialist__role"
            )
        ),
    }


def test_design_yaml_loads_into_rows():
    config_load(config=config_parse(DESIGN_YAML))

    assert Specialist.objects.get(role="arbiter").persona == "coordinator"
    assert Specialist.objects.get(role="coding").server.name == "ollama02"
    assert list(RoutingRule.objects.values_list("order", "condition", "specialist__role")) == [
        (0, "task.complexity > 7", "reasoning"),
        (1, "task.type == 'code_generation'", "coding"),
        (2, "task.requires_speed", "analysis"),
        (3, "response.unclear_tool_calls", "interpreter"),
    ]
    assert ConversationDefaults.load().arbiter_reviews_all is True


def test_loading_twice_leaves_the_same_rows():
    config_load(config=config_parse(DESIGN_YAML))
    first = snapshot()

    result = config_load(config=config_parse(DESIGN_YAML))

    assert snapshot() == first
    assert result.removed == 0


def test_export_round_trips_to_the_same_rows_and_the_same_orchestration_block():
    config_load(config=config_parse(DESIGN_YAML))
    before = snapshot()

    exported = config_dump(config_export())
    config_load(config=config_parse(exported))

    assert snapshot() == before
    assert yaml.safe_load(exported)["orchestration"] == yaml.safe_load(DESIGN_YAML)["orchestration"]


def test_loading_a_smaller_config_removes_what_it_no_longer_names():
    config_load(config=config_parse(DESIGN_YAML))
    smaller = (
        "orchestration:\n"
        "  arbiter: {model: m, server: solo}\n"
        "  specialists:\n"
        "    coding: {model: c, server: solo}\n"
        "  routing:\n"
        "    rules:\n"
        "      - {condition: 'task.complexity > 2', specialist: coding}\n"
    )

    config_load(config=config_parse(smaller))

    assert set(Specialist.objects.values_list("role", flat=True)) == {"arbiter", "coding"}
    assert list(Server.objects.values_list("name", flat=True)) == ["solo"]
    assert RoutingRule.objects.count() == 1


def test_export_without_an_arbiter_raises():
    with pytest.raises(Specialist.DoesNotExist):
        config_export()
