"""The invariants of a spa day, checked on its ledger (pure: no database, no clock).

- settled: every transaction ends paid exactly once, cancelled, or a no-show;
- claimed once: no transaction is claimed while someone holds it, and every claim a client was
  acknowledged is one claim in the audit log;
- FIFO: each claim takes the first customer in queue order (priority first, then arrival) among
  those the claimer could serve — the therapist's skills, the till's queue of who finished first;
- receipts: one per payment, numbers gap-free per till, each printed once when printers run;
- money: per till, the payments per method add up to the Z report's sales and expected figures
  to the cent, the till's own tally agrees, and the cash counted is the cash expected.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .ledger import AuditRow, Ledger

PENDING, CLAIMED = "pending_therapist", "therapist_confirmed"
AWAITING, PAYING = "awaiting_payment", "paying"
SETTLED = {"paid", "cancelled", "no_show"}
_RECEIPT = re.compile(r"^T(\d+)-(\d{4})-(\d+)$")


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


INVARIANTS = ("settled", "claimed_once", "fifo", "receipts", "money")


def check(ledger: Ledger) -> list[Violation]:
    found: list[Violation] = []
    for name, rule in _RULES.items():
        found += [Violation(name, d) for d in rule(ledger)]
    return found


def settled(ledger: Ledger) -> list[str]:
    problems = []
    paid_rows = Counter(a.transaction_id for a in ledger.audit if a.action == "paid")
    payments = Counter(p.transaction_id for p in ledger.payments)
    for txn in ledger.transactions.values():
        if txn.status not in SETTLED:
            problems.append(f"{txn.code} (#{txn.id}) ended the day {txn.status}")
        elif txn.status == "paid" and (payments[txn.id], paid_rows[txn.id]) != (1, 1):
            problems.append(f"{txn.code} paid {payments[txn.id]} times ({paid_rows[txn.id]} in the audit log)")
        elif txn.status != "paid" and payments[txn.id]:
            problems.append(f"{txn.code} is {txn.status} but has {payments[txn.id]} payment(s)")
    for tid in payments.keys() - ledger.transactions.keys():
        problems.append(f"a payment for unknown transaction #{tid}")
    return problems


def claimed_once(ledger: Ledger) -> list[str]:
    problems = []
    status: dict[int, str] = {}
    claims: Counter[int] = Counter()
    for row in ledger.audit:
        if row.transaction_id is None:
            continue
        was = status.get(row.transaction_id)
        if row.action == "claimed":
            claims[row.transaction_id] += 1
            if was != PENDING:
                problems.append(f"#{row.transaction_id} claimed by staff {row.staff_id} while {was} (audit {row.seq})")
        elif row.action == "cashier_claimed" and was != AWAITING:
            problems.append(f"#{row.transaction_id} claimed at a till while {was} (audit {row.seq})")
        if row.to_status:
            status[row.transaction_id] = row.to_status
    acked = Counter(tid for tid, _ in ledger.claim_acks)
    for tid in sorted(acked.keys() | claims.keys()):
        if ledger.claim_acks and acked[tid] != claims[tid]:
            problems.append(f"#{tid}: {acked[tid]} claim acknowledgement(s), {claims[tid]} claim(s) in the audit log")
    return problems


def fifo(ledger: Ledger) -> list[str]:
    """Replays the audit log in commit order. A claim that passed over an earlier customer the
    claimer could serve is a violation unless that customer was claimed by someone else within
    the next few claims: claimers working at once commit in any order (SKIP LOCKED hands the
    second one the second customer), at most `claimers` − 1 claims apart. Nor is it one when
    either customer's place changed (back in the queue, priority given or taken) within the
    ledger's `reorder_window` rows before the claim: that change may have committed after the
    claim read the queue."""
    problems = []
    status: dict[int, str] = {}
    priority: dict[int, bool] = {}
    moved: dict[int, int] = {}  # transaction → index of the row that last changed its place
    rows = [r for r in ledger.audit if r.transaction_id is not None]
    claim_positions = _positions(rows, "claimed")
    till_positions = _positions(rows, "cashier_claimed")

    def settled_before(i: int, *tids: int) -> bool:
        return all(t not in moved or i - moved[t] > ledger.reorder_window for t in tids)

    for i, row in enumerate(rows):
        tid = row.transaction_id
        assert tid is not None
        if row.action == "claimed" and status.get(tid) == PENDING:
            skills = ledger.skills.get(row.staff_id) if row.staff_id is not None else None
            ahead = _first(
                (t for t, s in status.items() if s == PENDING and _can_serve(ledger, t, skills)),
                key=lambda t: (not priority.get(t, False), ledger.transactions[t].created_at, t),
            )
            if (
                ahead is not None
                and ahead != tid
                and not _soon(claim_positions, ahead, i, ledger.claimers)
                and settled_before(i, ahead, tid)
            ):
                problems.append(
                    f"staff {row.staff_id} claimed {_code(ledger, tid)} while {_code(ledger, ahead)} waited ahead "
                    f"(audit {row.seq})"
                )
        elif row.action == "cashier_claimed" and status.get(tid) == AWAITING:
            ahead = _first(
                (t for t, s in status.items() if s == AWAITING),
                key=lambda t: (ledger.transactions[t].pay_queue_key or ledger.transactions[t].created_at, t),
            )
            if (
                ahead is not None
                and ahead != tid
                and not _soon(till_positions, ahead, i, ledger.cashiers)
                and settled_before(i, ahead, tid)
            ):
                problems.append(
                    f"a till claimed {_code(ledger, tid)} while {_code(ledger, ahead)} waited to pay ahead "
                    f"(audit {row.seq})"
                )
        if row.action in ("priority_set", "priority_cleared"):
            priority[tid] = row.action == "priority_set"
            moved[tid] = i
        if row.to_status:
            if row.to_status in (PENDING, AWAITING) and status.get(tid) != row.to_status:
                moved[tid] = i
            status[tid] = row.to_status
    return problems


def receipts(ledger: Ledger) -> list[str]:
    problems = []
    per_till: dict[int, list[int]] = defaultdict(list)
    numbers_of: dict[int, list[str]] = defaultdict(list)
    for p in ledger.payments:
        if p.device_id is None:
            continue
        match = _RECEIPT.match(p.receipt_number or "")
        if match is None:
            problems.append(f"the payment of #{p.transaction_id} at till {p.device_id} has no receipt number")
            continue
        per_till[p.device_id].append(int(match.group(3)))
        numbers_of[p.device_id].append(p.receipt_number or "")
    for device, numbers in per_till.items():
        numbers.sort()
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            problems.append(f"till {device}'s receipt numbers have gaps or twins: {_ranges(numbers)}")
    if ledger.printed is not None:
        for device in per_till.keys() | ledger.printed.keys():
            paid, printed = Counter(numbers_of[device]), Counter(ledger.printed.get(device, []))
            for number in sorted(paid.keys() | printed.keys()):
                if paid[number] != printed[number]:
                    problems.append(f"receipt {number} was paid {paid[number]} time(s), printed {printed[number]}")
    return problems


def money(ledger: Ledger) -> list[str]:
    problems = []
    sales: dict[int, Counter[str]] = defaultdict(Counter)
    count: Counter[int] = Counter()
    sessions_paid: set[int] = set()
    for p in ledger.payments:
        if p.session_id is None:
            continue
        sessions_paid.add(p.session_id)
        count[p.session_id] += 1
        for t in p.tenders:
            sales[p.session_id][t.method] += t.amount_cents - t.change_cents
        taken = sum(t.amount_cents - t.change_cents for t in p.tenders)
        if taken != p.due_cents + p.tip_cents:
            problems.append(
                f"#{p.transaction_id}: {_eur(taken)} taken for {_eur(p.due_cents)} + tip {_eur(p.tip_cents)}"
            )
    reported = {z.session_id for z in ledger.z_reports}
    for session in sorted(sessions_paid - reported):
        problems.append(f"till session {session} took payments but has no Z report")
    tallies = {t.device_id: t for t in ledger.tallies}
    for z in ledger.z_reports:
        ours = sales[z.session_id]
        for method in ("cash", "card"):
            if z.sales.get(method, 0) != ours[method]:
                problems.append(
                    f"session {z.session_id}: {method} payments add up to {_eur(ours[method])}, "
                    f"the Z report says {_eur(z.sales.get(method, 0))}"
                )
        expected = {"cash": z.float_cents + ours["cash"], "card": ours["card"]}
        if z.expected != expected:
            problems.append(
                f"session {z.session_id}: expected {_eurs(z.expected)}, the payments make {_eurs(expected)}"
            )
        if z.payments != count[z.session_id]:
            problems.append(
                f"session {z.session_id}: the Z report counts {z.payments} payments, found {count[z.session_id]}"
            )
        if z.counted_cash_cents != z.expected.get("cash") or z.over_short_cash_cents != 0:
            problems.append(
                f"session {z.session_id}: counted {_eur(z.counted_cash_cents)} against "
                f"{_eur(z.expected.get('cash', 0))} expected (over/short {_eur(z.over_short_cash_cents)})"
            )
        tally = tallies.get(z.device_id)
        if tally is not None and (tally.cash_cents, tally.card_cents, tally.payments) != (
            z.sales.get("cash", 0),
            z.sales.get("card", 0),
            z.payments,
        ):
            problems.append(
                f"till {z.device_id} took {_eur(tally.cash_cents)} cash and {_eur(tally.card_cents)} card in "
                f"{tally.payments} payments by its own count; the Z report says {_eurs(z.sales)} in {z.payments}"
            )
    return problems


_RULES: dict[str, Callable[[Ledger], list[str]]] = {
    "settled": settled,
    "claimed_once": claimed_once,
    "fifo": fifo,
    "receipts": receipts,
    "money": money,
}


@dataclass(frozen=True)
class _Claims:
    """The claims of one kind in commit order: where each transaction's are, and each one's rank."""

    of: dict[int, list[int]]  # transaction → indexes into the audit rows
    rank: dict[int, int]  # audit row index → its rank among the claims of this kind


def _positions(rows: list[AuditRow], action: str) -> _Claims:
    of: dict[int, list[int]] = defaultdict(list)
    rank: dict[int, int] = {}
    for i, row in enumerate(rows):
        if row.action == action and row.transaction_id is not None:
            of[row.transaction_id].append(i)
            rank[i] = len(rank)
    return _Claims(of, rank)


def _soon(claims: _Claims, tid: int, index: int, concurrency: int) -> bool:
    """``tid`` was claimed after the claim at ``index``, within the next ``concurrency − 1`` claims."""
    later = next((j for j in claims.of.get(tid, []) if j > index), None)
    return later is not None and claims.rank[later] - claims.rank[index] < concurrency


def _can_serve(ledger: Ledger, tid: int, skills: frozenset[int] | None) -> bool:
    return skills is None or ledger.transactions[tid].services <= skills


def _first(candidates: object, key: Callable[[int], object]) -> int | None:
    ordered = sorted(candidates, key=key)  # type: ignore[call-overload]
    return ordered[0] if ordered else None


def _code(ledger: Ledger, tid: int) -> str:
    txn = ledger.transactions.get(tid)
    return f"{txn.code} (#{tid})" if txn else f"#{tid}"


def _ranges(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")


def _eur(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _eurs(amounts: dict[str, int]) -> str:
    return ", ".join(f"{k} {_eur(v)}" for k, v in sorted(amounts.items()))
