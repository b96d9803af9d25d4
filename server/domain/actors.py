"""Who acts: a staff member, a device or the server itself, their roles, and what each may do.

Pure values: the service resolves a token to a `Principal`; the rules in `moves.py` and the
event table read its kind, role and capabilities from here, never from strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    STAFF = "staff"
    DEVICE = "device"
    SYSTEM = "system"


class StaffRole(StrEnum):
    THERAPIST = "therapist"
    CASHIER = "cashier"
    DESK = "desk"  # the front desk: corrects the queue, takes no payments
    ADMIN = "admin"


class DeviceRole(StrEnum):
    KIOSK = "kiosk"
    CASHIER = "cashier"  # a till
    ROOM = "room"  # a therapist room's box
    LOBBY = "lobby"


class SystemRole(StrEnum):
    SYSTEM = "system"


Role = StaffRole | DeviceRole | SystemRole


class Capability(StrEnum):
    ORDER = "order"  # create a transaction (kiosk)
    THERAPIST = "therapist"  # claim, start, add, finish, release
    CASHIER = "cashier"  # claim for payment, look up, pay, release
    CANCEL = "cancel"  # cancel any waiting or claimed transaction (front desk)
    CANCEL_OWN = "cancel_own"  # cancel a transaction this device created, while it waits
    # The front desk's corrections: no-show and recall, give back, transfer, pick out of order,
    # remove an item, undo a start or a finish, priority, shifts of others.
    FRONT_DESK = "front_desk"
    VIEW_STAFF = "view_staff"  # full customer names and items
    VIEW_PUBLIC = "view_public"  # codes and first names only
    REPORT_HEALTH = "report_health"  # appliance heartbeats
    PRINT = "print"  # an appliance's printer: take print jobs, report their results (a till, a kiosk)
    OFFICE = "office"  # the back office and the day's figures (/office): admins only


C = Capability
K = PrincipalKind
CAPABILITIES: dict[tuple[PrincipalKind, Role], frozenset[Capability]] = {
    (K.STAFF, StaffRole.THERAPIST): frozenset({C.THERAPIST, C.VIEW_STAFF, C.VIEW_PUBLIC}),
    # In a small spa the till is the front desk: a cashier has the desk's powers too.
    (K.STAFF, StaffRole.CASHIER): frozenset({C.CASHIER, C.CANCEL, C.FRONT_DESK, C.VIEW_STAFF, C.VIEW_PUBLIC}),
    (K.STAFF, StaffRole.DESK): frozenset({C.CANCEL, C.FRONT_DESK, C.VIEW_STAFF, C.VIEW_PUBLIC}),
    (K.STAFF, StaffRole.ADMIN): frozenset(Capability),
    (K.DEVICE, DeviceRole.KIOSK): frozenset({C.ORDER, C.CANCEL_OWN, C.VIEW_PUBLIC, C.REPORT_HEALTH, C.PRINT}),
    (K.DEVICE, DeviceRole.ROOM): frozenset({C.THERAPIST, C.VIEW_STAFF, C.VIEW_PUBLIC, C.REPORT_HEALTH}),
    (K.DEVICE, DeviceRole.CASHIER): frozenset(
        {C.CASHIER, C.CANCEL, C.FRONT_DESK, C.VIEW_STAFF, C.VIEW_PUBLIC, C.REPORT_HEALTH, C.PRINT}
    ),
    (K.DEVICE, DeviceRole.LOBBY): frozenset({C.VIEW_PUBLIC, C.REPORT_HEALTH}),
    # The server itself (releasing a vanished holder's claim, reading the queue it broadcasts).
    (K.SYSTEM, SystemRole.SYSTEM): frozenset(Capability),
}


def role_of(kind: PrincipalKind, role: str) -> Role:
    """The enum for a role stored as text in the database (ValueError for one we do not know)."""
    if kind is PrincipalKind.STAFF:
        return StaffRole(role)
    if kind is PrincipalKind.DEVICE:
        return DeviceRole(role)
    return SystemRole(role)


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: int
    role: Role
    name: str

    def __post_init__(self) -> None:
        # Built from database text as often as from enums: keep the enums, whichever came in.
        kind = PrincipalKind(self.kind)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "role", role_of(kind, self.role))

    @property
    def key(self) -> str:
        """How the audit log, idempotency keys and claim holders name this caller."""
        return f"{self.kind.value}:{self.id}"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return CAPABILITIES.get((self.kind, self.role), frozenset())

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def is_device(self) -> bool:
        return self.kind is PrincipalKind.DEVICE

    @property
    def is_admin(self) -> bool:
        return self.kind is PrincipalKind.STAFF and self.role is StaffRole.ADMIN

    @property
    def is_till(self) -> bool:
        return self.kind is PrincipalKind.DEVICE and self.role is DeviceRole.CASHIER

    @property
    def staff_id(self) -> int | None:
        return self.id if self.kind is PrincipalKind.STAFF else None

    @property
    def device_id(self) -> int | None:
        return self.id if self.kind is PrincipalKind.DEVICE else None

    def acts_as(self, role: StaffRole) -> bool:
        """A staff member in `role`, or an admin, who may act in every role."""
        return self.kind is PrincipalKind.STAFF and self.role in (role, StaffRole.ADMIN)


SYSTEM = Principal(PrincipalKind.SYSTEM, 0, SystemRole.SYSTEM, "server")
