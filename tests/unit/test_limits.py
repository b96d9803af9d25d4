"""The connection limits' counts, with no server: every socket counted from its opening, pending
sockets in a pool of their own that never takes the signed-in capacity, caps per address and per
principal, deadlines, and nothing left counted after any path out."""

from __future__ import annotations

import pytest

from server.protocol.limits import Caps, ConnectionLimits, Refusal

CAPS = Caps(max_connections=4, max_pending=3, per_address=5, pending_per_address=2, per_principal=2)


def limits(caps: Caps = CAPS) -> ConnectionLimits:
    return ConnectionLimits(caps)


def test_a_socket_is_pending_until_it_signs_in_then_counted_as_signed_in() -> None:
    lim = limits()
    assert lim.open("s1", "10.0.0.1", 0.0).refusal is None
    assert (lim.pending, lim.signed_in) == (1, 0)
    assert lim.sign_in("s1", "device:1") is None
    assert (lim.pending, lim.signed_in) == (0, 1)
    assert lim.is_signed_in("s1")
    lim.close("s1")
    assert (lim.pending, lim.signed_in, lim.count_of()) == (0, 0, 0)


@pytest.mark.parametrize(
    ("opened", "address", "refusal"),
    [
        # two pending from one address are allowed, the third is not
        ([("a", "10.0.0.1"), ("b", "10.0.0.1")], "10.0.0.1", Refusal.PENDING_ADDRESS_FULL),
        ([("a", "10.0.0.1"), ("b", "10.0.0.1")], "10.0.0.2", None),
        ([], "10.0.0.1", None),
    ],
)
def test_pending_sockets_per_address(opened: list[tuple[str, str]], address: str, refusal: Refusal | None) -> None:
    lim = limits()
    for sid, addr in opened:
        assert lim.open(sid, addr, 0.0).refusal is None
    assert lim.open("new", address, 1.0).refusal == refusal


def test_every_socket_of_an_address_counts_signed_in_or_not() -> None:
    lim = limits()
    for i in range(4):
        assert lim.open(f"s{i}", "10.0.0.1", 0.0).refusal is None
        assert lim.sign_in(f"s{i}", f"device:{i}") is None
    assert lim.open("p", "10.0.0.1", 0.0).refusal is None  # the fifth socket of the address
    assert lim.open("q", "10.0.0.1", 0.0).refusal is Refusal.ADDRESS_FULL
    assert lim.refused[Refusal.ADDRESS_FULL] == 1


def test_a_full_pending_pool_admits_the_newcomer_and_evicts_the_oldest() -> None:
    lim = limits()
    for i, addr in enumerate(("10.0.0.1", "10.0.0.2", "10.0.0.3")):
        assert lim.open(f"idle{i}", addr, i / 10).refusal is None
    assert lim.open("early", "10.0.0.9", 0.5).refusal is Refusal.PENDING_FULL  # none idle for 1 s yet
    admission = lim.open("screen", "10.0.0.9", 5.0)
    assert admission.refusal is None and admission.evicted == "idle0"
    assert lim.pending == 3 and lim.count_of(address="10.0.0.1") == 0
    assert lim.sign_in("screen", "device:1") is None  # the screen signs in as usual
    lim.close("idle0")  # its disconnect comes later: nothing is counted twice
    assert lim.pending == 2 and lim.evicted == 1


def test_pending_sockets_never_take_the_signed_in_capacity() -> None:
    lim = limits()
    for i in range(4):
        lim.open(f"s{i}", f"10.0.1.{i}", 0.0)
        assert lim.sign_in(f"s{i}", f"device:{i}") is None
    for i in range(10):  # a flood of token-less sockets: the pool churns, the signed-in stay
        assert lim.open(f"flood{i}", f"10.0.2.{i}", 1.0 + 2 * i).refusal is None
    assert lim.signed_in == 4 and lim.pending == 3
    lim.open("fifth", "10.0.1.9", 2.0)
    assert lim.sign_in("fifth", "device:9") is Refusal.SERVER_FULL
    assert not lim.is_signed_in("fifth") and lim.pending == 3  # refused: still pending, closed later


def test_a_principal_holds_a_few_connections_at_most() -> None:
    lim = limits()
    for sid in ("a", "b", "c"):
        lim.open(sid, f"10.0.0.{ord(sid)}", 0.0)
    assert lim.sign_in("a", "device:5") is None
    assert lim.sign_in("b", "device:5") is None
    assert lim.sign_in("c", "device:5") is Refusal.PRINCIPAL_FULL
    assert lim.sign_in("c", "staff:1") is None  # another principal is not held up
    lim.close("a")
    lim.open("d", "10.0.0.99", 0.0)
    assert lim.sign_in("d", "device:5") is None  # a slot freed by a close is free again


def test_signing_in_twice_counts_once_and_sign_out_undoes_it() -> None:
    lim = limits()
    lim.open("a", "10.0.0.1", 0.0)
    assert lim.sign_in("a", "device:1") is None
    assert lim.sign_in("a", "device:1") is None
    assert lim.count_of(principal="device:1") == 1
    lim.sign_out("a")  # a connect that failed after its slot was taken
    assert lim.count_of(principal="device:1") == 0 and lim.pending == 1 and lim.signed_in == 0
    lim.close("a")
    lim.close("a")
    assert lim.count_of() == 0 and lim.pending == 0


def test_overdue_lists_pending_sockets_past_their_deadline_only() -> None:
    lim = limits()
    lim.open("old", "10.0.0.1", 0.0)
    lim.open("signed", "10.0.0.2", 0.0)
    lim.sign_in("signed", "device:1")
    lim.open("young", "10.0.0.3", 4.0)
    assert lim.overdue(5.0, 5.0) == ["old"]
    assert lim.overdue(4.9, 5.0) == []


def test_signing_in_a_closed_socket_counts_nothing() -> None:
    lim = limits()
    assert lim.sign_in("gone", "device:1") is Refusal.SERVER_FULL
    assert lim.count_of(principal="device:1") == 0


def test_a_pending_socket_busy_connecting_is_never_evicted_and_a_newcomer_waits_instead() -> None:
    lim = limits()
    for i in range(3):
        lim.open(f"screen{i}", f"10.0.0.{i}", float(i))
        lim.connecting(f"screen{i}")  # a thousand screens back at once: all checking their tokens
    admission = lim.open("late", "10.0.0.9", 5.0)
    assert admission.refusal is Refusal.PENDING_FULL and admission.evicted is None
    assert lim.pending == 3 and lim.count_of(address="10.0.0.9") == 0
    assert lim.sign_in("screen0", "device:1") is None
    assert lim.open("late", "10.0.0.9", 6.0).refusal is None  # a moment later there is room


def test_eviction_takes_the_oldest_idle_socket_not_the_oldest_connecting_one() -> None:
    lim = limits()
    lim.open("connecting", "10.0.0.1", 0.0)
    lim.connecting("connecting")
    lim.open("idle", "10.0.0.2", 1.0)
    lim.open("idle2", "10.0.0.3", 2.0)
    assert lim.open("new", "10.0.0.4", 3.0).evicted == "idle"
    assert lim.open("newer", "10.0.0.5", 3.0).evicted == "idle2"
