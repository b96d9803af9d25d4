"""docs/asyncapi.json: generated from the code, checked in, complete and internally consistent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.wire import RETRY_CLASS, ErrorCode
from server.cli import main
from server.protocol import contract
from server.protocol.schema import PAYLOADS
from tests.unit.test_contract_validator import wire_validator

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "docs" / "asyncapi.json"
PROTOCOL = ROOT / "docs" / "PROTOCOL.md"
REGENERATE = "python -m server contract --out docs/asyncapi.json"


def test_the_checked_in_document_is_what_the_code_generates() -> None:
    assert CHECKED_IN.exists(), f"docs/asyncapi.json is missing: run `{REGENERATE}`"
    if CHECKED_IN.read_text(encoding="utf-8") != contract.render():
        pytest.fail(f"docs/asyncapi.json differs from what the code generates: run `{REGENERATE}` and commit it")


def test_the_command_prints_and_writes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract"]) == 0
    assert capsys.readouterr().out == contract.render()
    out = tmp_path / "asyncapi.json"
    assert main(["contract", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == contract.render()


# The events of docs/PROTOCOL.md, written out: the document must describe every one.
CLIENT_EVENTS = """customer_confirm_selection therapist_confirm_next therapist_start_service therapist_add_service
therapist_finish_service therapist_release cashier_claim_next cashier_lookup cashier_pay cashier_release
cancel_transaction queue_snapshot get_transaction service_catalog therapist_subscribe cashier_subscribe
monitor_subscribe customer_subscribe appliance_heartbeat receipt_reprint receipt_status print_jobs_pending
desk_sign_in desk_sign_out device_activity appliances_snapshot front_desk_no_show front_desk_recall
front_desk_give_back front_desk_undo_start front_desk_undo_finish front_desk_transfer front_desk_assign
front_desk_remove_item front_desk_priority shift_start shift_end therapist_choose_room staff_roster
room_list cashier_discount cashier_void cashier_refund till_open till_cash till_report_x till_close
till_status""".split()
SERVER_EVENTS = """therapist_queue_updated cashier_queue_updated monitor_updated customer_txn_update print_receipt
receipt_status desk_signed_in desk_signed_out appliance_status appliances_updated device_activity cashier_pay_result
customer_selection_received cashier_lookup_result signed_out roster_updated print_document""".split()


def test_every_event_of_the_protocol_is_in_the_document() -> None:
    protocol = PROTOCOL.read_text(encoding="utf-8")
    assert all(f"`{name}" in protocol for name in CLIENT_EVENTS + SERVER_EVENTS)
    assert sorted(PAYLOADS) == sorted(CLIENT_EVENTS)
    assert sorted(contract.ACKS) == sorted(CLIENT_EVENTS) == sorted(contract.SUMMARIES)
    assert sorted(contract.OUTBOUND) == sorted(SERVER_EVENTS)
    addresses = {c["address"] for c in contract.asyncapi()["channels"].values()}
    assert addresses == set(CLIENT_EVENTS + SERVER_EVENTS)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return _resolve(doc, node["$ref"]) if "$ref" in node else node  # a channel's message refers on


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [node["$ref"]] if "$ref" in node else [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_hangs_together() -> None:
    doc = contract.asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    for ref in _refs(doc):
        _resolve(doc, ref)  # every reference points at something
    for key, operation in doc["operations"].items():
        channel = _resolve(doc, operation["channel"]["$ref"])
        assert channel["address"] in PAYLOADS or channel["address"] in contract.OUTBOUND
        # An operation's messages are its channel's (AsyncAPI 3.0 requires it).
        assert all(m["$ref"].startswith(operation["channel"]["$ref"] + "/messages/") for m in operation["messages"])
        assert operation["action"] == ("receive" if key.startswith("client.") else "send")
        if operation["action"] == "receive":
            replies = [_resolve(doc, m["$ref"]) for m in operation["reply"]["messages"]]
            assert replies[-1] is doc["components"]["messages"]["error"]
    for message in doc["components"]["messages"].values():
        payload = message["payload"]
        assert payload["schemaFormat"] == "application/schema+json;version=draft-2020-12"
        wire_validator(payload["schema"])  # each a valid draft 2020-12 schema
    assert json.loads(contract.render()) == doc


def test_error_codes_carry_their_retry_class() -> None:
    doc = contract.asyncapi()
    listed = {e["code"]: e["retry"] for e in doc["info"]["x-error-codes"]}
    assert listed == {c.value: RETRY_CLASS[c].value for c in ErrorCode}
    assert listed["conflict"] == "retry" and listed["invalid_payload"] == "final"
    error = doc["components"]["messages"]["error"]["payload"]["schema"]
    code = error["properties"]["error"]["properties"]["code"]
    assert code["enum"] == [c.value for c in ErrorCode] and code["x-retry"] == listed


@pytest.mark.parametrize("event", sorted(contract.ACKS))
def test_every_ack_is_its_result_or_the_shared_error(event: str) -> None:
    validator = wire_validator(contract.ack_schema(event))
    assert validator.is_valid({"ok": False, "error": {"code": "busy", "message": "try again"}})
    assert not validator.is_valid({"ok": False, "error": {"code": "oops", "message": "?"}})
    assert not validator.is_valid({"ok": True, "surprise": 1})


def test_the_payload_schemas_in_the_document_are_the_parsers() -> None:
    messages = contract.asyncapi()["components"]["messages"]
    for event, payload in PAYLOADS.items():
        assert messages[f"{event}.payload"]["payload"]["schema"] == {"title": event, **payload.json_schema()}
