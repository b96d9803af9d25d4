"""Who may hold a socket: the counts behind every connection limit, with no I/O.

Every open engine.io socket is counted from the moment it opens, signed in or not. A socket is
*pending* until its Socket.IO connect presented a valid token; pending sockets have a pool of
their own (`max_pending`, and `pending_per_address`) so that a guest on the Wi-Fi opening
sockets without a token never takes the capacity kept for staff and devices (`max_connections`),
and they are closed at their deadline (`overdue`). When the pending pool is full a new socket
still gets in and the oldest pending one that has been *idle* for `EVICT_IDLE_AFTER_S` (no
Socket.IO connect in all that time) is closed instead: a screen sends its connect within
milliseconds of opening, an attacker's idle sockets are the old ones, so filling the pool with
idle sockets locks nobody out. When no pending socket is that old (a thousand screens coming
back at once, their connects still on their way in) a newcomer is refused, and tries again a
moment later. Per address every socket counts; per principal (a
device token, a staff member) the signed-in ones.

Owned by the event loop: every call comes from its one thread, so nothing here locks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

# A pending socket idle this long (opened, no Socket.IO connect yet) may be closed to make room:
# a screen's connect follows its socket's opening within milliseconds, even on a busy server.
EVICT_IDLE_AFTER_S = 1.0


class Refusal(StrEnum):
    """Why a socket was not admitted (logged, and told to the client in the refusal's message)."""

    SERVER_FULL = "the server is at its connection limit"
    PENDING_FULL = "too many connections are signing in at once"
    ADDRESS_FULL = "too many connections from this address"
    PENDING_ADDRESS_FULL = "too many connections from this address are waiting to sign in"
    PRINCIPAL_FULL = "too many connections with this token"


@dataclass(frozen=True)
class Caps:
    max_connections: int  # signed-in sockets
    max_pending: int  # sockets not signed in yet
    per_address: int  # every socket from one address
    pending_per_address: int
    per_principal: int  # signed-in sockets of one token's principal


@dataclass(frozen=True)
class Admission:
    refusal: Refusal | None = None  # not admitted, and nothing counted
    evicted: str | None = None  # admitted in place of this pending socket, which is to be closed


@dataclass
class _Socket:
    address: str
    opened_at: float
    connecting: bool = False  # its Socket.IO connect is being checked
    principal: str | None = None  # set once signed in


class ConnectionLimits:
    def __init__(self, caps: Caps) -> None:
        self.caps = caps
        self._sockets: dict[str, _Socket] = {}
        self._by_address: Counter[str] = Counter()
        self._pending_by_address: Counter[str] = Counter()
        self._by_principal: Counter[str] = Counter()
        self._pending = 0
        self.refused: Counter[Refusal] = Counter()
        self.evicted = 0

    @property
    def signed_in(self) -> int:
        return len(self._sockets) - self._pending

    @property
    def pending(self) -> int:
        return self._pending

    def open(self, sid: str, address: str, now: float) -> Admission:
        """A socket opened: admitted as pending (perhaps in place of the oldest pending one), or
        refused (then nothing is counted)."""
        if sid in self._sockets:
            return Admission()
        refusal = None
        if self._by_address[address] >= self.caps.per_address:
            refusal = Refusal.ADDRESS_FULL
        elif self._pending_by_address[address] >= self.caps.pending_per_address:
            refusal = Refusal.PENDING_ADDRESS_FULL
        if refusal is not None:
            self.refused[refusal] += 1
            return Admission(refusal=refusal)
        evicted = None
        if self._pending >= self.caps.max_pending:
            evicted = self._oldest_idle(now)
            if evicted is None:
                self.refused[Refusal.PENDING_FULL] += 1
                return Admission(refusal=Refusal.PENDING_FULL)
            self.close(evicted)
            self.evicted += 1
        self._sockets[sid] = _Socket(address, now)
        self._by_address[address] += 1
        self._pending_by_address[address] += 1
        self._pending += 1
        return Admission(evicted=evicted)

    def connecting(self, sid: str) -> None:
        """The socket's Socket.IO connect arrived: it is no longer evicted to make room."""
        socket = self._sockets.get(sid)
        if socket is not None:
            socket.connecting = True

    def sign_in(self, sid: str, principal: str) -> Refusal | None:
        """A pending socket presented a valid token: it moves to the signed-in pool, or is refused
        (and stays pending until it is closed). Signing in again on a signed-in socket is a no-op."""
        socket = self._sockets.get(sid)
        if socket is None:
            return Refusal.SERVER_FULL  # closed meanwhile; nothing to count
        if socket.principal is not None:
            return None
        refusal = None
        if self.signed_in >= self.caps.max_connections:
            refusal = Refusal.SERVER_FULL
        elif self._by_principal[principal] >= self.caps.per_principal:
            refusal = Refusal.PRINCIPAL_FULL
        if refusal is not None:
            self.refused[refusal] += 1
            return refusal
        socket.principal = principal
        self._by_principal[principal] += 1
        _decrement(self._pending_by_address, socket.address)
        self._pending -= 1
        return None

    def sign_out(self, sid: str) -> None:
        """A signed-in socket lost its sign-in (a connect undone): pending again until it closes."""
        socket = self._sockets.get(sid)
        if socket is None or socket.principal is None:
            return
        self._release_principal(socket.principal)
        socket.principal = None
        self._pending_by_address[socket.address] += 1
        self._pending += 1

    def close(self, sid: str) -> None:
        """The socket is gone, whatever state it was in. Closing twice is a no-op."""
        socket = self._sockets.pop(sid, None)
        if socket is None:
            return
        _decrement(self._by_address, socket.address)
        if socket.principal is None:
            _decrement(self._pending_by_address, socket.address)
            self._pending -= 1
        else:
            self._release_principal(socket.principal)

    def overdue(self, now: float, deadline_s: float) -> list[str]:
        """Pending sockets opened more than `deadline_s` ago: to be closed."""
        cutoff = now - deadline_s
        return [sid for sid, s in self._sockets.items() if s.principal is None and s.opened_at <= cutoff]

    def is_signed_in(self, sid: str) -> bool:
        socket = self._sockets.get(sid)
        return socket is not None and socket.principal is not None

    def count_of(self, *, address: str | None = None, principal: str | None = None) -> int:
        if address is not None:
            return self._by_address[address]
        if principal is not None:
            return self._by_principal[principal]
        return len(self._sockets)

    def _oldest_idle(self, now: float) -> str | None:
        # Sockets are kept in the order they opened (dicts keep insertion order): the first idle
        # one is the oldest, and if it is too young, so are the others.
        for sid, s in self._sockets.items():
            if s.principal is None and not s.connecting:
                return sid if now - s.opened_at >= EVICT_IDLE_AFTER_S else None
        return None

    def _release_principal(self, principal: str) -> None:
        _decrement(self._by_principal, principal)


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
