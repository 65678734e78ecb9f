"""Who may do what inside a shop. Pure data: the API checks it, the tests read it."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    TECHNICIAN = "technician"
    ATTENDANT = "attendant"


class Permission(StrEnum):
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    SETTINGS_READ = "settings:read"
    SETTINGS_WRITE = "settings:write"
    AUDIT_READ = "audit:read"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    DEVICES_UNLOCK_READ = "devices:unlock-read"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    REPORTS_READ = "reports:read"
    # The shop's agenda: everyone at the counter books, moves and cancels appointments.
    APPOINTMENTS_READ = "appointments:read"
    APPOINTMENTS_WRITE = "appointments:write"
    # The shop's own subscription to assistec (plan, invoices): owners and admins.
    BILLING_MANAGE = "billing:manage"
    # The shop's bank agreements and bank files (retorno, statements): owners and admins.
    BANKING_MANAGE = "banking:manage"
    # The shop's own boletos (issued under its bank agreements): the counter issues, sends and reads
    # them as it does Asaas charges; the bench does not.
    BOLETOS_READ = "boletos:read"
    BOLETOS_WRITE = "boletos:write"


_ALL = frozenset(Permission)
# Everyone at the counter or the bench registers and looks up customers.
_STAFF = frozenset(
    {
        Permission.USERS_READ,
        Permission.SETTINGS_READ,
        Permission.CUSTOMERS_READ,
        Permission.CUSTOMERS_WRITE,
        Permission.ORDERS_READ,
        Permission.ORDERS_WRITE,
        Permission.STOCK_READ,
        Permission.APPOINTMENTS_READ,
        Permission.APPOINTMENTS_WRITE,
    }
)

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL,
    # The technician unlocks the device to test it; the counter takes the code but cannot read it back.
    Role.TECHNICIAN: _STAFF | {Permission.DEVICES_UNLOCK_READ, Permission.STOCK_WRITE},
    Role.ATTENDANT: _STAFF | {Permission.BOLETOS_READ, Permission.BOLETOS_WRITE},
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]


def may_assign(actor: Role, target_role: Role) -> bool:
    """Only owners and admins hand out roles, and never the owner's: it is created at signup, once."""
    if target_role is Role.OWNER:
        return False
    return actor in (Role.OWNER, Role.ADMIN)
