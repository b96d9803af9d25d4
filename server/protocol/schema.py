"""Wire payload → validated command. Pure functions: no I/O, no Flask.

Each event's payload is declared once, as a `Payload` of `Field`s (name, kind, bounds, required
or optional); its parser and its JSON Schema (draft 2020-12, published in docs/asyncapi.json by
`contract.py`) are both derived from that declaration, so the two cannot drift. Limits and
patterns come from `common/wire.py`.

Every rule a hostile or broken client could break is checked here, so a handler only ever
sees well-formed values: right types, bounded sizes, no unknown fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Generic, Protocol, TypeVar

from common.wire import (
    DEVICE_NAME_RE,
    IDEMPOTENCY_KEY_RE,
    PUBLIC_ID_RE,
    ROOM_RE,
    CancelReason,
    Limits,
    PaymentMethod,
    PriorityReason,
)

from ..domain.codes import normalize_code
from ..domain.errors import CommandError, ErrorCode
from ..domain.money import MAX_AMOUNT_CENTS, amount_pattern, parse_amount
from ..service.commands import (
    AddService,
    Assign,
    Cancel,
    CashierClaim,
    CashMove,
    ChooseRoom,
    ConfirmSelection,
    DeskAction,
    DeskSignIn,
    Empty,
    Heartbeat,
    ItemRequest,
    Lookup,
    ManagerPin,
    Pay,
    PrintStatus,
    Prioritise,
    RefundRequest,
    RemoveItem,
    SetDiscount,
    Shift,
    TherapistClaim,
    TillClose,
    TillOpen,
    Transfer,
    TxnAction,
    TxnRef,
    Void,
)

__all__ = [
    "MAX_DEPTH",
    "PAYLOADS",
    "AddService",
    "CashierClaim",
    "ConfirmSelection",
    "DeskSignIn",
    "Empty",
    "Heartbeat",
    "ItemRequest",
    "Lookup",
    "Pay",
    "Payload",
    "PrintStatus",
    "TherapistClaim",
    "TxnAction",
    "TxnRef",
    "check_json",
]

JSON = dict[str, Any]
DRAFT = "https://json-schema.org/draft/2020-12/schema"
MAX_ID = Limits.MAX_ID
MAX_ITEMS = Limits.MAX_ITEMS
MAX_QUANTITY = Limits.MAX_QUANTITY
MAX_NAME = Limits.MAX_NAME
MAX_TOKEN = Limits.MAX_TOKEN
METHODS = tuple(m.value for m in PaymentMethod)
UNIX_TIME_END = 2**33  # year 2242: a clock that far off is broken, not early

# What JSON Schema cannot say about free text; the schema carries it as a description, and the
# `x-text` annotation marks the fields it applies to (the contract tests read it).
TEXT_RULE = (
    "Free text: trimmed of surrounding whitespace and NFC-normalised before its length is counted; "
    "never blank; control, format, surrogate, private-use and unassigned characters (Unicode "
    "categories Cc, Cf, Cs, Co, Cn) are refused. The bounds here apply to the text as sent."
)
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")
# The server reads patterns with Python's re, where \w is any Unicode letter, digit or '_';
# ECMA-262 (which JSON Schema names) reads it as ASCII only, so a client checking by the schema is
# stricter than the server, never looser. The server matches whole strings (fullmatch): Python's
# `$` alone would let '3\n' be a room.
UNICODE_WORD_NOTE = "\\w is any Unicode letter, digit or '_'"
# A ticket code as a scanner or a person types it (`normalize_code` reads it): surrounding
# whitespace, spaces between the characters, either case, an optional '-', leading zeros left
# out, never 0. That is exact, except that str.upper also folds a few non-ASCII letters (ß, ſ, ı,
# the ﬀ ligatures) into ASCII ones: the server may take those; the contract does not offer them.
TYPED_CODE = r"^\s*[A-Za-z]( *[A-Za-z]){0,2} *(- *)?(?=[0 ]*[1-9])[0-9]( *[0-9]){0,2}\s*$"


def invalid(message: str) -> CommandError:
    return CommandError(ErrorCode.INVALID_PAYLOAD, message)


# Deeper than any payload here (a heartbeat's devices.<name>.state is 3); refused before parsing.
MAX_DEPTH = 8


def check_json(payload: object, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a payload nested deeper than `max_depth` or holding anything but JSON values
    (python-socketio hands binary attachments over as bytes). Iterative, so no payload can
    exhaust the stack; linear in the payload's size, which the transport bounds."""
    stack: list[tuple[object, int]] = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= max_depth:
                raise invalid(f"the payload nests deeper than {max_depth} levels")
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
        elif not (value is None or isinstance(value, str | int | float)):
            raise invalid("binary attachments are not accepted" if isinstance(value, bytes | bytearray) else "not JSON")


# ---- kinds of field: each parses a value and describes itself as JSON Schema ------------------


class Kind(Protocol):
    def parse(self, value: object, where: str) -> Any: ...

    def schema(self) -> JSON: ...


@dataclass(frozen=True)
class Integer:
    lo: int = 1
    hi: int = MAX_ID

    def parse(self, value: object, where: str) -> int:
        # bool is an int in Python and 1.0 a float: neither is an id on the wire.
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{where} must be an integer")
        if not self.lo <= value <= self.hi:
            raise invalid(f"{where} must be between {self.lo} and {self.hi}")
        return value

    def schema(self) -> JSON:
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}


@dataclass(frozen=True)
class Text:
    max_len: int

    def parse(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise invalid(f"{where} must be a string")
        text = unicodedata.normalize("NFC", value).strip()
        if not text:
            raise invalid(f"{where} must not be empty")
        if len(text) > self.max_len:
            raise invalid(f"{where} must be at most {self.max_len} characters")
        if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
            raise invalid(f"{where} contains control or unassigned characters")
        return text

    def schema(self) -> JSON:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": self.max_len,
            "pattern": r"\S",
            "description": TEXT_RULE,
            "x-text": "trimmed, NFC, no control or unassigned characters",
        }


@dataclass(frozen=True)
class Token:
    def parse(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_TOKEN:
            raise invalid(f"{where} must be a token string")
        return value

    def schema(self) -> JSON:
        return {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN, "description": "st_…, dv_… or ss_… token"}


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    rule: str  # what the pattern means, for the refusal: "must be 1-32 letters, …"

    def parse(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not self.regex.fullmatch(value):
            raise invalid(f"{where} {self.rule}")
        return value

    def schema(self) -> JSON:
        note = f" ({UNICODE_WORD_NOTE})" if "\\w" in self.regex.pattern else ""
        return {"type": "string", "pattern": self.regex.pattern, "description": f"{self.rule}{note}"}


@dataclass(frozen=True)
class Choice:
    values: type[StrEnum]

    def parse(self, value: object, where: str) -> StrEnum:
        allowed = [m.value for m in self.values]
        if not isinstance(value, str) or value not in allowed:
            raise invalid(f"{where} must be " + " or ".join(repr(v) for v in allowed))
        return self.values(value)

    def schema(self) -> JSON:
        return {"type": "string", "enum": [m.value for m in self.values]}


@dataclass(frozen=True)
class Flag:
    def parse(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            raise invalid(f"{where} must be true or false")
        return value

    def schema(self) -> JSON:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Amount:
    def parse(self, value: object, where: str) -> int:
        return parse_amount(value, where)

    def schema(self) -> JSON:
        whole, cents = divmod(MAX_AMOUNT_CENTS, 100)
        return {
            "description": (
                "Money, exact: a decimal string with up to two places ('50.10'), or a JSON number with at most "
                "two decimals (50.1), read by its shortest decimal representation; never rounded."
            ),
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": whole if cents == 0 else MAX_AMOUNT_CENTS / 100,
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": amount_pattern()},
            ],
        }


@dataclass(frozen=True)
class TicketCode:
    def parse(self, value: object, where: str) -> str:
        if not isinstance(value, str) or len(value) > Limits.MAX_CODE:
            raise invalid(f"{where} must be a ticket code like 'A-042'")
        code = normalize_code(value)
        if code is None:
            raise invalid(f"{value[: Limits.MAX_CODE]!r} is not a ticket code like 'A-042'")
        return code

    def schema(self) -> JSON:
        return {
            "type": "string",
            "maxLength": Limits.MAX_CODE,
            "pattern": TYPED_CODE,
            "description": "A ticket code as a scanner types it: 'A-042', 'a042' and 'A-42' are all A-042.",
        }


@dataclass(frozen=True)
class UnixTime:
    def parse(self, value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < UNIX_TIME_END:
            raise invalid(f"{where} must be a unix time")
        return value

    def schema(self) -> JSON:
        return {"type": "number", "minimum": 0, "exclusiveMaximum": UNIX_TIME_END, "description": "seconds since 1970"}


@dataclass(frozen=True)
class ListOf:
    item: Kind
    min_items: int
    max_items: int
    noun: str  # "services": for "items must be a list of 1 to 20 services"

    def parse(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            raise invalid(f"{where} must be a list of {self.min_items} to {self.max_items} {self.noun}")
        return [self.item.parse(v, f"{where}[{i}]") for i, v in enumerate(value)]

    def schema(self) -> JSON:
        return {"type": "array", "minItems": self.min_items, "maxItems": self.max_items, "items": self.item.schema()}


@dataclass(frozen=True)
class MapOf:
    key: re.Pattern[str]
    key_rule: str  # the whole refusal, e.g. "device names are 1-40 letters, …"
    value: Kind
    max_entries: int
    noun: str

    def parse(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > self.max_entries:
            raise invalid(f"{where} must be an object of at most {self.max_entries} {self.noun}")
        parsed: dict[str, Any] = {}
        for name, entry in value.items():
            if not isinstance(name, str) or not self.key.fullmatch(name):
                raise invalid(self.key_rule)
            parsed[name] = self.value.parse(entry, f"{where}.{name}")
        return parsed

    def schema(self) -> JSON:
        return {
            "type": "object",
            "maxProperties": self.max_entries,
            "propertyNames": {"pattern": self.key.pattern},
            "additionalProperties": self.value.schema(),
        }


@dataclass(frozen=True)
class Field:
    """One field of an object. Absent (or null where `nullable`, or "" where `blank_absent`)
    means `default`; with no default the parsed object leaves the field out."""

    name: str
    kind: Kind
    required: bool = False
    default: Any = None
    nullable: bool = False
    blank_absent: bool = False
    doc: str = ""

    def absent(self, value: object) -> bool:
        return (self.nullable and value is None) or (self.blank_absent and value == "")

    def schema(self) -> JSON:
        alternatives = [self.kind.schema()]
        if self.blank_absent:
            alternatives.append({"const": ""})
        if self.nullable:
            alternatives.append({"type": "null"})
        schema: JSON = dict(alternatives[0]) if len(alternatives) == 1 else {"anyOf": alternatives}
        if self.doc:
            schema["description"] = ". ".join(filter(None, [self.doc, schema.get("description")]))
        if self.default is not None:
            schema["default"] = self.default
        return schema


@dataclass(frozen=True)
class Obj:
    fields: tuple[Field, ...]

    def parse(self, value: object, where: str) -> dict[str, Any]:
        required = {f.name for f in self.fields if f.required}
        if value is None and not required:
            return self.parse({}, where)  # no payload at all: every field absent
        if not isinstance(value, dict):
            raise invalid("payload must be an object")
        unknown = set(value) - {f.name for f in self.fields}
        if unknown:
            raise invalid(f"unknown field {sorted(map(str, unknown))[0]!r}")
        missing = required - set(value)
        if missing:
            raise invalid(f"missing field {sorted(missing)[0]!r}")
        parsed: dict[str, Any] = {}
        for f in self.fields:
            if f.name in value and not f.absent(value[f.name]):
                parsed[f.name] = f.kind.parse(value[f.name], f"{where}.{f.name}" if where else f.name)
            elif f.default is not None:
                parsed[f.name] = f.default
        return parsed

    def schema(self) -> JSON:
        required = [f.name for f in self.fields if f.required]
        schema: JSON = {
            # Nothing required: no payload (or null) means every field absent.
            "type": "object" if required else ["object", "null"],
            "properties": {f.name: f.schema() for f in self.fields},
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        return schema


# ---- payloads: one declaration per event, a parser and a JSON Schema from it ------------------

CommandT = TypeVar("CommandT", covariant=True)


@dataclass(frozen=True)
class Payload(Generic[CommandT]):
    fields: tuple[Field, ...]
    build: Callable[[dict[str, Any]], CommandT]
    doc: str = ""
    rules: tuple[str, ...] = ()  # what `build` checks across fields, which JSON Schema cannot say

    def parse(self, payload: object) -> CommandT:
        return self.build(Obj(self.fields).parse(payload, ""))

    def json_schema(self) -> JSON:
        description = " ".join([self.doc, *self.rules]).strip()
        return {"$schema": DRAFT, **({"description": description} if description else {}), **Obj(self.fields).schema()}


ID = Integer()
QUANTITY = Integer(1, MAX_QUANTITY)
KEY = Field(
    "idempotency_key",
    Pattern(IDEMPOTENCY_KEY_RE, "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'"),
    nullable=True,
    doc="the same key from the same caller has its effect once; the first result is acknowledged again",
)
TRANSACTION = Field("transaction_id", ID, required=True)


def token(name: str, doc: str = "act for this staff member (else the caller, or who signed in at the desk)") -> Field:
    return Field(name, Token(), nullable=True, doc=doc)


def _merge_items(items: list[dict[str, int]]) -> tuple[ItemRequest, ...]:
    quantities: dict[int, int] = {}
    for item in items:
        service_id = item["service_id"]
        quantities[service_id] = quantities.get(service_id, 0) + item["quantity"]
        if quantities[service_id] > MAX_QUANTITY:
            raise invalid(f"at most {MAX_QUANTITY} of one service")
    return tuple(ItemRequest(s, q) for s, q in quantities.items())


CONFIRM_SELECTION: Payload[ConfirmSelection] = Payload(
    (
        Field("customer_name", Text(MAX_NAME), required=True),
        Field(
            "items",
            ListOf(
                Obj((Field("service_id", ID, required=True), Field("quantity", QUANTITY, default=1))),
                1,
                MAX_ITEMS,
                "services",
            ),
            required=True,
        ),
        KEY,
    ),
    lambda p: ConfirmSelection(p["customer_name"], _merge_items(p["items"]), p.get("idempotency_key")),
    doc="An order from the kiosk.",
    rules=(f"Repeated services are added up, to at most {MAX_QUANTITY} of one service.",),
)
ROOM = Pattern(ROOM_RE, "must be 1-32 letters, digits, spaces, '.', '#' or '-'")
THERAPIST_CLAIM: Payload[TherapistClaim] = Payload(
    (
        token("therapist_token"),
        Field(
            "room",
            ROOM,
            nullable=True,
            doc="where the customer is sent (one of the spa's rooms); else the therapist's room, or a room box's",
        ),
        KEY,
    ),
    lambda p: TherapistClaim(p.get("therapist_token"), p.get("room"), p.get("idempotency_key")),
)


@cache
def txn_action(token_field: str | None) -> Payload[TxnAction]:
    """A command on one transaction; `token_field` names the acting-token field it takes, if any."""
    fields = (TRANSACTION, *((token(token_field),) if token_field else ()), KEY)
    return Payload(
        fields,
        lambda p: TxnAction(p["transaction_id"], p.get(token_field) if token_field else None, p.get("idempotency_key")),
    )


ADD_SERVICE: Payload[AddService] = Payload(
    (
        TRANSACTION,
        Field("service_id", ID, required=True),
        Field("quantity", QUANTITY, default=1),
        token("therapist_token"),
        KEY,
    ),
    lambda p: AddService(
        p["transaction_id"], p["service_id"], p["quantity"], p.get("therapist_token"), p.get("idempotency_key")
    ),
)
CASHIER_CLAIM: Payload[CashierClaim] = Payload(
    (token("cashier_token"), KEY),
    lambda p: CashierClaim(p.get("cashier_token"), p.get("idempotency_key")),
)
TENDER = Obj((Field("method", Choice(PaymentMethod), required=True), Field("amount", Amount(), required=True)))


def _pay(p: dict[str, Any]) -> Pay:
    if ("amount_paid" in p) == ("tenders" in p):
        raise invalid("send amount_paid (with method) or tenders, one of the two")
    if "tenders" in p:
        methods = [t["method"] for t in p["tenders"]]
        if len(set(methods)) != len(methods):
            raise invalid("tenders: one per method")
        tenders = tuple((PaymentMethod(t["method"]).value, t["amount"]) for t in p["tenders"])
        paid, method = sum(a for _, a in tenders), PaymentMethod(tenders[0][0])
    else:
        tenders, paid, method = (), p["amount_paid"], p["method"]
    return Pay(
        p["transaction_id"],
        paid,
        method,
        p.get("cashier_token"),
        p.get("idempotency_key"),
        tenders,
        p.get("tip", 0),
        p.get("confirm", False),
    )


PAY: Payload[Pay] = Payload(
    (
        TRANSACTION,
        Field("amount_paid", Amount(), doc="one tender: this much in `method`"),
        Field("method", Choice(PaymentMethod), default=PaymentMethod.CASH),
        Field("tenders", ListOf(TENDER, 1, 2, "tenders"), doc="several: cash and card in one payment"),
        Field("tip", Amount(), doc="for the therapist, paid with the bill"),
        Field("confirm", Flag(), doc="the cashier checked a cash amount far above the bill"),
        token("cashier_token"),
        KEY,
    ),
    _pay,
    rules=(
        "amount_paid or tenders, one of the two; one tender per method; change is given only from cash;",
        "cash far above what is owed is refused (confirmation_needed) until sent with confirm: true.",
    ),
)
PIN = Pattern(
    re.compile(rf"^[0-9]{{{Limits.MIN_PIN},{Limits.MAX_PIN}}}$"), f"must be {Limits.MIN_PIN}-{Limits.MAX_PIN} digits"
)
MANAGER = Field(
    "manager",
    Obj((Field("staff_id", ID, required=True), Field("pin", PIN, required=True))),
    nullable=True,
    doc="a manager's approval: their staff id and PIN (checked under the sign-in throttle)",
)
REASON = Field("reason", Text(80), required=True)


def _manager(p: dict[str, Any]) -> ManagerPin | None:
    m = p.get("manager")
    return ManagerPin(m["staff_id"], m["pin"]) if m else None


def _discount(p: dict[str, Any]) -> SetDiscount:
    if ("percent" in p) == ("amount" in p):
        raise invalid("send percent or amount, one of the two")
    if "percent" in p:
        if p["percent"] > 10_000:
            raise invalid("percent must be at most 100")
        kind, value = "percent", p["percent"]
    else:
        kind, value = "amount", p["amount"]
    return SetDiscount(
        p["transaction_id"],
        kind,
        value,
        p["reason"],
        p.get("item_id"),
        _manager(p),
        p.get("cashier_token"),
        p.get("idempotency_key"),
    )


DISCOUNT: Payload[SetDiscount] = Payload(
    (
        TRANSACTION,
        Field("item_id", ID, nullable=True, doc="one item's line; the whole order when absent"),
        Field("percent", Amount(), doc="'10' or '12.5': percent off (0 takes the discount off)"),
        Field("amount", Amount(), doc="this much off (0 takes the discount off)"),
        REASON,
        MANAGER,
        token("cashier_token"),
        KEY,
    ),
    _discount,
    doc="A discount before payment, on a line or the order; above the spa's share a manager's PIN.",
    rules=("percent or amount, one of the two; percent at most 100.",),
)
VOID: Payload[Void] = Payload(
    (TRANSACTION, REASON, MANAGER, token("cashier_token"), KEY),
    lambda p: Void(p["transaction_id"], p["reason"], _manager(p), p.get("cashier_token"), p.get("idempotency_key")),
    doc="Cancel a bill before payment, with a manager's PIN; a void slip prints.",
)
REFUND: Payload[RefundRequest] = Payload(
    (
        TRANSACTION,
        REASON,
        MANAGER,
        Field(
            "items",
            ListOf(
                Obj((Field("item_id", ID, required=True), Field("quantity", QUANTITY, default=1))),
                1,
                MAX_ITEMS,
                "items",
            ),
            doc="what comes back; everything not refunded yet when absent",
        ),
        Field(
            "method",
            Choice(PaymentMethod),
            nullable=True,
            doc="where the money goes back to (needed after a split payment)",
        ),
        token("cashier_token"),
        KEY,
    ),
    lambda p: RefundRequest(
        p["transaction_id"],
        p["reason"],
        _manager(p),
        tuple((i["item_id"], i["quantity"]) for i in p.get("items", ())),
        PaymentMethod(p["method"]).value if p.get("method") else None,
        p.get("cashier_token"),
        p.get("idempotency_key"),
    ),
    doc="Money back after a payment (whole or per item), with a manager's PIN; an entry of its own and a slip.",
)
TILL_OPEN: Payload[TillOpen] = Payload(
    (Field("float", Amount(), required=True, doc="the cash the drawer starts with"), token("cashier_token"), KEY),
    lambda p: TillOpen(p["float"], p.get("cashier_token"), p.get("idempotency_key")),
)


def _positive(cents: int) -> int:
    if cents <= 0:
        raise invalid("amount must be more than 0")
    return cents


class CashKind(StrEnum):
    IN = "in"
    OUT = "out"


TILL_CASH: Payload[CashMove] = Payload(
    (
        Field("kind", Choice(CashKind), required=True),
        Field("amount", Amount(), required=True),
        REASON,
        token("cashier_token"),
        KEY,
    ),
    lambda p: CashMove(
        CashKind(p["kind"]).value, _positive(p["amount"]), p["reason"], p.get("cashier_token"), p.get("idempotency_key")
    ),
    rules=("amount more than 0.",),
)
DENOMINATION_RE = re.compile(r"^[1-9][0-9]{0,7}$")
TILL_CLOSE: Payload[TillClose] = Payload(
    (
        Field(
            "counted",
            MapOf(
                DENOMINATION_RE,
                "denominations are note and coin values in cents: '5000', '200', '1'",
                Integer(0, 100_000),
                40,
                "denominations",
            ),
            required=True,
            doc="the cash counted: {value in cents: how many}",
        ),
        Field("counted_card", Amount(), nullable=True, doc="the card terminal's total, to compare"),
        token("cashier_token"),
        KEY,
    ),
    lambda p: TillClose(
        tuple(sorted((int(d), n) for d, n in p["counted"].items())),
        p.get("counted_card"),
        p.get("cashier_token"),
        p.get("idempotency_key"),
    ),
)
LOOKUP: Payload[Lookup] = Payload(
    (Field("code", TicketCode(), required=True), token("cashier_token"), KEY),
    lambda p: Lookup(p["code"], p.get("cashier_token"), p.get("idempotency_key")),
)
TXN_REF: Payload[TxnRef] = Payload((TRANSACTION,), lambda p: TxnRef(p["transaction_id"]))
# Older clients send {} or nothing at all; both mean "no arguments".
EMPTY: Payload[Empty] = Payload((), lambda p: Empty(), doc="No payload, null or {}.")
DEVICE_HEALTH = Obj(
    (
        # Appliances send "" for "nothing to say"; such a field is left out of the health kept.
        Field("state", Text(Limits.MAX_DEVICE_STATE), required=True, blank_absent=True),
        Field("detail", Text(Limits.MAX_DEVICE_DETAIL), blank_absent=True),
        Field("last_event_at", UnixTime(), nullable=True),
    )
)
HEARTBEAT: Payload[Heartbeat] = Payload(
    (
        Field(
            "devices",
            MapOf(
                DEVICE_NAME_RE,
                "device names are 1-40 letters, digits, '_', '.' or '-'",
                DEVICE_HEALTH,
                Limits.MAX_DEVICES,
                "devices",
            ),
            required=True,
        ),
        Field("software", Text(Limits.MAX_SOFTWARE), nullable=True),
        Field(
            "prints",
            Flag(),
            default=False,
            doc="the appliance has a printer for the jobs sent to it: a kiosk gets ticket jobs only then",
        ),
    ),
    lambda p: Heartbeat(p["devices"], p.get("software"), p.get("prints", False)),
)
# Signing in twice is harmless, so a key is accepted (every command may carry one) and not stored.
DESK_SIGN_IN: Payload[DeskSignIn] = Payload(
    (Field("staff_token", Token(), required=True, doc="a scanned staff badge"), KEY),
    lambda p: DeskSignIn(p["staff_token"]),
)
PRINT_STATUS: Payload[PrintStatus] = Payload(
    (
        Field("transaction_id", ID, nullable=True, doc="the visit the job printed for (none for a report)"),
        Field(
            "job_id",
            Pattern(re.compile(Limits.JOB_ID), "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'"),
            required=True,
        ),
        Field("ok", Flag(), required=True, doc="printed"),
        Field("state", Text(Limits.MAX_DEVICE_STATE), default="ok"),
        Field("detail", Text(Limits.MAX_DEVICE_DETAIL), default="", nullable=True, blank_absent=True),
        Field(
            "unknown",
            Flag(),
            default=False,
            doc="not ok, and whether it printed is unknown: the receipt was sent and the printer failed before"
            " confirming it; the till never prints it again by itself (the cashier may ask for a copy)",
        ),
    ),
    lambda p: PrintStatus(p.get("transaction_id"), p["job_id"], p["ok"], p["state"], p["detail"], p["unknown"]),
)

CANCEL: Payload[Cancel] = Payload(
    (
        TRANSACTION,
        Field("reason", Choice(CancelReason), default=CancelReason.OTHER, doc="kept with the visit, and in reports"),
        Field("note", Text(Limits.MAX_NOTE), nullable=True),
        Field(
            "ticket",
            Pattern(PUBLIC_ID_RE, "must be the ticket's public id (16 characters)"),
            nullable=True,
            doc="a kiosk's proof that it is showing this customer's ticket (its public_id)",
        ),
        KEY,
    ),
    lambda p: Cancel(
        p["transaction_id"], CancelReason(p["reason"]).value, p.get("note"), p.get("ticket"), p.get("idempotency_key")
    ),
    doc="Cancel a visit: the front desk (waiting, claimed or no-show), a therapist (their own claim), a kiosk "
    "(its own waiting customer, with the ticket).",
)
DESK_ACTION: Payload[DeskAction] = Payload(
    (TRANSACTION, token("therapist_token", "the therapist making it on their own customer"), KEY),
    lambda p: DeskAction(p["transaction_id"], p.get("therapist_token"), p.get("idempotency_key")),
)
THERAPIST_ID = Field("therapist_id", ID, required=True, doc="an active therapist's staff id")
TRANSFER: Payload[Transfer] = Payload(
    (TRANSACTION, THERAPIST_ID, KEY),
    lambda p: Transfer(p["transaction_id"], p["therapist_id"], p.get("idempotency_key")),
    doc="Hand a claimed customer to another therapist (their room).",
)
ASSIGN: Payload[Assign] = Payload(
    (
        TRANSACTION,
        Field("therapist_id", ID, nullable=True, doc="the desk names the therapist; a therapist picks for themselves"),
        token("therapist_token"),
        Field("room", ROOM, nullable=True),
        KEY,
    ),
    lambda p: Assign(
        p["transaction_id"], p.get("therapist_id"), p.get("therapist_token"), p.get("room"), p.get("idempotency_key")
    ),
    doc="Pick a waiting customer out of order, locked as a claim is.",
)
REMOVE_ITEM: Payload[RemoveItem] = Payload(
    (TRANSACTION, Field("item_id", ID, required=True), token("therapist_token"), KEY),
    lambda p: RemoveItem(p["transaction_id"], p["item_id"], p.get("therapist_token"), p.get("idempotency_key")),
    doc="Remove an item added by mistake (never the last one), before payment.",
)
PRIORITISE: Payload[Prioritise] = Payload(
    (
        TRANSACTION,
        Field("priority", Flag(), required=True),
        Field("reason", Choice(PriorityReason), nullable=True),
        KEY,
    ),
    lambda p: Prioritise(
        p["transaction_id"],
        p["priority"],
        PriorityReason(p["reason"]).value if p.get("reason") else None,
        p.get("idempotency_key"),
    ),
    doc="Priority on or off for a waiting customer: called before everyone without it, FIFO among themselves.",
)
SHIFT: Payload[Shift] = Payload(
    (
        Field("staff_id", ID, nullable=True, doc="the desk names the therapist; else the caller"),
        token("therapist_token"),
        KEY,
    ),
    lambda p: Shift(p.get("staff_id"), p.get("therapist_token")),
)
CHOOSE_ROOM: Payload[ChooseRoom] = Payload(
    (
        Field("room", ROOM, required=True, nullable=True, doc="one of the spa's rooms; null: no room"),
        token("therapist_token"),
        KEY,
    ),
    lambda p: ChooseRoom(p.get("room"), p.get("therapist_token")),
    doc="A therapist signs in to a room: their calls send the customer there.",
)

# The front desk's corrections: each answers with the transaction (docs/PROTOCOL.md).
FRONT_DESK_EVENTS = (
    "front_desk_no_show",
    "front_desk_recall",
    "front_desk_give_back",
    "front_desk_undo_start",
    "front_desk_undo_finish",
    "front_desk_transfer",
    "front_desk_assign",
    "front_desk_remove_item",
    "front_desk_priority",
)

# Every client → server event, by its wire name. The event table calls PAYLOADS[name].parse.
PAYLOADS: dict[str, Payload[Any]] = {
    "customer_confirm_selection": CONFIRM_SELECTION,
    "therapist_confirm_next": THERAPIST_CLAIM,
    "therapist_start_service": txn_action("therapist_token"),
    "therapist_add_service": ADD_SERVICE,
    "therapist_finish_service": txn_action("therapist_token"),
    "therapist_release": txn_action("therapist_token"),
    "cashier_claim_next": CASHIER_CLAIM,
    "cashier_lookup": LOOKUP,
    "cashier_pay": PAY,
    "cashier_release": txn_action("cashier_token"),
    "cancel_transaction": CANCEL,
    "queue_snapshot": EMPTY,
    "get_transaction": TXN_REF,
    "service_catalog": EMPTY,
    "therapist_subscribe": EMPTY,
    "cashier_subscribe": EMPTY,
    "monitor_subscribe": EMPTY,
    "customer_subscribe": TXN_REF,
    "appliance_heartbeat": HEARTBEAT,
    "receipt_reprint": TXN_REF,
    "receipt_status": PRINT_STATUS,
    "print_jobs_pending": EMPTY,
    "desk_sign_in": DESK_SIGN_IN,
    "desk_sign_out": EMPTY,
    "device_activity": EMPTY,
    "appliances_snapshot": EMPTY,
    "front_desk_no_show": DESK_ACTION,
    "front_desk_recall": DESK_ACTION,
    "front_desk_give_back": DESK_ACTION,
    "front_desk_undo_start": DESK_ACTION,
    "front_desk_undo_finish": DESK_ACTION,
    "front_desk_transfer": TRANSFER,
    "front_desk_assign": ASSIGN,
    "front_desk_remove_item": REMOVE_ITEM,
    "front_desk_priority": PRIORITISE,
    "shift_start": SHIFT,
    "shift_end": SHIFT,
    "therapist_choose_room": CHOOSE_ROOM,
    "staff_roster": EMPTY,
    "room_list": EMPTY,
    "cashier_discount": DISCOUNT,
    "cashier_void": VOID,
    "cashier_refund": REFUND,
    "till_open": TILL_OPEN,
    "till_cash": TILL_CASH,
    "till_report_x": EMPTY,
    "till_close": TILL_CLOSE,
    "till_status": EMPTY,
}


# ---- the parse functions callers and tests use by name ---------------------------------------


def parse_confirm_selection(payload: object) -> ConfirmSelection:
    return CONFIRM_SELECTION.parse(payload)


def parse_therapist_claim(payload: object) -> TherapistClaim:
    return THERAPIST_CLAIM.parse(payload)


def parse_txn_action(payload: object, token_field: str | None) -> TxnAction:
    return txn_action(token_field).parse(payload)


def parse_add_service(payload: object) -> AddService:
    return ADD_SERVICE.parse(payload)


def parse_cashier_claim(payload: object) -> CashierClaim:
    return CASHIER_CLAIM.parse(payload)


def parse_pay(payload: object) -> Pay:
    return PAY.parse(payload)


def parse_lookup(payload: object) -> Lookup:
    return LOOKUP.parse(payload)


def parse_txn_ref(payload: object) -> TxnRef:
    return TXN_REF.parse(payload)


def parse_empty(payload: object) -> Empty:
    return EMPTY.parse(payload)


def parse_heartbeat(payload: object) -> Heartbeat:
    return HEARTBEAT.parse(payload)


def parse_desk_sign_in(payload: object) -> DeskSignIn:
    return DESK_SIGN_IN.parse(payload)


def parse_print_status(payload: object) -> PrintStatus:
    return PRINT_STATUS.parse(payload)


def parse(event: str) -> Callable[[object], Any]:
    """The parser of an event's payload, by its wire name."""
    return PAYLOADS[event].parse
