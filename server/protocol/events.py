"""The table of Socket.IO events, as data: for each wire event its parser, the capabilities its
caller needs, whether only an appliance may send it, and the use case it runs. The dispatcher
(`dispatcher.py`) reads the table; nothing here decides by comparing roles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..db.engine import Database
from ..domain.actors import Capability
from ..service import appliances, commands, desks, printing
from ..service.catalog import list_services
from ..service.front_desk import FrontDesk
from ..service.outbound import (
    CASHIER_ROOM,
    MONITOR_ROOM,
    THERAPIST_ROOM,
    Outbound,
    device_room,
    txn_room,
)
from ..service.queue import QueueService
from ..service.roster import RosterService
from ..service.till import TillService
from . import schema
from .broadcaster import customer_update
from .dispatcher import Call, EventSpec

C = Capability


@dataclass(frozen=True)
class Services:
    """What the use cases reach: the database, the queue's commands, the outbound port."""

    db: Database
    queue: QueueService
    outbound: Outbound
    appliance_silent_after_s: float
    desk: FrontDesk
    roster: RosterService
    till: TillService


def event_table(sv: Services) -> dict[str, EventSpec]:
    q, d, r, t = sv.queue, sv.desk, sv.roster, sv.till
    uc = _UseCases(sv)
    desk_or_own = (C.FRONT_DESK, C.THERAPIST)

    def txn_action(token_field: str | None) -> Callable[[object], commands.TxnAction]:
        return lambda payload: schema.parse_txn_action(payload, token_field)

    return {
        "customer_confirm_selection": EventSpec(
            schema.parse_confirm_selection, (C.ORDER,), _as(q.confirm_selection), after=uc.after_selection
        ),
        "therapist_confirm_next": EventSpec(schema.parse_therapist_claim, (C.THERAPIST,), _as(q.claim_for_therapist)),
        "therapist_start_service": EventSpec(txn_action("therapist_token"), (C.THERAPIST,), _as(q.start_service)),
        "therapist_add_service": EventSpec(schema.parse_add_service, (C.THERAPIST,), _as(q.add_service)),
        "therapist_finish_service": EventSpec(txn_action("therapist_token"), (C.THERAPIST,), _as(q.finish_service)),
        "therapist_release": EventSpec(txn_action("therapist_token"), (C.THERAPIST,), _as(q.release_by_therapist)),
        "cashier_claim_next": EventSpec(schema.parse_cashier_claim, (C.CASHIER,), _as(q.claim_for_cashier)),
        "cashier_lookup": EventSpec(
            schema.parse_lookup, (C.CASHIER,), _as(q.lookup_for_cashier), after=uc.after_lookup
        ),
        "cashier_pay": EventSpec(schema.parse_pay, (C.CASHIER,), _as(t.pay), after=uc.after_pay),
        "cashier_discount": EventSpec(
            schema.parse("cashier_discount"), (C.CASHIER, C.FRONT_DESK), _as(t.discount), after=uc.after_print
        ),
        "cashier_void": EventSpec(schema.parse("cashier_void"), (C.CASHIER,), _as(t.void), after=uc.after_print),
        "cashier_refund": EventSpec(schema.parse("cashier_refund"), (C.CASHIER,), _as(t.refund), after=uc.after_print),
        # The till's cash drawer: a till device's (its signed-in cashier's) own; docs/PROTOCOL.md.
        "till_open": EventSpec(schema.parse("till_open"), (C.CASHIER,), _as(t.open_till), after=uc.after_print),
        "till_cash": EventSpec(schema.parse("till_cash"), (C.CASHIER,), _as(t.cash_movement), after=uc.after_print),
        "till_report_x": EventSpec(schema.parse_empty, (C.CASHIER,), _as(t.report_x), after=uc.after_print),
        "till_close": EventSpec(schema.parse("till_close"), (C.CASHIER,), _as(t.close_till), after=uc.after_print),
        "till_status": EventSpec(schema.parse_empty, (C.CASHIER,), _as(t.status)),
        "cashier_release": EventSpec(txn_action("cashier_token"), (C.CASHIER,), _as(q.release_by_cashier)),
        "cancel_transaction": EventSpec(
            schema.parse("cancel_transaction"), (C.CANCEL, C.CANCEL_OWN, C.THERAPIST), _as(q.cancel)
        ),
        "queue_snapshot": EventSpec(schema.parse_empty, (C.VIEW_PUBLIC,), lambda call, _: q.snapshot(call.principal)),
        "get_transaction": EventSpec(schema.parse_txn_ref, (C.VIEW_PUBLIC,), uc.get_transaction),
        "service_catalog": EventSpec(schema.parse_empty, (C.VIEW_PUBLIC,), uc.catalog),
        "therapist_subscribe": EventSpec(schema.parse_empty, (C.THERAPIST, C.FRONT_DESK), uc.subscribe(THERAPIST_ROOM)),
        "cashier_subscribe": EventSpec(schema.parse_empty, (C.CASHIER, C.FRONT_DESK), uc.subscribe(CASHIER_ROOM)),
        "monitor_subscribe": EventSpec(schema.parse_empty, (C.VIEW_PUBLIC,), uc.subscribe(MONITOR_ROOM)),
        "customer_subscribe": EventSpec(schema.parse_txn_ref, (C.ORDER, C.VIEW_STAFF), uc.customer_subscribe),
        "appliance_heartbeat": EventSpec(schema.parse_heartbeat, (C.REPORT_HEALTH,), uc.heartbeat, devices_only=True),
        "receipt_reprint": EventSpec(schema.parse_txn_ref, (C.CASHIER,), uc.reprint),
        "receipt_status": EventSpec(schema.parse_print_status, (C.PRINT,), uc.receipt_status, devices_only=True),
        "print_jobs_pending": EventSpec(schema.parse_empty, (C.PRINT,), uc.pending_jobs, devices_only=True),
        "desk_sign_in": EventSpec(schema.parse_desk_sign_in, (C.CASHIER, C.THERAPIST), uc.desk_sign_in),
        "desk_sign_out": EventSpec(schema.parse_empty, (C.CASHIER, C.THERAPIST), uc.desk_sign_out),
        "device_activity": EventSpec(schema.parse_empty, (C.REPORT_HEALTH,), uc.device_activity, devices_only=True),
        "appliances_snapshot": EventSpec(schema.parse_empty, (C.VIEW_PUBLIC,), uc.appliances),
        # The front desk's corrections (a therapist's too, on their own customer): docs/PROTOCOL.md.
        "front_desk_no_show": EventSpec(schema.parse("front_desk_no_show"), desk_or_own, _as(d.no_show)),
        "front_desk_recall": EventSpec(schema.parse("front_desk_recall"), (C.FRONT_DESK,), _as(d.recall)),
        "front_desk_give_back": EventSpec(schema.parse("front_desk_give_back"), desk_or_own, _as(d.give_back)),
        "front_desk_undo_start": EventSpec(schema.parse("front_desk_undo_start"), desk_or_own, _as(d.undo_start)),
        "front_desk_undo_finish": EventSpec(schema.parse("front_desk_undo_finish"), desk_or_own, _as(d.undo_finish)),
        "front_desk_transfer": EventSpec(schema.parse("front_desk_transfer"), desk_or_own, _as(d.transfer)),
        "front_desk_assign": EventSpec(schema.parse("front_desk_assign"), desk_or_own, _as(d.assign)),
        "front_desk_remove_item": EventSpec(schema.parse("front_desk_remove_item"), desk_or_own, _as(d.remove_item)),
        "front_desk_priority": EventSpec(schema.parse("front_desk_priority"), (C.FRONT_DESK,), _as(d.prioritise)),
        "shift_start": EventSpec(
            schema.parse("shift_start"), desk_or_own, lambda call, cmd: r.shift(call.principal, cmd, True)
        ),
        "shift_end": EventSpec(
            schema.parse("shift_end"), desk_or_own, lambda call, cmd: r.shift(call.principal, cmd, False)
        ),
        "therapist_choose_room": EventSpec(
            schema.parse("therapist_choose_room"), (C.THERAPIST,), lambda call, cmd: r.choose_room(call.principal, cmd)
        ),
        "staff_roster": EventSpec(schema.parse_empty, (C.VIEW_STAFF,), lambda call, _: r.view()),
        "room_list": EventSpec(schema.parse_empty, (C.VIEW_PUBLIC,), lambda call, _: {"rooms": r.view()["rooms"]}),
    }


def _as(command: Callable[[Any, Any], dict[str, Any]]) -> Callable[[Call, Any], dict[str, Any]]:
    """A queue command, called for the event's caller."""
    return lambda call, cmd: command(call.principal, cmd)


class _UseCases:
    """The events that are more than one queue command: a read, a subscription, a relay."""

    def __init__(self, sv: Services) -> None:
        self.sv = sv
        self.out = sv.outbound

    def _now(self) -> Any:
        return self.sv.queue.clock()

    # ---- after a queue command ------------------------------------------------------------------

    def after_selection(self, call: Call, ack: dict[str, Any]) -> None:
        if ack["ok"]:
            self.out.join(call.sid, txn_room(ack["transaction_id"]))
            self.out.emit("customer_selection_received", {"transaction_id": ack["transaction_id"]}, to=call.sid)
        self.after_print(call, ack)  # a kiosk with a printer: the paper ticket

    def after_pay(self, call: Call, ack: dict[str, Any]) -> None:
        # The original design's cashier screens listen for this instead of using the ack.
        result: dict[str, Any] = {"ok": ack["ok"]}
        if ack["ok"]:
            result.update(transaction_id=ack["transaction"]["id"], change=ack["change"])
        else:
            result["error"] = ack["error"]
        self.out.emit("cashier_pay_result", result, to=call.sid)
        self.after_print(call, ack)

    def after_print(self, call: Call, ack: dict[str, Any]) -> None:
        """A receipt, slip or report the command made goes to the caller's till (a replayed
        command's job went out the first time, and is resent on reconnect until printed)."""
        if ack["ok"] and ack.get("print_job") and not ack.get("replayed"):
            job = ack["print_job"]
            self.out.emit(printing.event_of(job), job, to=device_room(call.principal.id))

    def after_lookup(self, call: Call, ack: dict[str, Any]) -> None:
        # A code scanned at a till's appliance shows on that till's screen (same device token).
        if call.principal.is_device:
            self.out.emit("cashier_lookup_result", ack, to=device_room(call.principal.id))

    # ---- reads and subscriptions ------------------------------------------------------------------

    def get_transaction(self, call: Call, ref: commands.TxnRef) -> dict[str, Any]:
        return {"transaction": self.sv.queue.get_transaction(call.principal, ref.transaction_id)}

    def catalog(self, call: Call, _: commands.Empty) -> dict[str, Any]:
        return {"services": list_services(self.sv.db)}

    def appliances(self, call: Call, _: commands.Empty) -> dict[str, Any]:
        sv = self.sv
        return {"appliances": appliances.appliance_status(sv.db, self._now(), sv.appliance_silent_after_s)}

    def subscribe(self, room: str) -> Callable[[Call, commands.Empty], dict[str, Any]]:
        def subscribe(call: Call, _: commands.Empty) -> dict[str, Any]:
            self.out.join(call.sid, room)
            return {"room": room}

        return subscribe

    def customer_subscribe(self, call: Call, ref: commands.TxnRef) -> dict[str, Any]:
        queue = self.sv.queue
        view = queue.get_transaction(call.principal, ref.transaction_id)
        snapshot = queue.snapshot(call.principal)
        position = next(
            (
                {"position": w["position"], "estimated_wait_min": w["estimated_wait_min"]}
                for w in snapshot["waiting"]
                if w["id"] == ref.transaction_id
            ),
            None,
        )
        self.out.join(call.sid, txn_room(ref.transaction_id))
        return {"room": txn_room(ref.transaction_id), **customer_update(snapshot["version"], view, position)}

    # ---- desks, appliances and receipts ---------------------------------------------------------

    def desk_sign_in(self, call: Call, cmd: commands.DeskSignIn) -> dict[str, Any]:
        result = desks.sign_in(self.sv.db, call.principal, cmd.staff_token, self._now())
        self.out.emit("desk_signed_in", result, to=device_room(call.principal.id))
        return result

    def desk_sign_out(self, call: Call, _: commands.Empty) -> dict[str, Any]:
        result = desks.sign_out(self.sv.db, call.principal, self._now())
        self.out.emit("desk_signed_out", result, to=device_room(call.principal.id))
        return result

    def device_activity(self, call: Call, _: commands.Empty) -> dict[str, Any]:
        self.out.emit("device_activity", {"at": self._now().isoformat() + "Z"}, to=device_room(call.principal.id))
        return {}

    def heartbeat(self, call: Call, beat: commands.Heartbeat) -> dict[str, Any]:
        device = call.principal
        appliances.record_heartbeat(self.sv.db, device, beat, self._now())
        self.out.emit("appliance_status", {"device": device.name, "devices": beat.devices}, to=device_room(device.id))
        return {}

    def reprint(self, call: Call, ref: commands.TxnRef) -> dict[str, Any]:
        queue = self.sv.queue
        header = printing.header_of(queue.settings.policy(), queue.zone)  # as the office has it now
        device_id, job = printing.reprint(self.sv.db, header, call.principal, ref.transaction_id, self._now())
        self.out.emit(printing.event_of(job), job, to=device_room(device_id))
        return {"job_id": job["job_id"]}

    def receipt_status(self, call: Call, report: commands.PrintStatus) -> dict[str, Any]:
        status = printing.record_status(self.sv.db, call.principal, report, self._now())
        if call.principal.is_till:  # a kiosk's ticket is no business of the cashiers
            self.out.emit("receipt_status", status, to=CASHIER_ROOM)
        self.out.emit("receipt_status", status, to=device_room(call.principal.id))
        return {}

    def pending_jobs(self, call: Call, _: commands.Empty) -> dict[str, Any]:
        return {"jobs": printing.pending_jobs(self.sv.db, call.principal.id, self._now())}
