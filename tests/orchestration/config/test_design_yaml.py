from pathlib import Path

from tests.orchestration.config.design_yaml import DESIGN_YAML

DESIGN_DOC = Path(__file__).resolve().parents[4] / "shared/seed/multi-model-orchestration-design.md"


def test_kept_text_is_the_design_documents_yaml_block_verbatim():
    if not DESIGN_DOC.exists():  # the shared folder sits beside the clone in CI and locally
        raise AssertionError(f"design document not found at {DESIGN_DOC}")
    doc = DESIGN_DOC.read_text()
    block = doc.split("### Configuration Example\n\n```yaml\n", 1)[1].split("```", 1)[0]
    assert block == DESIGN_YAML


def test_reference_config_carries_the_design_block_after_its_servers():
    reference = (Path(__file__).resolve().parents[3] / "config/reference.yaml").read_text()
    assert reference.endswith(DESIGN_YAML)
