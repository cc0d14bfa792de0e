from __future__ import annotations

import ast
import builtins
import contextlib
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.engine.conditions import (
    FACTS,
    MAX_CONDITION_DEPTH,
    MAX_CONDITION_LENGTH,
    Condition,
    ConditionError,
    condition_facts_used,
    condition_parse,
)

DESIGN_RULES = [
    "task.complexity > 7",
    "task.type == 'code_generation'",
    "task.requires_speed",
    "response.unclear_tool_calls",
]


def holds(text: str, **facts: object) -> bool:
    return condition_parse(text).evaluate({k.replace("__", "."): v for k, v in facts.items()})


def rejected(text: str) -> str:
    with pytest.raises(ConditionError) as info:
        condition_parse(text)
    return str(info.value)


# --- the design's four rules --------------------------------------------------------------


@pytest.mark.parametrize("text", DESIGN_RULES)
def test_every_rule_of_the_design_yaml_parses(text):
    assert isinstance(condition_parse(text), Condition)


def test_complexity_rule_fires_above_seven_only():
    rule = condition_parse("task.complexity > 7")
    assert rule.evaluate({"task.complexity": 8})
    assert not rule.evaluate({"task.complexity": 7})
    assert not rule.evaluate({})


def test_type_rule_fires_for_code_generation_only():
    rule = condition_parse("task.type == 'code_generation'")
    assert rule.evaluate({"task.type": "code_generation"})
    assert not rule.evaluate({"task.type": "analysis"})
    assert not rule.evaluate({})


def test_speed_rule_follows_the_boolean_fact():
    rule = condition_parse("task.requires_speed")
    assert rule.evaluate({"task.requires_speed": True})
    assert not rule.evaluate({"task.requires_speed": False})
    assert not rule.evaluate({})


def test_unclear_tool_calls_rule_follows_the_reply_state():
    rule = condition_parse("response.unclear_tool_calls")
    assert rule.evaluate({"response.unclear_tool_calls": True})
    assert not rule.evaluate({"response.unclear_tool_calls": False})


def test_facts_may_be_given_nested_instead_of_dotted():
    assert holds("task.complexity > 7", task={"complexity": 9})
    assert condition_parse("task.type == 'x'").evaluate({"task": {"type": "x"}})
    assert not condition_parse("task.type == 'x'").evaluate({"task": "not a mapping"})


# --- allowed constructs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("task.complexity == 5", True),
        ("task.complexity != 5", False),
        ("task.complexity < 6", True),
        ("task.complexity <= 5", True),
        ("task.complexity > 4", True),
        ("task.complexity >= 6", False),
        ("task.type in ['coding', 'analysis']", True),
        ("task.type in ('coding', 'analysis')", True),
        ("task.type not in ['coding', 'analysis']", False),
        ("task.complexity in [1, 5, 9]", True),
        ("task.complexity > 3 and task.type == 'coding'", True),
        ("task.complexity > 8 or task.type == 'coding'", True),
        ("task.complexity > 8 or task.type == 'other'", False),
        ("not task.requires_speed", True),
        ("not (task.complexity > 3 and task.requires_speed)", True),
        ("1 <= task.complexity <= 5", True),
        ("1 <= task.complexity <= 4", False),
        ("task.complexity > -1", True),
        ("task.complexity > +4.5", True),
        ("task.requires_speed == False", True),
        ("task.requires_speed == false", True),
        ("task.requires_speed != true", True),
        ("conversation.phase == None", True),
        ('response.done_reason == "stop"', False),
        ("True", True),
        ("false", False),
    ],
)
def test_allowed_constructs_evaluate_as_documented(text, expected):
    facts = {"task.complexity": 5, "task.type": "coding", "task.requires_speed": False}
    assert condition_parse(text).evaluate(facts) is expected


def test_true_and_false_are_written_either_way():
    for yes in ("True", "true"):
        assert holds(f"task.requires_speed == {yes}", task__requires_speed=True)
    for no in ("False", "false"):
        assert holds(f"task.requires_speed == {no}", task__requires_speed=False)


def test_facts_used_lists_every_named_fact_once():
    text = "task.complexity > 7 and (task.type == 'a' or task.complexity < 2)"
    assert condition_facts_used(text) == {"task.complexity", "task.type"}
    assert condition_parse("True").facts_used == frozenset()


def test_the_fact_list_is_one_constant_with_types_and_descriptions():
    assert {
        "task.complexity",
        "task.type",
        "task.requires_speed",
        "response.unclear_tool_calls",
    } <= set(FACTS)
    for name, fact in FACTS.items():
        assert fact.name == name
        assert fact.type in {"int", "str", "bool"}
        assert fact.description
        assert condition_parse(name).facts_used == {name}


def test_condition_text_survives_whitespace_and_newlines():
    rule = condition_parse("  (task.complexity\n   > 7)  ")
    assert rule.evaluate({"task.complexity": 8})
    assert str(rule) == "  (task.complexity\n   > 7)  "


# --- semantics of missing facts and type mismatches ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "task.complexity > 7",
        "task.complexity < 7",
        "task.complexity >= 0",
        "task.complexity == 0",
        "task.type == ''",
        "task.type in ['a']",
        "task.requires_speed",
    ],
)
def test_a_missing_fact_never_matches_a_value(text):
    assert condition_parse(text).evaluate({}) is False


def test_a_missing_fact_equals_none_and_differs_from_everything_else():
    assert holds("task.type == None")
    assert holds("task.type != 'a'")
    assert holds("task.type in ['a', None]")
    assert holds("task.type not in ['a']")
    assert holds("not task.complexity > 7")


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("task.complexity > 7", {"task.complexity": "9"}),
        ("task.complexity == 9", {"task.complexity": "9"}),
        ("task.type < 3", {"task.type": "code"}),
        ("task.requires_speed == 1", {"task.requires_speed": True}),
        ("task.complexity == True", {"task.complexity": 1}),
        ("task.complexity > 0", {"task.complexity": True}),
        ("task.complexity > 7", {"task.complexity": [9]}),
        ("task.complexity > 7", {"task.complexity": object()}),
        ("task.complexity > 7", {"task.complexity": float("nan")}),
    ],
)
def test_type_mismatches_are_false_not_errors(text, facts):
    assert condition_parse(text).evaluate(facts) is False


def test_strings_order_against_strings():
    assert holds("conversation.phase < 'review'", conversation__phase="planning")


def test_objects_in_facts_are_never_asked_to_compare_or_convert_themselves():
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("called")

        def __bool__(self):
            raise RuntimeError("called")

        __hash__ = object.__hash__

    rule = condition_parse("task.type == 'x' or task.type or task.type in ['x']")
    assert rule.evaluate({"task.type": Hostile()}) is False


def test_a_mapping_that_raises_counts_as_missing_facts():
    class Broken(dict):
        def __contains__(self, key):
            raise RuntimeError("boom")

    assert condition_parse("task.complexity > 1").evaluate(Broken()) is False


# --- rejected constructs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("__import__('os')", "function calls are not allowed", 1),
        ("task.complexity > len('abc')", "function calls are not allowed", 19),
        ("task.__class__", "unknown fact 'task.__class__'", 1),
        ("task.complexity.real > 1", "unknown fact 'task.complexity.real'", 1),
        ("().__class__.__bases__", "attribute access is only allowed as a fact name", 1),
        ("'abc'.upper", "attribute access is only allowed as a fact name", 1),
        ("user.is_admin", "unknown fact 'user.is_admin'", 1),
        ("task", "unknown fact 'task'", 1),
        ("task.type == other", "unknown fact 'other'", 14),
        ("task.type[0] == 'a'", "subscripts ([...]) are not allowed", 1),
        ("task.complexity + 1 > 7", "arithmetic is not allowed", 1),
        ("task.complexity > 3 * 2", "arithmetic is not allowed", 19),
        ("lambda: True", "lambdas are not allowed", 1),
        ("f'{task.type}' == 'a'", "f-strings are not allowed", 1),
        ("(x := 1)", "assignment expressions (:=) are not allowed", 2),
        ("task.type in [x for x in 'ab']", "the right side of 'in' must be a literal list", 14),
        ("[x for x in 'ab']", "comprehensions are not allowed", 1),
        ("{1: 2}", "dicts are not allowed", 1),
        ("task.type in {'a', 'b'}", "the right side of 'in' must be a literal list", 14),
        ("task.type in task.type", "the right side of 'in' must be a literal list", 14),
        ("task.type in [task.type]", "a list after 'in' may hold only numbers", 15),
        ("task.type in [*'ab']", "a list after 'in' may hold only numbers", 15),
        ("task.type == ['a']", "a list is only allowed on the right side of 'in'", 14),
        ("1 if task.requires_speed else 0", "conditional expressions", 1),
        ("~task.complexity", "'~' is not allowed", 1),
        ("-task.complexity < 0", "only allowed in front of a number", 1),
        ("b'x' == task.type", "the literal b'x' is not allowed", 1),
        ("task.complexity == 1j", "the literal 1j is not allowed", 20),
        ("...", "the literal Ellipsis is not allowed", 1),
        ("(task.complexity > 1) == True", "comparing the result of a comparison", 2),
        ("task.complexity is None", "the comparison 'Is' is not allowed", 20),
        ("task.complexity is not None", "the comparison 'IsNot' is not allowed", 24),
        ("await task.type", "await is not allowed", 1),
        ("task.complexity >", "not a valid expression", 18),
        ("import os", "not a valid expression", 1),
        ("task.type = 'a'", "not a valid expression", None),
        ("1if task.requires_speed else 0", "not a valid expression: invalid decimal literal", None),
        ("task.type == 'a\\['", "not a valid expression: invalid escape sequence", None),
    ],
)
def test_rejected_constructs_say_what_and_where(text, message, column):
    error = rejected(text)
    assert message in error
    if column is not None:
        assert error.endswith(f"(column {column})")


def test_an_unknown_fact_message_lists_the_known_facts():
    error = rejected("task.colour == 'red'")
    for name in FACTS:
        assert name in error


def test_errors_on_later_lines_name_the_line():
    with pytest.raises(ConditionError) as info:
        condition_parse("(task.complexity > 1 and\n  foo(1))")
    assert info.value.line == 2
    assert info.value.column == 3
    assert "(line 2, column 3)" in str(info.value)


def test_columns_count_characters_not_bytes():
    error = rejected("task.type == 'ééé' and open('x')")
    assert error.endswith("(column 24)")


def test_lookalike_unicode_letters_do_not_pass_as_a_fact():
    # Python folds the fullwidth letter t into 't'; a stored rule must say what it means in ASCII.
    assert "plainly in ASCII" in rejected("\uff54ask.complexity > 1")
    assert "unknown fact 'é'" in rejected("é > 1")


def test_strings_may_hold_any_unicode():
    assert holds("task.type == '日本語 ✓'", task__type="日本語 ✓")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_conditions_are_rejected(text):
    assert "must not be empty" in rejected(text)


def test_non_text_is_rejected():
    with pytest.raises(ConditionError, match="must be text"):
        condition_parse(7)  # type: ignore[arg-type]


def test_null_bytes_are_rejected():
    assert "not a valid expression" in rejected("task.requires_speed\x00")


# --- bounds -------------------------------------------------------------------------------


def test_length_is_bounded():
    at_limit = "task.type == '" + "a" * (MAX_CONDITION_LENGTH - 16) + "'"
    assert len(at_limit) == MAX_CONDITION_LENGTH - 1
    condition_parse(at_limit)
    too_long = "task.type == '" + "a" * MAX_CONDITION_LENGTH + "'"
    assert f"at most {MAX_CONDITION_LENGTH} characters" in rejected(too_long)


def test_depth_is_bounded():
    shallow = "not " * (MAX_CONDITION_DEPTH - 3) + "task.requires_speed"
    condition_parse(shallow)
    deep = "not " * MAX_CONDITION_DEPTH + "task.requires_speed"
    assert f"deeper than {MAX_CONDITION_DEPTH} levels" in rejected(deep)


def test_deep_parentheses_and_long_chains_fail_cleanly():
    assert rejected("(" * 240 + "1" + ")" * 240)
    assert rejected("task.complexity > 1 and " * 30 + "True")
    assert rejected("-" * 400 + "1")
    assert rejected("[" * 200)


def test_a_long_flat_chain_within_the_bounds_is_fine():
    text = " or ".join(f"task.complexity == {n}" for n in range(20))
    assert condition_parse(text).evaluate({"task.complexity": 19})


# --- errors travel ------------------------------------------------------------------------


def test_condition_errors_pickle_with_their_position():
    with pytest.raises(ConditionError) as info:
        condition_parse("task.complexity > len(x)")
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    assert copy.column == info.value.column == 19


def test_condition_errors_are_value_errors():
    assert issubclass(ConditionError, ValueError)


# --- never executes code ------------------------------------------------------------------


@contextlib.contextmanager
def no_code_execution():
    """Fail if eval/exec, compile to code (not to a tree) or an import of os runs inside."""

    def forbid(*args, **kwargs):
        raise AssertionError("code was executed")

    real_import = builtins.__import__
    real_compile = builtins.compile

    def tree_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse compiles to a tree only; that is fine
            forbid()
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def guarded_import(name, *args, **kwargs):
        if name in {"os", "subprocess"}:
            forbid()
        return real_import(name, *args, **kwargs)

    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}
    builtins.eval = builtins.exec = forbid
    builtins.compile = tree_only_compile
    builtins.__import__ = guarded_import
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(builtins, name, value)
        builtins.__import__ = real_import


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "task.__class__.__mro__",
        "().__class__.__bases__[0].__subclasses__()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
        "(lambda: __import__('os'))()",
        "globals()",
        "task.complexity > 7 and exec('1')",
        "getattr(task, 'complexity')",
        "open('/etc/passwd').read()",
        "__builtins__",
    ],
)
def test_hostile_inputs_are_rejected_without_running_anything(text):
    with no_code_execution(), pytest.raises(ConditionError):
        condition_parse(text)


def test_parsing_and_evaluation_never_call_eval_exec_or_compile():
    with no_code_execution():
        rule = condition_parse("task.complexity > 7 and task.type in ['a', 'b'] or not true")
        assert rule.evaluate({"task.complexity": 8, "task.type": "b"})


ATOMS = st.sampled_from(
    [*FACTS, "1", "-2.5", "'a'", "True", "false", "None", "[1, 'a']", "os", "x", "()", "open"]
)
OPERATORS = st.sampled_from(
    [
        " == ",
        " != ",
        " < ",
        " >= ",
        " in ",
        " not in ",
        " and ",
        " or ",
        " + ",
        ".",
        "(",
        ")",
        "[",
        "]",
        ", ",
        "not ",
        "lambda: ",
        "**",
        " if ",
        " else ",
        "__class__",
        ":=",
        "'",
        "\\",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(ATOMS, OPERATORS), max_size=25).map("".join))
def test_random_expression_fragments_only_raise_condition_errors(text):
    with no_code_execution():
        try:
            rule = condition_parse(text)
        except ConditionError:
            return
        facts = {"task.complexity": 5, "task.type": "a", "conversation.phase": None}
        assert rule.evaluate(facts) in (True, False)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_random_text_only_raises_condition_errors(text):
    with no_code_execution():
        try:
            rule = condition_parse(text)
        except ConditionError:
            return
        assert rule.evaluate({}) in (True, False)
