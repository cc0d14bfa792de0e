import pytest

from orchestration.config.schema import config_parse
from orchestration.services.config import config_load
from tests.orchestration.config.design_yaml import DESIGN_YAML


@pytest.fixture
def design_config(db):
    """The original design's configuration, loaded into rows."""
    return config_load(config=config_parse(DESIGN_YAML))
