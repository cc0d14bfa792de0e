import pytest

from orchestration.config.errors import ConfigError
from orchestration.config.schema import config_parse
from tests.orchestration.config.design_yaml import DESIGN_YAML


def problems_of(text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        config_parse(text)
    return {p.path: p.message for p in caught.value.problems}


def test_design_yaml_parses_as_written():
    config = config_parse(DESIGN_YAML)

    assert config.arbiter.model == "qwen2.5:14b"
    assert config.arbiter.persona == "coordinator"
    assert [s.role for s in config.specialists] == [
        "coding",
        "reasoning",
        "analysis",
        "interpreter",
    ]
    assert {s.role: s.context_window for s in config.specialists}["coding"] == 16384
    assert [(r.condition, r.specialist) for r in config.rules] == [
        ("task.complexity > 7", "reasoning"),
        ("task.type == 'code_generation'", "coding"),
        ("task.requires_speed", "analysis"),
        ("response.unclear_tool_calls", "interpreter"),
    ]
    assert config.conversation.max_models_per_conversation == 3
    assert config.conversation.include_full_history is False


def test_servers_named_but_not_defined_default_to_ollama_on_port_11434():
    config = config_parse(DESIGN_YAML)

    assert {(s.name, s.url, s.kind) for s in config.servers} == {
        ("ollama01", "http://ollama01:11434", "ollama"),
        ("ollama02", "http://ollama02:11434", "ollama"),
    }


def test_servers_section_sets_url_kind_slots_and_timeouts():
    text = (
        "servers:\n"
        "  ollama01:\n"
        "    url: http://10.0.0.5:11434/\n"
        "    kind: openai\n"
        "    parallel: 4\n"
        "    timeouts: {connect: 2, read: 60, total: 120}\n" + DESIGN_YAML
    )
    servers = {s.name: s for s in config_parse(text).servers}

    assert servers["ollama01"].url == "http://10.0.0.5:11434"
    assert servers["ollama01"].kind == "openai"
    assert servers["ollama01"].parallel == 4
    assert (servers["ollama01"].connect_timeout_s, servers["ollama01"].deadline_s) == (2.0, 120.0)
    assert servers["ollama02"].url == "http://ollama02:11434"


def test_unknown_key_is_reported_with_its_path():
    text = DESIGN_YAML.replace("    role: coordinator", "    role: coordinator\n    temprature: 3")

    assert "orchestration.arbiter.temprature" in problems_of(text)


def test_wrong_type_is_reported_with_its_path():
    text = DESIGN_YAML.replace("context_window: 16384", "context_window: big", 1)

    problems = problems_of(text)
    assert problems == {
        "orchestration.specialists.coding.context_window": "must be a whole number, not text"
    }


def test_boolean_where_a_number_belongs_is_a_wrong_type():
    text = DESIGN_YAML.replace(
        "max_models_per_conversation: 3", "max_models_per_conversation: true"
    )

    assert "orchestration.conversation.max_models_per_conversation" in problems_of(text)


@pytest.mark.parametrize(
    "url",
    [
        "ollama01:11434",
        "http://",
        "ftp://ollama01",
        "http://host:99999",
        "http://u:p@host",
        "http://h/?a=1",
    ],
)
def test_malformed_server_url_is_refused(url):
    text = f"servers:\n  ollama01:\n    url: '{url}'\n" + DESIGN_YAML

    assert "servers.ollama01.url" in problems_of(text)


def test_rule_naming_an_unknown_specialist_is_refused():
    text = DESIGN_YAML.replace("specialist: analysis", "specialist: poetry")

    message = problems_of(text)["orchestration.routing.rules[2].specialist"]
    assert "'poetry'" in message and "coding" in message


def test_condition_that_does_not_parse_is_refused_at_its_path():
    text = DESIGN_YAML.replace('"task.requires_speed"', "\"__import__('os').system('x')\"")

    problems = problems_of(text)
    assert list(problems) == ["orchestration.routing.rules[2].condition"]


def test_every_problem_is_reported_at_once():
    text = DESIGN_YAML.replace("model: functiongemma", "model: 7").replace(
        "allow_model_to_model: true", "allow_model_to_model: sometimes"
    )

    assert set(problems_of(text)) == {
        "orchestration.specialists.interpreter.model",
        "orchestration.conversation.allow_model_to_model",
    }


def test_duplicate_keys_are_refused_with_their_line():
    text = DESIGN_YAML.replace("    role: coordinator", "    role: coordinator\n    model: other")

    ((path, message),) = problems_of(text).items()
    assert path.startswith("line 6")
    assert "'model' appears twice" in message


def test_yaml_syntax_error_names_line_and_column():
    problems = problems_of("orchestration:\n  arbiter: [unclosed\n")

    ((path, message),) = problems.items()
    assert path.startswith("line ")
    assert "YAML syntax error" in message


@pytest.mark.parametrize("text", ["", "- a list\n", "just text", "orchestration: 5\n"])
def test_documents_of_the_wrong_shape_are_refused(text):
    assert problems_of(text)


def test_missing_required_keys_are_named():
    problems = problems_of("orchestration:\n  arbiter:\n    model: m\n")

    assert "orchestration.arbiter.server" in problems
    assert "orchestration.specialists" in problems


def test_arbiter_cannot_also_be_a_specialist():
    text = DESIGN_YAML.replace(
        "    coding:\n", "    arbiter:\n      model: x\n      server: s\n    coding:\n"
    )

    assert "orchestration.specialists.arbiter" in problems_of(text)


def test_phases_and_limits_are_optional_and_validated():
    good = DESIGN_YAML + "    phases: [design, build]\n    max_steps: 5\n"
    bad = DESIGN_YAML + "    phases: [design, design]\n    max_steps: 0\n"

    conversation = config_parse(good).conversation
    assert conversation.phases == ("design", "build")
    assert conversation.max_steps == 5
    assert set(problems_of(bad)) == {
        "orchestration.conversation.phases",
        "orchestration.conversation.max_steps",
    }


def test_unknown_model_option_is_refused():
    text = DESIGN_YAML.replace(
        "    role: coordinator",
        "    role: coordinator\n    options: {temperature: 0.1, nmu_ctx: 5}",
    )

    assert "orchestration.arbiter.options.nmu_ctx" in problems_of(text)
