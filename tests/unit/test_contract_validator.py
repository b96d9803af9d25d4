"""A JSON Schema validator with the wire's reading of JSON, for the contract tests, and the tests
of where it departs from python-jsonschema's defaults (each departure is JSON Schema's own
meaning, which Python's types blur).

- `integer` is an integer literal: Python's json gives 1.0 as a float, the parsers refuse it,
  and python-jsonschema would count it as an integer (its value has no fraction).
- `multipleOf` is checked on the number's decimal value (the shortest repr, as JSON wrote it):
  python-jsonschema divides floats, and 0.07 / 0.01 is 7.000000000000001.
- `pattern` is an ECMA-262 regular expression, whose `$` is the end of the input; Python's `$`
  also matches before a final newline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError, validators

Schema = dict[str, Any]


def ecma(pattern: str) -> str:
    """`pattern` with a final `$` read as ECMA-262 reads it: the end of the input."""
    if pattern.endswith("$") and not pattern.endswith(r"\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _pattern(validator: Any, pattern: str, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not re.search(ecma(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _multiple_of(validator: Any, step: float, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    if isinstance(instance, float) and not math.isfinite(instance):
        yield ValidationError(f"{instance!r} is not a JSON number")
    elif Fraction(Decimal(repr(instance))) % Fraction(Decimal(repr(step))) != 0:  # exact at any size
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, instance: isinstance(instance, int) and not isinstance(instance, bool)
)
WireValidator = validators.extend(
    Draft202012Validator, {"pattern": _pattern, "multipleOf": _multiple_of}, type_checker=_TYPES
)


def wire_validator(schema: Schema) -> Any:
    Draft202012Validator.check_schema(schema)
    return WireValidator(schema)


def assert_valid(schema: Schema, instance: Any, what: str) -> None:
    errors = sorted(wire_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        detail = "\n".join(f"  at {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])
        raise AssertionError(f"{what} does not match its schema:\n{detail}\n{str(instance)[:1500]}")


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"type": "integer"}, 1, True),
        ({"type": "integer"}, 1.0, False),
        ({"type": "integer"}, True, False),
        ({"type": "number", "multipleOf": 0.01}, 50.1, True),
        ({"type": "number", "multipleOf": 0.01}, 0.07, True),
        ({"type": "number", "multipleOf": 0.01}, 45, True),
        ({"type": "number", "multipleOf": 0.01}, 45.001, False),
        ({"type": "number", "multipleOf": 0.01}, 0.30000000000000004, False),
        ({"type": "number", "multipleOf": 0.01}, math.nan, False),
        ({"type": "number", "multipleOf": 0.01}, 1e26, True),
        ({"type": "number", "multipleOf": 0.01}, 1e-26, False),
        ({"type": "string", "pattern": "^a$"}, "a", True),
        ({"type": "string", "pattern": "^a$"}, "a\n", False),
        ({"type": "string", "pattern": r"^a\$"}, "a$", True),
        ({"propertyNames": {"pattern": "^a$"}}, {"a\n": 1}, False),
    ],
)
def test_the_wire_reading_of_json(schema: Schema, instance: Any, valid: bool) -> None:
    assert wire_validator(schema).is_valid(instance) is valid


def test_python_jsonschema_alone_reads_them_otherwise() -> None:
    # Why the validator above exists: each of these is a wrong answer for the wire.
    plain = Draft202012Validator
    assert plain({"type": "integer"}).is_valid(1.0)
    assert not plain({"type": "number", "multipleOf": 0.01}).is_valid(0.07)
    assert plain({"type": "string", "pattern": "^a$"}).is_valid("a\n")
