import yaml

from orchestration.config.dump import config_dump
from orchestration.config.schema import config_parse
from tests.orchestration.config.design_yaml import DESIGN_YAML


def test_design_yaml_round_trips_through_dump():
    config = config_parse(DESIGN_YAML)
    dumped = config_dump(config)

    assert config_parse(dumped) == config
    assert yaml.safe_load(dumped)["orchestration"] == yaml.safe_load(DESIGN_YAML)["orchestration"]


def test_dump_writes_only_settings_that_differ_from_defaults():
    text = DESIGN_YAML.replace(
        "specialist: coding\n", "specialist: coding\n        binding: true\n"
    )
    rules = yaml.safe_load(config_dump(config_parse(text)))["orchestration"]["routing"]["rules"]

    assert rules[1] == {
        "condition": "task.type == 'code_generation'",
        "specialist": "coding",
        "binding": True,
    }
    assert rules[0] == {"condition": "task.complexity > 7", "specialist": "reasoning"}
