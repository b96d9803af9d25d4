"""The wire contract as a document: JSON Schemas (draft 2020-12) for every acknowledgement and
every server → client event, and the AsyncAPI 3.0 document that puts them beside the payload
schemas of `schema.py`. Pure data built from the code: `python -m server contract` prints it and
docs/asyncapi.json is its checked-in copy (a test fails when the two differ).

Server → client objects are closed (`additionalProperties: false`) so the contract tests catch a
field the document does not name; clients should still ignore fields they do not know.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

from common.wire import ERROR_MEANINGS, RETRY_CLASS, CancelReason, ErrorCode, Limits, PaymentMethod, PriorityReason

from ..domain.actors import DeviceRole, StaffRole
from ..domain.moves import Move
from ..domain.status import REACHED_AT, TxnStatus
from .schema import DRAFT, FRONT_DESK_EVENTS, PAYLOADS

JSON = dict[str, Any]
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"


# ---- small builders ----------------------------------------------------------------------------


def obj(required: JSON, optional: JSON | None = None, description: str = "") -> JSON:
    """A closed object: these fields, no others."""
    schema: JSON = {"type": "object"}
    if description:
        schema["description"] = description
    schema["properties"] = {**required, **(optional or {})}
    schema["required"] = list(required)
    schema["additionalProperties"] = False
    return schema


def nullable(schema: JSON) -> JSON:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: JSON, max_items: int | None = None) -> JSON:
    return {"type": "array", "items": items, **({"maxItems": max_items} if max_items is not None else {})}


def enum(values: list[str], description: str = "") -> JSON:
    return {"type": "string", "enum": values, **({"description": description} if description else {})}


STRING = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": Limits.MAX_ID}
COUNT = {"type": "integer", "minimum": 0}
MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "exact, two decimal places"}
# server/service/views.py `iso`: UTC to the millisecond with a Z, what JavaScript's Date parses.
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIME = {"type": "string", "format": "date-time", "pattern": rf"^{_DATE}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}\.[0-9]{{3}}Z$"}
# device_activity's `at` is written apart from the views (to the microsecond, today).
INSTANT = {"type": "string", "format": "date-time", "pattern": rf"^{_DATE}T[0-9:]{{8}}(\.[0-9]{{1,6}})?Z$"}
DAY = {"type": "string", "format": "date", "pattern": f"^{_DATE}$"}
CODE = {"type": "string", "pattern": r"^[A-Z]{1,3}-[0-9]{3}$", "description": "A-001 … A-999, B-001 …, daily"}
STATUS = enum([s.value for s in TxnStatus])
VERSION = {"type": "integer", "minimum": 0, "description": "the queue version; +1 for every committed change"}
# The `reason` of a queue change: the literals the service passes with each change.
REASONS = (
    "created claimed started service_added finished cashier_claimed paid released cancelled "
    "no_show recalled transferred item_removed start_undone finish_undone priority_set priority_cleared "
    "discounted voided refunded"
).split()
APPLIANCE_STATES = ["ok", "degraded", "silent", "never_seen"]  # server/service/appliances.py
OK = {"ok": {"const": True}}
REPLAYED = {"replayed": {"const": True, "description": "a repeated idempotency_key: the first result again"}}


# ---- the views (server/service/views.py) -----------------------------------------------------

PUBLIC_FIELDS: JSON = {
    "id": ID,
    "code": CODE,
    "first_name": STRING,
    "status": STATUS,
    "room": nullable(STRING),
    "cashier_desk": nullable(STRING),
    "total_minutes": COUNT,
    "queue_since": TIME,
    "service_started_at": nullable(TIME),
    "row_version": INT,
}
PUBLIC_VIEW = obj(PUBLIC_FIELDS, description="Public view (lobby, kiosk): a code and a first name, never a full name")
PERSON = nullable(obj({"id": ID, "name": STRING}))
ITEM = obj(
    {
        "id": ID,
        "service_id": ID,
        "name": STRING,
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price": MONEY,
        "line_total": MONEY,
        "duration_min": COUNT,
        "added_by": {"type": "string", "description": "who added it: 'device:1', 'staff:2'"},
    },
    {
        "discount": {**MONEY, "description": "taken off this line (its own discount; the order's is apart)"},
        "discount_reason": nullable(STRING),
        "tax_rate": {"type": "string", "description": "percent, exact: '19.00'"},
    },
)
TIMESTAMPS = obj({name: nullable(TIME) for name in REACHED_AT.values()})
STAFF_FIELDS: JSON = {
    **PUBLIC_FIELDS,
    "customer_name": STRING,
    "business_day": DAY,
    "therapist": PERSON,
    "cashier": PERSON,
    "items": array(ITEM),
    "total": MONEY,
    "timestamps": TIMESTAMPS,
}
STAFF_OPTIONAL: JSON = {
    "allowed": {
        **array(enum([m.value for m in Move])),
        "description": "the moves the domain allows now, so screens do not re-encode the statuses",
    },
    "queue_place": {"type": "string", "description": "an opaque sort key: the queue's order (FIFO)"},
    "priority": {"type": "boolean", "description": "called before everyone without it (FIFO among themselves)"},
    "priority_reason": nullable(enum([r.value for r in PriorityReason])),
    "cancel_reason": nullable(enum([*(r.value for r in CancelReason), "void"], "void: cancelled at the till")),
    "unservable": {
        "type": "boolean",
        "description": "waiting, and nobody on shift can do all of its services (broadcasts and snapshots)",
    },
    "order_discount": {**MONEY, "description": "the order's discount, after the lines' own"},
    "order_discount_reason": nullable(STRING),
    "recall_until": {**TIME, "description": "a no-show: the front desk may recall them until then"},
}
STAFF_VIEW = obj(STAFF_FIELDS, STAFF_OPTIONAL, "Staff view: the public view plus the customer, people and items")
WAIT = {
    **nullable(COUNT),
    "description": "minutes, rounded up; null: nobody on shift can do all of this customer's services",
}
CALL_AT = {
    **nullable(TIME),
    "description": "when the customer is likely called (screens show it as a time of day, 'about 14:40')",
}
PLACE = {"position": {"type": "integer", "minimum": 1}, "estimated_wait_min": WAIT}
PLACE_OPTIONAL = {"estimated_call_at": CALL_AT}
WAITING = {
    "anyOf": [
        obj({**STAFF_FIELDS, **PLACE}, {**STAFF_OPTIONAL, **PLACE_OPTIONAL}),
        obj({**PUBLIC_FIELDS, **PLACE}, PLACE_OPTIONAL),
    ]
}
ANY_VIEW = {"anyOf": [STAFF_VIEW, PUBLIC_VIEW], "description": "a staff view for staff callers, else a public view"}
CUSTOMER_VIEW = obj(
    {
        "version": VERSION,
        "transaction_id": ID,
        "code": CODE,
        "first_name": STRING,
        "status": STATUS,
        "room": nullable(STRING),
        "cashier_desk": nullable(STRING),
        "position": nullable(PLACE["position"]),
        "estimated_wait_min": WAIT,
    },
    PLACE_OPTIONAL,
)
POSITION_UPDATE = obj(
    {
        "version": VERSION,
        "transaction_id": ID,
        "status": STATUS,
        "position": PLACE["position"],
        "estimated_wait_min": WAIT,
    },
    PLACE_OPTIONAL,
    description="customers ahead moved (at most every 0.5 s)",
)
INTAKE = obj(
    {
        "state": enum(["open", "closed", "last_entry_passed", "full"]),
        "opens_at": nullable(TIME),
        "closes_at": nullable(TIME),
        "last_entry_at": nullable(TIME),
        "estimated_wait_min": WAIT,
        "max_wait_min": nullable(COUNT),
    },
    description="whether the kiosk takes a new customer now (queue_closed, queue_full otherwise), and the wait "
    "it would quote",
)
ROSTER = {
    "therapists": array(
        obj(
            {
                "id": ID,
                "name": STRING,
                "on_shift": BOOL,
                "room": nullable(STRING),
                "skills": array(ID),
                "with": {**array(CODE), "description": "the codes of the customers they have now"},
            }
        )
    ),
    "rooms": array(obj({"id": ID, "name": STRING})),
}
STAFF_MEMBER = obj({"id": ID, "name": STRING, "role": enum([r.value for r in StaffRole])})
PAID_WITH = enum([*(m.value for m in PaymentMethod), "split"], "split: cash and card in one payment")
TENDERS = array(obj({"method": enum([m.value for m in PaymentMethod]), "amount": MONEY}), 2)
RATE = {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "a tax rate in percent, exact"}
RECEIPT_NUMBER = {
    "type": "string",
    "pattern": r"^T[0-9]{2,}-[0-9]{4}-[0-9]{6}$",
    "description": "T<till>-<year>-<n>: gap-free per till and year (the daily code is apart)",
}
RECEIPT = obj(
    {
        "spa_name": STRING,
        "spa_address": STRING,
        "currency": STRING,
        "code": CODE,
        "paid_at": TIME,
        "cashier": STRING,
        "items": array(
            obj(
                {"name": STRING, "quantity": {"type": "integer", "minimum": 1}, "unit_price": MONEY},
                {"discount": MONEY, "discount_reason": STRING, "tax_rate": RATE},
            )
        ),
        "total": MONEY,
        "paid": MONEY,
        "change": MONEY,
        "method": PAID_WITH,
    },
    {
        "copy": {"const": True, "description": "a reprint: printed with COPY on it"},
        "receipt_number": nullable(RECEIPT_NUMBER),
        "timezone": {"type": "string", "description": "the spa's IANA zone: the receipt shows local time"},
        "order_discount": MONEY,
        "order_discount_reason": STRING,
        "prices_include_tax": BOOL,
        "taxes": array(obj({"rate": RATE, "net": MONEY, "tax": MONEY, "gross": MONEY})),
        "tip": MONEY,
        "tenders": TENDERS,
    },
)
PRINT_JOB = obj({"job_id": STRING, "transaction_id": ID, "open_drawer": BOOL, "receipt": RECEIPT})
DOCUMENT_KINDS = ["void", "refund", "till_open", "cash_in", "cash_out", "x_report", "z_report", "ticket"]
DOCUMENT = obj(
    {
        "kind": enum(DOCUMENT_KINDS),
        "title": STRING,
        "number": nullable(RECEIPT_NUMBER),
        "spa_name": STRING,
        "spa_address": STRING,
        "timezone": STRING,
        "at": TIME,
        "till": STRING,
        "lines": array(obj({"label": STRING, "value": STRING})),
    },
    {
        "code": {**CODE, "description": "a kiosk's ticket: the ticket code, printed big"},
        "url": {
            "type": "string",
            "description": "a kiosk's ticket: the phone page for the QR code; a path (/t/<public_id>) when "
            "SPA_PUBLIC_URL is unset, which the appliance puts its server address in front of",
        },
    },
    description="A slip or a report: labelled lines, money already formatted with the currency; or a kiosk's "
    "ticket (kind ticket, with code and url; `till` is then the kiosk's name)",
)
DOCUMENT_JOB = obj(
    {"job_id": STRING, "transaction_id": nullable(ID), "open_drawer": BOOL, "document": DOCUMENT},
    description="A till's slip (void, refund, cash in/out, opening) or report (X, Z); a kiosk's printed ticket",
)
ANY_JOB = {"anyOf": [PRINT_JOB, DOCUMENT_JOB]}
DEVICE_HEALTH = obj({}, {"state": STRING, "detail": STRING, "last_event_at": {"type": "number"}})
DEVICES = {"type": "object", "additionalProperties": DEVICE_HEALTH}
APPLIANCE = obj(
    {
        "name": STRING,
        "role": enum([r.value for r in DeviceRole]),
        "state": enum(APPLIANCE_STATES, "degraded: a device reports anything but ok or closed; silent: no heartbeat"),
        "last_heartbeat_at": nullable(TIME),
        "devices": DEVICES,
        "software": nullable(STRING),
    }
)
PAYMENT = obj(
    {
        "id": ID,
        "amount_due": MONEY,
        "amount_paid": MONEY,
        "change": MONEY,
        "method": PAID_WITH,
        "paid_at": TIME,
    },
    {
        "tip": {**MONEY, "description": "for the therapist, on top of amount_due"},
        "receipt_number": nullable(RECEIPT_NUMBER),
        "tenders": TENDERS,
    },
)
SESSION = obj(
    {"id": ID, "opened_at": TIME, "opened_by": STRING, "float": MONEY, "closed_at": nullable(TIME)},
    description="a till's cash drawer session",
)
BY_METHOD = obj({"cash": MONEY, "card": MONEY})
DRAWER_REPORT = obj(
    {
        "kind": enum(["x", "z"]),
        "session": ID,
        "opened_at": TIME,
        "opened_by": STRING,
        "at": TIME,
        "float": MONEY,
        "sales": BY_METHOD,
        "tips": MONEY,
        "refunds": BY_METHOD,
        "cash_in": MONEY,
        "cash_out": MONEY,
        "expected": BY_METHOD,
        "payments": COUNT,
        "first_receipt": nullable(RECEIPT_NUMBER),
        "last_receipt": nullable(RECEIPT_NUMBER),
    },
    {
        "closed_at": TIME,
        "counted": obj(
            {
                "cash": MONEY,
                "card": nullable(MONEY),
                "denominations": {
                    "type": "object",
                    "description": "denomination in cents → how many",
                    "additionalProperties": COUNT,
                },
            }
        ),
        "over_short": obj({"cash": MONEY, "card": nullable(MONEY)}),
    },
    "X (any time) or Z (at close): expected against counted per method; over_short < 0 is short",
)
REFUND_RESULT = obj(
    {
        "id": ID,
        "amount": MONEY,
        "method": enum([m.value for m in PaymentMethod]),
        "receipt_number": nullable(RECEIPT_NUMBER),
        "items": array(obj({"item_id": ID, "quantity": {"type": "integer", "minimum": 1}, "amount": MONEY})),
    }
)
SERVICE = obj({"id": ID, "name": STRING, "price": MONEY, "duration_min": COUNT, "active": BOOL})
ERROR = obj(
    {
        "ok": {"const": False},
        "error": obj(
            {
                "code": {
                    **enum([c.value for c in ErrorCode]),
                    "description": "; ".join(f"{c.value}: {RETRY_CLASS[c].value}" for c in ErrorCode),
                    "x-retry": {c.value: RETRY_CLASS[c].value for c in ErrorCode},
                },
                "message": STRING,
            }
        ),
    },
    description="A refusal: nothing was changed. `final` codes are dropped, `retry` ones sent again later.",
)


# ---- acknowledgements: {"ok": true, …} per event; every event may also answer ERROR ------------


def command_ack(fields: JSON) -> JSON:
    """A stored command (idempotency key): a repeat answers the first result plus `replayed`."""
    return obj({**OK, **fields}, REPLAYED)


TRANSACTION_ACK = command_ack({"transaction": STAFF_VIEW})
EMPTY_ACK = obj(OK)


def subscribed(room: str) -> JSON:
    return obj({**OK, "room": {"const": room}})


ACKS: dict[str, JSON] = {
    "customer_confirm_selection": command_ack(
        {
            "transaction_id": ID,
            "code": CODE,
            "status": STATUS,
            "position": PLACE["position"],
            "estimated_wait_min": WAIT,
            "estimated_call_at": CALL_AT,
            "public_id": {
                "type": "string",
                "pattern": Limits.PUBLIC_ID,
                "description": "the ticket's id: its phone page, and the kiosk's proof for cancelling",
            },
            "ticket_path": {"type": "string", "description": "/t/<public_id>: the phone page (the QR code's target)"},
            "total": MONEY,
            "items": array(obj({"service_id": ID, "name": STRING, "quantity": {"type": "integer", "minimum": 1}})),
            "print_job": {
                **nullable(DOCUMENT_JOB),
                "description": "the paper ticket (sent as print_document): only for a kiosk whose appliance "
                "says it has a printer (appliance_heartbeat.prints)",
            },
        }
    ),
    "therapist_confirm_next": TRANSACTION_ACK,
    "therapist_start_service": TRANSACTION_ACK,
    "therapist_add_service": TRANSACTION_ACK,
    "therapist_finish_service": TRANSACTION_ACK,
    "therapist_release": TRANSACTION_ACK,
    "cashier_claim_next": TRANSACTION_ACK,
    "cashier_lookup": TRANSACTION_ACK,
    "cashier_pay": command_ack(
        {"change": MONEY, "payment": PAYMENT, "print_job": nullable(PRINT_JOB), "transaction": STAFF_VIEW}
    ),
    "cashier_discount": TRANSACTION_ACK,
    "cashier_void": command_ack({"print_job": nullable(DOCUMENT_JOB), "transaction": STAFF_VIEW}),
    "cashier_refund": command_ack(
        {"refund": REFUND_RESULT, "print_job": nullable(DOCUMENT_JOB), "transaction": STAFF_VIEW}
    ),
    "till_open": command_ack({"session": SESSION, "print_job": nullable(DOCUMENT_JOB)}),
    "till_cash": command_ack(
        {
            "movement": obj({"id": ID, "kind": enum(["in", "out"]), "amount": MONEY}),
            "expected_cash": MONEY,
            "print_job": nullable(DOCUMENT_JOB),
        }
    ),
    "till_report_x": obj({**OK, "report": DRAWER_REPORT, "print_job": nullable(DOCUMENT_JOB)}),
    "till_close": command_ack({"report": DRAWER_REPORT, "print_job": nullable(DOCUMENT_JOB)}),
    "till_status": obj({**OK, "open": BOOL, "session": nullable(SESSION)}, {"report": DRAWER_REPORT}),
    "cashier_release": TRANSACTION_ACK,
    "cancel_transaction": TRANSACTION_ACK,
    "queue_snapshot": obj(
        {
            **OK,
            "version": VERSION,
            "server_time": TIME,
            "therapists_on_duty": {"type": "integer", "minimum": 0, "description": "therapists on shift"},
            "waiting": {**array(WAITING), "description": "in call order: priority first, then first come"},
            "with_therapist": array(ANY_VIEW),
            "awaiting_payment": array(ANY_VIEW),
            "paying": array(ANY_VIEW),
            "intake": INTAKE,
        },
        {"no_shows": {**array(STAFF_VIEW), "description": "staff only: no-shows the front desk may still recall"}},
    ),
    "get_transaction": obj({**OK, "transaction": ANY_VIEW}),
    "service_catalog": obj({**OK, "services": array(SERVICE)}),
    "therapist_subscribe": subscribed("therapist_queue"),
    "cashier_subscribe": subscribed("cashier_queue"),
    "monitor_subscribe": subscribed("monitor"),
    # The customer view; its `room` is the therapist's room, not the Socket.IO room joined (txn_<id>).
    "customer_subscribe": obj({**OK, **CUSTOMER_VIEW["properties"]}),
    "appliance_heartbeat": EMPTY_ACK,
    "receipt_reprint": obj({**OK, "job_id": STRING}),
    "receipt_status": EMPTY_ACK,
    "print_jobs_pending": obj({**OK, "jobs": array(ANY_JOB)}),
    "desk_sign_in": obj({**OK, "staff": STAFF_MEMBER}),
    "desk_sign_out": obj({**OK, "signed_out": {"type": "boolean", "description": "someone was signed in"}}),
    "device_activity": EMPTY_ACK,
    "appliances_snapshot": obj({**OK, "appliances": array(APPLIANCE)}),
    **{event: TRANSACTION_ACK for event in FRONT_DESK_EVENTS},
    **{
        event: obj({**OK, "staff_id": ID, "on_shift": BOOL, "changed": BOOL, **ROSTER})
        for event in ("shift_start", "shift_end")
    },
    "therapist_choose_room": obj({**OK, "staff_id": ID, "room": nullable(STRING), **ROSTER}),
    "staff_roster": obj({**OK, **ROSTER}),
    "room_list": obj({**OK, "rooms": ROSTER["rooms"]}),
}


def ack_schema(event: str) -> JSON:
    """Everything `event` may be acknowledged with: its own result, or the shared refusal."""
    return {"$schema": DRAFT, "title": f"{event} acknowledgement", "oneOf": [ACKS[event], ERROR]}


# ---- server → client events: (who receives it, payload) ----------------------------------------


def queue_change(view: JSON) -> JSON:
    return obj({"version": VERSION, "reason": enum(REASONS), "transaction": view})


OUTBOUND: dict[str, tuple[str, JSON]] = {
    "therapist_queue_updated": ("room therapist_queue", queue_change(STAFF_VIEW)),
    "cashier_queue_updated": ("room cashier_queue", queue_change(STAFF_VIEW)),
    "monitor_updated": (
        "room monitor",
        obj(
            {
                "version": VERSION,
                "reason": enum(REASONS),
                "transaction": PUBLIC_VIEW,
                "estimates": array(obj({"id": ID, **PLACE}, PLACE_OPTIONAL), 50),
            },
            {"intake": INTAKE},
        ),
    ),
    "customer_txn_update": ("room txn_<id>", {"anyOf": [CUSTOMER_VIEW, POSITION_UPDATE]}),
    "appliances_updated": ("room monitor, when an appliance's state changes", obj({"appliances": array(APPLIANCE)})),
    "receipt_status": (
        "room cashier_queue (a till's jobs only) and the printing device's connections",
        obj(
            {
                "transaction_id": nullable(ID),
                "job_id": STRING,
                "ok": BOOL,
                "state": STRING,
                "detail": STRING,
                "device": STRING,
                "unknown": {
                    "type": "boolean",
                    "description": "sent, not confirmed: the till asks the cashier whether it printed",
                },
            }
        ),
    ),
    "print_receipt": ("the till (device_<id>); again on every connect until reported printed", PRINT_JOB),
    "print_document": (
        "the till (device_<id>): a slip or report; a kiosk with a printer: the ticket of its new order. Again on "
        "every connect until reported printed (a ticket only within 5 minutes of the order)",
        DOCUMENT_JOB,
    ),
    "desk_signed_in": ("the device's connections", obj({"staff": STAFF_MEMBER})),
    "desk_signed_out": ("the device's connections", obj({"signed_out": BOOL})),
    "appliance_status": ("the device's connections", obj({"device": STRING, "devices": DEVICES})),
    "device_activity": ("the device's connections (the kiosk page restarts its idle timer)", obj({"at": INSTANT})),
    "cashier_pay_result": (
        "the paying connection (the original design's cashier screens)",
        {"oneOf": [obj({**OK, "transaction_id": ID, "change": MONEY}), ERROR]},
    ),
    "signed_out": (
        "a connection whose caller may no longer act (token revoked, PIN session ended), before it is closed",
        obj({"code": enum([c.value for c in ErrorCode]), "message": STRING}),
    ),
    "customer_selection_received": ("the ordering kiosk's connection", obj({"transaction_id": ID})),
    "roster_updated": (
        "rooms therapist_queue and cashier_queue: a therapist went on or off shift, or to another room",
        obj(ROSTER),
    ),
    "cashier_lookup_result": (
        "the till's connections, when its appliance looked a code up",
        {"oneOf": [ACKS["cashier_lookup"], ERROR]},
    ),
}


def event_schema(event: str) -> JSON:
    return {"$schema": DRAFT, "title": event, **OUTBOUND[event][1]}


# ---- the AsyncAPI document --------------------------------------------------------------------

# Who may send each command and what it does (PROTOCOL.md has the long form).
SUMMARIES: dict[str, str] = {
    "customer_confirm_selection": "kiosk: order services; the customer joins the therapist queue",
    "therapist_confirm_next": "therapist, room: claim the oldest waiting customer",
    "therapist_start_service": "therapist, room: therapist_confirmed → in_service",
    "therapist_add_service": "therapist, room: add a service while claimed or in service",
    "therapist_finish_service": "therapist, room: in_service → awaiting_payment",
    "therapist_release": "therapist, room: give an unstarted claim back to its place in the queue",
    "cashier_claim_next": "cashier: claim the oldest customer waiting to pay",
    "cashier_lookup": "cashier: a code typed or scanned at the till; claimed when it waits to pay",
    "cashier_pay": "cashier: take the payment; the receipt prints at the till",
    "cashier_release": "cashier: put a payment back in the cashier queue at its place",
    "cancel_transaction": "front desk (cashier, desk, admin): waiting, claimed or no-show; a therapist: their own "
    "claim; a kiosk: its own waiting customer, with the ticket",
    "queue_snapshot": "anyone: the whole live queue at one version",
    "get_transaction": "anyone: one transaction (staff or public view)",
    "service_catalog": "anyone: the active services",
    "therapist_subscribe": "therapist, room: join therapist_queue",
    "cashier_subscribe": "cashier: join cashier_queue",
    "monitor_subscribe": "anyone: join monitor",
    "customer_subscribe": "kiosk, staff: join txn_<id>",
    "appliance_heartbeat": "devices: the appliance's device health",
    "receipt_reprint": "cashier: print a copy of a paid transaction's receipt",
    "receipt_status": "till, kiosk: a print job's result",
    "print_jobs_pending": "till, kiosk: the print jobs not yet printed",
    "desk_sign_in": "till, room box: a scanned staff badge signs that person in at the desk",
    "desk_sign_out": "till, room box: sign the desk out",
    "device_activity": "devices: someone touched the device",
    "appliances_snapshot": "anyone: every appliance's state",
    "front_desk_no_show": "front desk; a therapist on their own claim: a called customer who did not come",
    "front_desk_recall": "front desk: a no-show back to their original place (within the recall window)",
    "front_desk_give_back": "front desk; a therapist on their own claim: an unstarted claim back to its place",
    "front_desk_undo_start": "front desk; a therapist on their own customer: in_service → therapist_confirmed",
    "front_desk_undo_finish": "front desk; a therapist on their own customer: awaiting_payment → in_service",
    "front_desk_transfer": "front desk; a therapist on their own claim: hand a claimed customer to another therapist",
    "front_desk_assign": "front desk (for a therapist), a therapist (for themselves): pick a waiting customer",
    "front_desk_remove_item": "front desk; a therapist on their own customer: remove an item before payment",
    "front_desk_priority": "front desk: priority on or off for a waiting customer",
    "shift_start": "a therapist (themselves), the front desk (anyone): on shift",
    "shift_end": "a therapist (themselves), the front desk (anyone): off shift",
    "therapist_choose_room": "a therapist: the room their calls send customers to",
    "staff_roster": "staff: the therapists (on shift, room, skills, whom they have) and the rooms",
    "room_list": "anyone: the spa's rooms",
    "cashier_discount": "cashier, front desk: a line or order discount (percent or amount, with a reason; a "
    "manager's PIN above the threshold); value 0 takes it off",
    "cashier_void": "cashier: cancel a bill before payment, with a manager's PIN; a void slip prints",
    "cashier_refund": "cashier: money back after payment (whole or per item), with a manager's PIN; an entry of "
    "its own, a slip prints, cash opens the drawer",
    "till_open": "till: open the cash drawer's session with a float",
    "till_cash": "till: cash put in or taken out of the drawer, with a reason",
    "till_report_x": "till: the X report (what the drawer should hold now); printed and kept",
    "till_close": "till: close the session with the counted cash; the Z report prints and is kept",
    "till_status": "till: whether its drawer is open, and what it should hold",
}

INFO = """The Socket.IO protocol of the spa queue server (docs/PROTOCOL.md explains it).

Generated from the code by `python -m server contract`; do not edit. The application described is
the server: it receives the clients' commands (each acknowledged, as the operation's reply) and
sends the events. Each channel's address is a Socket.IO event name in the default namespace `/`.

Connect with `auth: {token}` over WebSocket (path /socket.io/). Every command is acknowledged with
`{"ok": true, …}` or `{"ok": false, "error": {"code", "message"}}`; a refused command changes
nothing. Integers are sent as integer literals (1, not 1.0); no unknown fields; a message larger
than 16 KiB disconnects its sender. Money is exact: amounts are decimal strings with two places;
`amount_paid` also takes a JSON number with at most two decimals."""


def _message(name: str, schema: JSON, summary: str = "") -> JSON:
    message: JSON = {"name": name, "contentType": "application/json"}
    if summary:
        message["summary"] = summary
    message["payload"] = {"schemaFormat": SCHEMA_FORMAT, "schema": schema}
    return message


def asyncapi() -> JSON:
    channels: JSON = {}
    operations: JSON = {}
    messages: JSON = {"error": _message("error", {"$schema": DRAFT, **ERROR})}
    for event, payload in PAYLOADS.items():
        key = f"client.{event}"
        messages[f"{event}.payload"] = _message(event, {"title": event, **payload.json_schema()}, SUMMARIES[event])
        messages[f"{event}.ok"] = _message(f"{event}.ok", {"$schema": DRAFT, "title": f"{event} ok", **ACKS[event]})
        channels[key] = {
            "address": event,
            "messages": {
                "payload": {"$ref": f"#/components/messages/{event}.payload"},
                "ok": {"$ref": f"#/components/messages/{event}.ok"},
                "error": {"$ref": "#/components/messages/error"},
            },
        }
        operations[key] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": SUMMARIES[event],
            "messages": [{"$ref": f"#/channels/{key}/messages/payload"}],
            "reply": {
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [
                    {"$ref": f"#/channels/{key}/messages/ok"},
                    {"$ref": f"#/channels/{key}/messages/error"},
                ],
            },
        }
    for event, (to, _) in OUTBOUND.items():
        key = f"server.{event}"
        messages[key] = _message(event, event_schema(event), f"to {to}")
        channels[key] = {"address": event, "messages": {"event": {"$ref": f"#/components/messages/{key}"}}}
        operations[key] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"to {to}",
            "messages": [{"$ref": f"#/channels/{key}/messages/event"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Spa queue",
            "version": version("spa-queue"),
            "description": INFO,
            "x-error-codes": [
                {"code": c.value, "retry": RETRY_CLASS[c].value, "meaning": ERROR_MEANINGS[c]} for c in ErrorCode
            ],
        },
        "defaultContentType": "application/json",
        "servers": {
            "spa": {
                "host": "spa.example.lan",
                "protocol": "wss",
                "pathname": "/socket.io/",
                "description": "Socket.IO (Engine.IO 4) over WebSocket; auth {token: 'st_…' | 'dv_…' | 'ss_…'}",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> str:
    """The document as checked in: stable key order, two-space indent, a final newline."""
    return json.dumps(asyncapi(), indent=2, ensure_ascii=False) + "\n"
