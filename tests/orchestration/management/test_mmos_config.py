import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from orchestration.models import RoutingRule, Specialist
from tests.orchestration.config.design_yaml import DESIGN_YAML

pytestmark = pytest.mark.django_db


@pytest.fixture
def design_file(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text(DESIGN_YAML)
    return path


def test_load_reports_what_it_loaded(design_file):
    out = io.StringIO()

    call_command("mmos_config", "load", str(design_file), stdout=out)

    assert "2 servers, 5 specialists, 4 routing rules" in out.getvalue()
    assert Specialist.objects.count() == 5


def test_export_to_a_file_round_trips(design_file, tmp_path):
    call_command("mmos_config", "load", str(design_file), stdout=io.StringIO())
    target = tmp_path / "out.yaml"

    call_command("mmos_config", "export", str(target), stdout=io.StringIO())

    exported = yaml.safe_load(target.read_text())
    assert exported["orchestration"] == yaml.safe_load(DESIGN_YAML)["orchestration"]
    assert exported["servers"]["ollama01"] == {
        "url": "http://ollama01:11434",
        "kind": "ollama",
        "parallel": 1,
    }


def test_export_to_stdout_is_yaml(design_file, capsys):
    call_command("mmos_config", "load", str(design_file), stdout=io.StringIO())

    call_command("mmos_config", "export")

    assert (
        yaml.safe_load(capsys.readouterr().out)["orchestration"]["arbiter"]["server"] == "ollama01"
    )


def test_bad_file_is_a_clear_error_and_changes_nothing(design_file, tmp_path):
    call_command("mmos_config", "load", str(design_file), stdout=io.StringIO())
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        DESIGN_YAML.replace('"task.requires_speed"', '"open(1)"').replace("ollama02", "x y")
    )
    rules_before = list(RoutingRule.objects.values_list("pk", "condition"))

    with pytest.raises(CommandError) as caught:
        call_command("mmos_config", "load", str(bad), stdout=io.StringIO())

    message = str(caught.value)
    assert "orchestration.routing.rules[2].condition" in message
    assert "orchestration.specialists.coding.server" in message
    assert list(RoutingRule.objects.values_list("pk", "condition")) == rules_before


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("mmos_config", "load", str(tmp_path / "nope.yaml"))


def test_shipped_configs_load(settings):
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "config"
    for name in ("reference.yaml", "embedded.yaml"):
        call_command("mmos_config", "load", str(root / name), stdout=io.StringIO())
    assert Specialist.objects.get(role="arbiter").server.kind == "openai"


def test_load_can_point_a_named_server_elsewhere(design_file):
    call_command(
        "mmos_config",
        "load",
        str(design_file),
        "--server",
        "ollama02=http://gpu-box:11434",
        stdout=io.StringIO(),
    )

    assert Specialist.objects.get(role="coding").server.base_url == "http://gpu-box:11434"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("nobody=http://x:1", "names no server 'nobody'"),
        ("ollama01=ftp://x", "http:// or https://"),
    ],
)
def test_bad_server_override_is_a_clear_error(design_file, override, message):
    with pytest.raises(CommandError, match=message):
        call_command("mmos_config", "load", str(design_file), "--server", override)
