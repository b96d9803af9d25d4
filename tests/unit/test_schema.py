"""Payload validation: the shapes the protocol accepts, and a clear refusal for everything else."""

from __future__ import annotations

from typing import Any

import pytest

from common.wire import ROOM_RE
from server.domain.errors import CommandError, ErrorCode
from server.protocol import schema


def refused(parse: Any, payload: Any, *args: Any) -> str:
    with pytest.raises(CommandError) as err:
        parse(payload, *args)
    assert err.value.code is ErrorCode.INVALID_PAYLOAD
    return err.value.message


def test_confirm_selection_merges_repeated_services() -> None:
    cmd = schema.parse_confirm_selection(
        {
            "customer_name": "  Maria  Lopez ",
            "items": [{"service_id": 1, "quantity": 2}, {"service_id": 3}, {"service_id": 1}],
        }
    )
    assert cmd.customer_name == "Maria  Lopez"
    assert cmd.items == (schema.ItemRequest(1, 3), schema.ItemRequest(3, 1))
    assert cmd.idempotency_key is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "payload must be an object"),
        ([], "payload must be an object"),
        ({"items": [{"service_id": 1}]}, "missing field 'customer_name'"),
        ({"customer_name": "A", "items": []}, "items must be a list"),
        ({"customer_name": "A", "items": [{"service_id": 1}] * 21}, "items must be a list"),
        ({"customer_name": "A", "items": "1"}, "items must be a list"),
        ({"customer_name": "", "items": [{"service_id": 1}]}, "must not be empty"),
        ({"customer_name": "x" * 61, "items": [{"service_id": 1}]}, "at most 60"),
        ({"customer_name": "A\x00B", "items": [{"service_id": 1}]}, "control"),
        ({"customer_name": "A\u202eB", "items": [{"service_id": 1}]}, "control"),
        ({"customer_name": 7, "items": [{"service_id": 1}]}, "must be a string"),
        ({"customer_name": "A", "items": [{"service_id": "1"}]}, "must be an integer"),
        ({"customer_name": "A", "items": [{"service_id": True}]}, "must be an integer"),
        ({"customer_name": "A", "items": [{"service_id": 1.0}]}, "must be an integer"),
        ({"customer_name": "A", "items": [{"service_id": 0}]}, "between 1 and"),
        ({"customer_name": "A", "items": [{"service_id": 2**31}]}, "between 1 and"),
        ({"customer_name": "A", "items": [{"service_id": 1, "quantity": 0}]}, "between 1 and 20"),
        (
            {"customer_name": "A", "items": [{"service_id": 1, "quantity": 15}, {"service_id": 1, "quantity": 15}]},
            "at most 20",
        ),
        ({"customer_name": "A", "items": [{"service_id": 1, "price": "0.01"}]}, "unknown field 'price'"),
        ({"customer_name": "A", "items": [{"service_id": 1}], "total": "1.00"}, "unknown field 'total'"),
        ({"customer_name": "A", "items": [{"service_id": 1}], "idempotency_key": "a b"}, "idempotency_key"),
        ({"customer_name": "A", "items": [{"service_id": 1}], "idempotency_key": "k" * 65}, "idempotency_key"),
    ],
)
def test_confirm_selection_refuses(payload: Any, message: str) -> None:
    assert message in refused(schema.parse_confirm_selection, payload)


def test_therapist_claim_accepts_the_original_payload_and_none() -> None:
    assert schema.parse_therapist_claim({"therapist_token": "st_1_x"}).therapist_token == "st_1_x"
    assert schema.parse_therapist_claim(None) == schema.TherapistClaim(None, None, None)
    assert schema.parse_therapist_claim({"room": "Room 3"}).room == "Room 3"


@pytest.mark.parametrize(
    "payload",
    [
        {"therapist_token": 5},
        {"therapist_token": ""},
        {"therapist_token": "x" * 201},
        {"room": "<script>"},
        {"room": ""},
        {"whoami": 1},
        "st_1_x",
    ],
)
def test_therapist_claim_refuses(payload: Any) -> None:
    refused(schema.parse_therapist_claim, payload)


def test_pay_defaults_to_cash_and_parses_money() -> None:
    cmd = schema.parse_pay({"transaction_id": 4, "amount_paid": "100.00"})
    assert (cmd.transaction_id, cmd.amount_paid_cents, cmd.method) == (4, 10000, "cash")
    assert schema.parse_pay({"transaction_id": 4, "amount_paid": 100, "method": "card"}).amount_paid_cents == 10000
    # The original design's clients send a JSON number: read by its shortest decimal form.
    assert schema.parse_pay({"transaction_id": 4, "amount_paid": 99.99}).amount_paid_cents == 9999
    assert schema.parse_pay({"transaction_id": 4, "amount_paid": 50.1}).amount_paid_cents == 5010


@pytest.mark.parametrize(
    "payload",
    [
        {"transaction_id": 4},
        {"amount_paid": "1.00"},
        {"transaction_id": 4, "amount_paid": 99.999},
        {"transaction_id": 4, "amount_paid": True},
        {"transaction_id": 4, "amount_paid": "1.00", "method": "bitcoin"},
        {"transaction_id": "4", "amount_paid": "1"},
        {"transaction_id": 4, "amount_paid": "-1.00"},
        {"transaction_id": 4, "amount_paid": "1.00", "change": "0"},
    ],
)
def test_pay_refuses(payload: Any) -> None:
    refused(schema.parse_pay, payload)


def test_lookup_normalizes_what_a_scanner_types() -> None:
    assert schema.parse_lookup({"code": "a042"}).code == "A-042"
    assert "not a ticket code" in refused(schema.parse_lookup, {"code": "hello"})
    refused(schema.parse_lookup, {"code": "A" * 40})


def test_txn_action_takes_only_its_token_field() -> None:
    assert schema.parse_txn_action({"transaction_id": 3, "therapist_token": "t"}, "therapist_token").acting_token == "t"
    assert "unknown field" in refused(
        schema.parse_txn_action, {"transaction_id": 3, "cashier_token": "t"}, "therapist_token"
    )
    assert "unknown field" in refused(schema.parse_txn_action, {"transaction_id": 3, "therapist_token": "t"}, None)


def test_empty_payloads() -> None:
    assert schema.parse_empty(None) == schema.Empty()
    assert schema.parse_empty({}) == schema.Empty()
    refused(schema.parse_empty, {"x": 1})
    refused(schema.parse_empty, "x")


def test_heartbeat() -> None:
    beat = schema.parse_heartbeat(
        {"devices": {"printer": {"state": "paper_low", "detail": "", "last_event_at": 1700000000.5}}, "software": "0.1"}
    )
    assert beat.devices == {"printer": {"state": "paper_low", "last_event_at": 1700000000.5}}
    refused(schema.parse_heartbeat, {"devices": {"bad name!": {"state": "ok"}}})
    refused(schema.parse_heartbeat, {"devices": {f"d{i}": {"state": "ok"} for i in range(17)}})
    refused(schema.parse_heartbeat, {"devices": {"p": {"state": "ok", "last_event_at": "yesterday"}}})


def test_print_status() -> None:
    status = schema.parse_print_status({"transaction_id": 1, "job_id": "rcpt-1", "ok": False, "detail": None})
    assert (status.ok, status.state, status.detail) == (False, "ok", "")
    assert schema.parse_print_status({"transaction_id": 1, "job_id": "rcpt-1", "ok": True, "detail": ""}).detail == ""
    not_a_flag = {"transaction_id": 1, "job_id": "j", "ok": 1}
    assert "ok must be true or false" in refused(schema.parse_print_status, not_a_flag)
    # A detail is text (or nothing): 0 and false used to pass as "no detail".
    assert "detail must be a string" in refused(
        schema.parse_print_status, {"transaction_id": 1, "job_id": "j", "ok": True, "detail": 0}
    )


@pytest.mark.parametrize(
    ("parse", "payload"),
    [
        # A pattern matches the whole string: Python's `$` alone also matched before a final newline.
        (schema.parse_cashier_claim, {"idempotency_key": "k1\n"}),
        (schema.parse_therapist_claim, {"room": "3\n"}),
        (schema.parse_heartbeat, {"devices": {"printer\n": {"state": "ok"}}}),
        (schema.parse_print_status, {"transaction_id": 1, "job_id": "rcpt-1\n", "ok": True}),
    ],
)
def test_patterns_refuse_a_trailing_newline(parse: Any, payload: Any) -> None:
    refused(parse, payload)


def test_the_registry_has_every_event_with_its_parser_and_schema() -> None:
    assert len(schema.PAYLOADS) == 48
    assert schema.PAYLOADS["therapist_start_service"].parse({"transaction_id": 3, "therapist_token": "t"}) == (
        schema.TxnAction(3, "t", None)
    )
    assert schema.PAYLOADS["cashier_release"].parse({"transaction_id": 3, "cashier_token": "c"}).acting_token == "c"
    assert "unknown field" in refused(schema.PAYLOADS["cancel_transaction"].parse, {"transaction_id": 3, "x": 1})
    assert schema.PAYLOADS["desk_sign_out"].parse(None) == schema.Empty()
    for payload in schema.PAYLOADS.values():
        assert payload.json_schema()["$schema"] == schema.DRAFT


def test_one_declaration_gives_the_schema_its_bounds() -> None:
    order = schema.PAYLOADS["customer_confirm_selection"].json_schema()
    assert order["required"] == ["customer_name", "items"]
    assert order["properties"]["customer_name"]["maxLength"] == schema.MAX_NAME
    items = order["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, schema.MAX_ITEMS)
    assert items["items"]["properties"]["quantity"] == {"type": "integer", "minimum": 1, "maximum": 20, "default": 1}
    claim = schema.PAYLOADS["therapist_confirm_next"].json_schema()
    assert claim["type"] == ["object", "null"]  # nothing required: no payload is fine
    assert claim["properties"]["room"]["anyOf"][0]["pattern"] == ROOM_RE.pattern
    assert schema.PAYLOADS["queue_snapshot"].json_schema()["properties"] == {}
