"""The published payload schemas against the parsers, event by event: whatever the JSON Schema
calls valid parses, and a random or hostile payload is accepted exactly when the schema
validates it.

Payloads are generated from the JSON Schema itself (not from the Python declaration), so these
tests check the document that clients read. Where a parser rule cannot be said in JSON Schema
it is written in the schema's description, and the generators are constrained around it:

- free text (`x-text`) is NFC-normalised and trimmed by the parser before its length counts,
  so generated strings are already NFC and trimmed; control and unassigned characters inside
  them are refused by the parser only, with the message in UNSAID;
- repeated services in one order are added up (at most 20 of one service): only the parser
  knows, with its message in UNSAID;
- str.upper folds a few non-ASCII letters (ß, ı, ſ, ligatures) into ticket-code letters: they
  are not in the hostile alphabet.
"""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.domain.errors import CommandError, ErrorCode
from server.protocol import schema
from server.protocol.schema import PAYLOADS, TEXT_RULE
from tests.unit.test_contract_validator import ecma, wire_validator

Schema = dict[str, Any]
# Refusals of payloads the schema calls valid: the rules JSON Schema cannot say, each named in
# the schema's description (checked below).
UNSAID = {
    "contains control or unassigned characters": TEXT_RULE,
    f"at most {schema.MAX_QUANTITY} of one service": f"at most {schema.MAX_QUANTITY} of one service",
    "send amount_paid (with method) or tenders, one of the two": "amount_paid or tenders, one of the two",
    "tenders: one per method": "one tender per method",
    "send percent or amount, one of the two": "percent or amount, one of the two",
    "percent must be at most 100": "percent at most 100",
    "amount must be more than 0": "amount more than 0",
}
EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- payloads from a JSON Schema (the subset the contract uses) -------------------------------


def _trimmed_nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip()


def valid_text(max_len: int) -> st.SearchStrategy[str]:
    letters = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn"))
    return (
        st.text(letters, min_size=1, max_size=max_len)
        .map(_trimmed_nfc)
        .filter(lambda s: 1 <= len(s) <= max_len and s == _trimmed_nfc(s))
    )


def valid_string(s: Schema) -> st.SearchStrategy[str]:
    lo, hi = s.get("minLength", 0), s.get("maxLength", 300)
    if "x-text" in s:
        return valid_text(hi)
    if "pattern" in s:
        full = re.compile(ecma(s["pattern"]))
        return (
            st.from_regex(re.compile(s["pattern"]), fullmatch=True)
            .filter(lambda v: lo <= len(v) <= hi and full.search(v) is not None)
        )
    return st.text(min_size=lo, max_size=hi)


def valid_number(s: Schema) -> st.SearchStrategy[Any]:
    lo: int = s.get("minimum", -(1 << 40))
    hi: int = s["maximum"] if "maximum" in s else s.get("exclusiveMaximum", 1 << 40)
    if "multipleOf" in s:
        step = Decimal(repr(s["multipleOf"]))
        steps = st.integers(int(Decimal(lo) / step), int(Decimal(hi) / step))
        # A whole number of steps written as a person would: 5010 steps of 0.01 is 50.1.
        return st.one_of(steps.map(lambda n: float(Decimal(n) * step)), st.integers(lo, int(hi)))
    exclusive = "exclusiveMaximum" in s
    return st.one_of(
        st.floats(lo, hi, exclude_max=exclusive, allow_nan=False), st.integers(lo, hi - 1 if exclusive else hi)
    )


def valid_object(s: Schema) -> st.SearchStrategy[dict[str, Any]]:
    props: dict[str, Schema] = s.get("properties", {})
    required = set(s.get("required", []))
    if isinstance(s.get("additionalProperties"), dict):
        keys = valid_string({"type": "string", **s.get("propertyNames", {})})
        return st.dictionaries(keys, from_schema(s["additionalProperties"]), max_size=s.get("maxProperties", 5))
    fixed = {name: from_schema(props[name]) for name in props if name in required}
    optional = {name: from_schema(props[name]) for name in props if name not in required}
    return st.fixed_dictionaries(fixed, optional=optional)


def from_schema(s: Schema) -> st.SearchStrategy[Any]:
    """Instances valid per `s`."""
    if "const" in s:
        return st.just(s["const"])
    if "enum" in s:
        return st.sampled_from(s["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in s:
            return st.one_of([from_schema(alt) for alt in s[combinator]])
    kinds = s["type"] if isinstance(s["type"], list) else [s["type"]]
    strategies: list[st.SearchStrategy[Any]] = []
    for kind in kinds:
        if kind == "null":
            strategies.append(st.none())
        elif kind == "boolean":
            strategies.append(st.booleans())
        elif kind == "integer":
            strategies.append(st.integers(s.get("minimum", -(2**40)), s.get("maximum", 2**40)))
        elif kind == "number":
            strategies.append(valid_number(s))
        elif kind == "string":
            strategies.append(valid_string(s))
        elif kind == "array":
            items = from_schema(s["items"])
            strategies.append(st.lists(items, min_size=s.get("minItems", 0), max_size=s.get("maxItems", 5)))
        elif kind == "object":
            strategies.append(valid_object(s))
        else:
            raise AssertionError(f"the generator does not know type {kind!r}")
    return st.one_of(strategies)


# ---- hostile payloads: valid ones with one thing wrong, and anything at all --------------------

FIELD_NAMES = sorted({name for p in PAYLOADS.values() for name in p.json_schema()["properties"]} | {"price", "x"})
# No letters that str.upper turns into ASCII (ß → SS, ı → I, ſ → S, ﬀ → FF).
HOSTILE_ALPHABET = (
    "AaBbZz09-_.:# e\u00e9\u0436\u6f22\u00a0\t\n\x00\x7f\x1c\u200b\u202e\ue000\u0378\u0661\u0301,<>'\"$\\"
)
hostile_string = st.one_of(
    st.text(HOSTILE_ALPHABET, max_size=70).map(_trimmed_nfc),
    st.sampled_from(["A-000", "a 42", "A-0001", "AAAA-1", "cash", "card", "CASH", "1e3", "45.001", "01.00"]),
    st.sampled_from(["-1.00", "1000000.01", "999999.99", "k" * 64, "k" * 65, "x" * 200, "x" * 201]),
)
hostile_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**34),
    st.sampled_from([0, 1, 20, 21, 2**31 - 1, 2**31, 2**33, 1_000_000, 1_000_001]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 0.5, 50.1, 0.07, 45.001, 1e-7, -0.0, 999999.99, 1000000.01, 2.0**33]),
    hostile_string,
)
hostile_json = st.recursive(
    hostile_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    payload = copy.deepcopy(draw(valid))
    path = draw(st.sampled_from(_paths(payload)))
    if not path:
        return draw(hostile_json)
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    how = draw(st.sampled_from(["replace", "delete", "add"]))
    if how == "replace":
        parent[path[-1]] = draw(hostile_json)
    elif how == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(FIELD_NAMES))] = draw(hostile_json)
    else:
        parent.append(draw(hostile_json))
    return payload


def _outcome(event: str, payload: Any) -> str | None:
    """None when the parser accepts, else its message (always an invalid_payload)."""
    try:
        PAYLOADS[event].parse(payload)
    except CommandError as err:
        assert err.code is ErrorCode.INVALID_PAYLOAD
        return err.message
    return None


def unsaid(refusal: str) -> bool:
    return any(rule in refusal for rule in UNSAID)


EVENTS = sorted(PAYLOADS)


@pytest.mark.parametrize("event", EVENTS)
def test_every_schema_is_valid_json_schema_and_names_what_it_cannot_say(event: str) -> None:
    payload_schema = PAYLOADS[event].json_schema()
    wire_validator(payload_schema)  # check_schema: a valid draft 2020-12 schema
    assert payload_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert payload_schema["additionalProperties"] is False
    text = str(payload_schema)
    if "x-text" in text:
        assert TEXT_RULE in text
    if event == "customer_confirm_selection":
        assert UNSAID[f"at most {schema.MAX_QUANTITY} of one service"] in payload_schema["description"]


@pytest.mark.parametrize("event", EVENTS)
def test_what_the_schema_calls_valid_parses(event: str) -> None:
    payload_schema = PAYLOADS[event].json_schema()
    validator = wire_validator(payload_schema)

    @EXAMPLES
    @given(from_schema(payload_schema))
    def check(payload: Any) -> None:
        assert validator.is_valid(payload), f"the generator made an invalid payload: {payload!r}"
        refusal = _outcome(event, payload)
        assert refusal is None or unsaid(refusal), f"{payload!r} is valid per the schema but refused: {refusal}"

    check()


@pytest.mark.parametrize("event", EVENTS)
def test_the_parser_accepts_exactly_what_the_schema_validates(event: str) -> None:
    payload_schema = PAYLOADS[event].json_schema()
    validator = wire_validator(payload_schema)
    valid = from_schema(payload_schema)

    @settings(EXAMPLES, max_examples=250)
    @given(st.one_of(valid, mutated(valid), hostile_json))
    def check(payload: Any) -> None:
        refusal = _outcome(event, payload)
        if refusal is None:
            assert validator.is_valid(payload), f"accepted but invalid per the schema: {payload!r}"
        elif validator.is_valid(payload):
            assert unsaid(refusal), f"refused ({refusal}) but valid per the schema: {payload!r}"

    check()


@pytest.mark.parametrize(
    ("amount", "cents"),
    [(50.1, 5010), (45, 4500), (0.07, 7), ("50.10", 5010), (" 12.30 ", 1230), (1000000, 100_000_000), (-0.0, 0)],
)
def test_amounts_the_schema_and_the_parser_both_take(amount: Any, cents: int) -> None:
    payload = {"transaction_id": 1, "amount_paid": amount}
    assert wire_validator(PAYLOADS["cashier_pay"].json_schema()).is_valid(payload)
    assert schema.parse_pay(payload).amount_paid_cents == cents


@pytest.mark.parametrize("amount", [45.001, 1e-7, 1000000.01, -0.01, "45.001", "1000000.01", True, math.inf, math.nan])
def test_amounts_the_schema_and_the_parser_both_refuse(amount: Any) -> None:
    payload = {"transaction_id": 1, "amount_paid": amount}
    assert not wire_validator(PAYLOADS["cashier_pay"].json_schema()).is_valid(payload)
    assert _outcome("cashier_pay", payload) is not None
