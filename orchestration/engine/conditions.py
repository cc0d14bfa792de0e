"""Routing-rule conditions: a tiny expression language checked with ``ast`` and run by our walker.

A condition such as ``task.complexity > 7 and task.type == 'code_generation'`` is parsed with
``ast.parse(mode="eval")``, every node is checked against a whitelist, and evaluation walks the
checked tree ourselves. Nothing is ever handed to ``eval``/``exec``/``compile``.

Allowed: comparisons (``== != < <= > >= in not in``, chained like ``1 <= task.complexity <= 5``),
``and`` / ``or`` / ``not``, parentheses, numbers (a leading ``-`` included), strings, booleans
(``True``/``False`` and, as YAML writes them, ``true``/``false``), ``None``, literal lists or
tuples of those as the right side of ``in`` / ``not in``, and the dotted fact names in ``FACTS``.

Semantics (chosen so that a rule never crashes a run):
- A fact missing from the mapping (or of a type we do not know) is ``None``.
- ``==`` is true only for values of the same kind (bool, number, string, None) that are equal;
  ``True == 1`` is false. ``!=`` is the negation of ``==``.
- ``< <= > >=`` are true only between two numbers or two strings; anything else (``None > 7``,
  ``'a' < 3``) is false, never an error.
- ``x in [...]`` uses the same equality; ``not in`` is its negation.
- Columns in error messages count characters from the first non-blank one, starting at 1.
- A bare value used as a condition (``task.requires_speed``) is true if it is ``True``, a
  non-zero number or a non-empty string; ``None`` and everything else are false.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_CONDITION_LENGTH = 500
MAX_CONDITION_DEPTH = 12


@dataclass(frozen=True)
class Fact:
    """One fact a condition may name: its dotted name, value type and what it means."""

    name: str
    type: str  # "int", "str" or "bool": what the engine supplies
    description: str


FACTS: Mapping[str, Fact] = {
    fact.name: fact
    for fact in (
        Fact("task.complexity", "int", "Task complexity from the classifier, 1 (trivial) to 10."),
        Fact("task.type", "str", "Task type from the classifier, e.g. 'code_generation'."),
        Fact("task.requires_speed", "bool", "The classifier says a fast answer matters most."),
        Fact(
            "response.unclear_tool_calls",
            "bool",
            "The latest reply had a call the repair "
            "cascade could not make valid, or silently dropped a call.",
        ),
        Fact("response.failed_repairs", "int", "Failed repair attempts on the latest reply."),
        Fact("response.done_reason", "str", "Why the latest reply stopped: 'stop', 'length'."),
        Fact("conversation.phase", "str", "Current phase, e.g. 'planning', 'implementation'."),
        Fact("conversation.step_count", "int", "Steps the conversation has taken so far."),
    )
}
"""Every fact a condition may use. The UI and the YAML loader list these."""

_BOOLEAN_NAMES = {"True": True, "False": False, "true": True, "false": False, "None": None}
_COMPARE_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)

# Why a rejected node is rejected, as the error message says it (the rest name the node class).
_NODE_WORDS: dict[type, str] = {
    ast.Call: "function calls are not allowed",
    ast.Subscript: "subscripts ([...]) are not allowed",
    ast.BinOp: "arithmetic is not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.IfExp: "conditional expressions (x if y else z) are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}


class ConditionError(ValueError):
    """A condition text that does not parse or uses something not allowed. Says what and where."""

    def __init__(self, message: str, *, column: int | None = None, line: int | None = None):
        where = ""
        if column is not None:
            where = (
                f" (line {line}, column {column})" if line and line > 1 else f" (column {column})"
            )
        super().__init__(message + where)
        self.message = message
        self.column = column
        self.line = line

    def __reduce__(self):  # errors may cross Celery, so they must pickle
        return (_rebuild_error, (self.message, self.column, self.line))


def _rebuild_error(message: str, column: int | None, line: int | None) -> ConditionError:
    return ConditionError(message, column=column, line=line)


@dataclass(frozen=True)
class Condition:
    """A validated condition. Build it with ``condition_parse``; evaluate it with ``evaluate``."""

    text: str
    facts_used: frozenset[str]
    tree: ast.Expression = field(repr=False, compare=False)

    def evaluate(self, facts: Mapping[str, object]) -> bool:
        """True when the condition holds for ``facts``.

        ``facts`` maps dotted names (``{"task.complexity": 8}``) or nests them
        (``{"task": {"complexity": 8}}``). Never raises for any values.
        """
        return _truth(_evaluate(self.tree.body, facts))

    def __str__(self) -> str:
        return self.text


def condition_parse(text: str) -> Condition:
    """Parse and validate ``text``. Returns a ``Condition``; raises ``ConditionError``."""
    if not isinstance(text, str):
        raise ConditionError("a condition must be text")
    if not text.strip():
        raise ConditionError("a condition must not be empty")
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionError(
            f"a condition may be at most {MAX_CONDITION_LENGTH} characters, "
            f"this one has {len(text)}"
        )
    try:
        with warnings.catch_warnings():
            # Python warns about oddities such as `1if` or '\[' ; for a rule they are errors.
            warnings.simplefilter("error", SyntaxWarning)
            warnings.simplefilter("error", DeprecationWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        column = exc.offset
        if column is not None and column < 1:  # Python says 0 when the text ended too early
            column = len(text.strip().splitlines()[-1]) + 1 if text.strip() else 1
        raise ConditionError(
            f"not a valid expression: {exc.msg}", column=column, line=exc.lineno
        ) from None
    except (ValueError, RecursionError, MemoryError, Warning) as exc:
        raise ConditionError(f"not a valid expression: {exc}") from None
    source = text.strip()
    _check_depth(tree.body, source)
    facts_used: set[str] = set()
    _check(tree.body, source, facts_used)
    return Condition(text=text, facts_used=frozenset(facts_used), tree=tree)


def condition_facts_used(text: str) -> frozenset[str]:
    """The fact names ``text`` uses (validated like ``condition_parse``)."""
    return condition_parse(text).facts_used


# --- validation -------------------------------------------------------------------------------


def _column(node: ast.AST, source: str) -> tuple[int, int]:
    """1-based (line, column) in characters; ``ast`` gives UTF-8 byte offsets."""
    line = getattr(node, "lineno", 1)
    offset = getattr(node, "col_offset", 0)
    lines = source.splitlines() or [""]
    text_line = lines[line - 1] if 0 < line <= len(lines) else ""
    column = len(text_line.encode("utf-8")[:offset].decode("utf-8", errors="ignore")) + 1
    return line, column


def _fail(message: str, node: ast.AST, source: str) -> ConditionError:
    line, column = _column(node, source)
    return ConditionError(message, column=column, line=line)


def _check_depth(root: ast.AST, source: str) -> None:
    """Reject trees nested deeper than the limit, before any recursive walk (iterative)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_CONDITION_DEPTH:
            raise _fail(
                f"the condition is nested deeper than {MAX_CONDITION_DEPTH} levels", node, source
            )
        for child in ast.iter_child_nodes(node):
            if not isinstance(
                child, ast.expr_context | ast.operator | ast.boolop | ast.cmpop | ast.unaryop
            ):
                stack.append((child, depth + 1))


def _dotted_name(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _check(node: ast.AST, source: str, facts_used: set[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, source, facts_used)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, source, facts_used)
    elif isinstance(node, ast.Compare):
        _check_compare(node, source, facts_used)
    else:
        _check_value(node, source, facts_used)


def _check_compare(node: ast.Compare, source: str, facts_used: set[str]) -> None:
    _check_value(node.left, source, facts_used)
    for op, right in zip(node.ops, node.comparators, strict=True):
        if not isinstance(op, _COMPARE_OPS):
            raise _fail(
                f"the comparison '{type(op).__name__}' is not allowed (use == != < <= > >= "
                "in, not in)",
                right,
                source,
            )
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple):
                raise _fail(
                    "the right side of 'in' must be a literal list such as ['a', 'b']",
                    right,
                    source,
                )
            for element in right.elts:
                if not _is_literal(element):
                    raise _fail(
                        "a list after 'in' may hold only numbers, strings, booleans and None",
                        element,
                        source,
                    )
        else:
            _check_value(right, source, facts_used)


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, bool | int | float | str)
    if isinstance(node, ast.Name):
        return node.id in _BOOLEAN_NAMES
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    )


def _check_value(node: ast.AST, source: str, facts_used: set[str]) -> None:
    if _is_literal(node):
        return
    if isinstance(node, ast.Constant):
        raise _fail(
            f"the literal {node.value!r} is not allowed (only numbers, strings, booleans and None)",
            node,
            source,
        )
    if isinstance(node, ast.Name | ast.Attribute):
        name = _dotted_name(node)
        if name is None:
            raise _fail(
                "attribute access is only allowed as a fact name such as task.complexity",
                node,
                source,
            )
        if name not in FACTS:
            raise _fail(f"unknown fact '{name}'; known facts: {', '.join(FACTS)}", node, source)
        written = ast.get_source_segment(source, node)
        if written is not None and "".join(written.split()) != name:
            # Python folds look-alike Unicode letters (NFKC) into ASCII names; we do not.
            raise _fail(f"write the fact name plainly in ASCII, as {name}", node, source)
        facts_used.add(name)
        return
    if isinstance(node, ast.List | ast.Tuple):
        raise _fail("a list is only allowed on the right side of 'in' / 'not in'", node, source)
    if isinstance(node, ast.UnaryOp):
        raise _fail(
            "'-' and '+' are only allowed in front of a number; '~' is not allowed", node, source
        )
    if isinstance(node, ast.BoolOp | ast.Compare):
        raise _fail(
            "comparing the result of a comparison or of and/or is not allowed; "
            "use and/or to combine comparisons",
            node,
            source,
        )
    reason = _NODE_WORDS.get(type(node), f"{type(node).__name__} is not allowed")
    raise _fail(f"{reason} in a condition", node, source)


# --- evaluation -------------------------------------------------------------------------------


def _kind(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    return "unknown"


def _lookup(facts: Mapping[str, object], name: str) -> object:
    try:
        if name in facts:
            value = facts[name]
        else:
            value = facts
            for part in name.split("."):
                if not isinstance(value, Mapping) or part not in value:
                    return None
                value = value[part]
    except Exception:  # a hostile Mapping must not break routing; a missing fact is None
        return None
    # Only plain values take part: we never call __eq__/__lt__/__bool__ of arbitrary objects.
    return value if _kind(value) != "unknown" else None


def _literal(node: ast.AST) -> object:
    if isinstance(node, ast.Name):
        return _BOOLEAN_NAMES[node.id]
    if isinstance(node, ast.UnaryOp):
        number = node.operand.value  # type: ignore[attr-defined]
        return -number if isinstance(node.op, ast.USub) else number
    return node.value  # type: ignore[attr-defined]


def _value(node: ast.AST, facts: Mapping[str, object]) -> object:
    if isinstance(node, ast.Name) and node.id in _BOOLEAN_NAMES:
        return _BOOLEAN_NAMES[node.id]
    if isinstance(node, ast.Name | ast.Attribute):
        return _lookup(facts, _dotted_name(node) or "")
    return _literal(node)


def _equal(left: object, right: object) -> bool:
    return _kind(left) == _kind(right) and left == right


def _compare(op: ast.cmpop, left: object, right: Any) -> bool:
    if isinstance(op, ast.Eq):
        return _equal(left, right)
    if isinstance(op, ast.NotEq):
        return not _equal(left, right)
    if isinstance(op, ast.In):
        return any(_equal(left, item) for item in right)
    if isinstance(op, ast.NotIn):
        return not any(_equal(left, item) for item in right)
    kinds = (_kind(left), _kind(right))
    if kinds not in {("number", "number"), ("str", "str")}:
        return False
    if isinstance(op, ast.Lt):
        return left < right  # type: ignore[operator]
    if isinstance(op, ast.LtE):
        return left <= right  # type: ignore[operator]
    if isinstance(op, ast.Gt):
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def _evaluate(node: ast.AST, facts: Mapping[str, object]) -> object:
    if isinstance(node, ast.BoolOp):
        results = (_truth(_evaluate(value, facts)) for value in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _truth(_evaluate(node.operand, facts))
    if isinstance(node, ast.Compare):
        left = _value(node.left, facts)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(right_node, ast.List | ast.Tuple):
                right: Any = [_literal(element) for element in right_node.elts]
            else:
                right = _value(right_node, facts)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    return _value(node, facts)


def _truth(value: object) -> bool:
    kind = _kind(value)
    if kind == "bool":
        return value is True
    if kind == "number":
        return value != 0
    if kind == "str":
        return value != ""
    return False
