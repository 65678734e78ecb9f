"""Parts and stock: the catalogue, receiving and counting, and what orders hold and use.

An approved quote reserves its parts (as many as the shelf has; the rest is "missing" until more
arrive), the repair consumes them when it starts, a cancelled order releases them. Parts are
always locked in id order, so concurrent orders touching the same parts queue instead of
deadlocking, and the table's CHECKs keep every count at or above zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.db import sql
from assistec.db import stock as stock_db
from assistec.db.rows import MovementRow, PartRow
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, found
from assistec.services import audit
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_NOT_FOUND = "Peça não encontrada."
_STALE = "Esta peça foi alterada por outra pessoa. Recarregue e tente novamente."


@contextmanager
def _unique_sku() -> Iterator[None]:
    """A part whose SKU the shop already uses is a 409 on the ``sku`` field."""
    try:
        yield
    except sql.DuplicateError as exc:
        raise ConflictError("Já existe uma peça com este código (SKU).", details={"field": "sku"}) from exc


class StockService:
    """A shop's parts catalogue and shelf counts.

    Reads need ``STOCK_READ``, changes ``STOCK_WRITE``; each change is one transaction with its
    audit entry, every count change leaves a movement in the part's history, and no count ever
    drops below what orders hold.
    """

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def create(self, identity: Identity, fields: dict[str, Any]) -> PartRow:
        """Add a part (409 when its SKU is taken); a starting quantity is recorded as received."""
        with _unique_sku(), self._work(identity, Permission.STOCK_WRITE) as uow:
            part = stock_db.insert_part(uow.conn, tenant_id=uow.tenant_id, fields=fields)
            if part.quantity:
                _record(uow, part.id, "receive", part.quantity, note="Estoque inicial")
            uow.audit("create", "part", part.id, changes=fields)
            return part

    def get(self, identity: Identity, part_id: UUID) -> PartRow:
        """The part (404 when it is not the shop's)."""
        with self._work(identity, Permission.STOCK_READ) as uow:
            return _existing(uow, part_id)

    def find(
        self,
        identity: Identity,
        *,
        limit: int,
        after: tuple[datetime, UUID] | None,
        q: str | None,
        low_stock: bool,
    ) -> list[PartRow]:
        """A page of the catalogue, optionally filtered by text or to parts at or below their minimum."""
        with self._work(identity, Permission.STOCK_READ) as uow:
            return stock_db.list_parts(uow.conn, limit=limit, after=after, q=q, low_stock=low_stock)

    def search(self, identity: Identity, q: str, *, limit: int) -> list[PartRow]:
        """Parts matching ``q`` best first (the quote screen's picker)."""
        with self._work(identity, Permission.STOCK_READ) as uow:
            return stock_db.search(uow.conn, q, limit=limit)

    def update(self, identity: Identity, part_id: UUID, *, version: int, changes: dict[str, Any]) -> PartRow:
        """Change catalogue data under optimistic locking: 404 when absent, 409 when someone else
        changed it first (``current_version``) or the SKU is taken; an empty change is a no-op."""
        with _unique_sku(), self._work(identity, Permission.STOCK_WRITE) as uow:
            if not changes:
                return _existing(uow, part_id)
            before, after = uow.update_versioned(
                lambda: stock_db.get_part(uow.conn, part_id),
                lambda: stock_db.update_part(uow.conn, part_id, expected_version=version, changes=changes),
                version_of=lambda part: part.version,
                not_found=_NOT_FOUND,
                stale=_STALE,
            )
            uow.audit("update", "part", part_id, changes=audit.diff(before, changes))
            return after

    def move(
        self, identity: Identity, part_id: UUID, *, kind: str, quantity: int, note: str | None
    ) -> PartRow:
        """Receive ``quantity`` more (kind receive) or set the counted quantity (kind adjust).

        A count below what orders hold is refused (409); parts received go first to the orders
        waiting for them, oldest first.
        """
        with self._work(identity, Permission.STOCK_WRITE) as uow:
            part = found(stock_db.get_part(uow.conn, part_id, lock=True), _NOT_FOUND)
            delta = quantity if kind == "receive" else quantity - part.quantity
            if part.quantity + delta < part.reserved:
                raise ConflictError(
                    f"A contagem ({part.quantity + delta}) fica abaixo do reservado "
                    f"para ordens ({part.reserved}).",
                    details={"reserved": part.reserved, "quantity": part.quantity},
                )
            updated = _book(uow, part_id, kind, delta, shelf_delta=delta, reserved_delta=0, note=note)
            uow.audit(
                kind,
                "part",
                part_id,
                changes={"quantity": {"from": part.quantity, "to": updated.quantity}, "note": note},
            )
            if kind == "receive":
                top_up_waiting(uow, part_id)
            return stock_db.get_part(uow.conn, part_id) or updated

    def movements(self, identity: Identity, part_id: UUID, *, limit: int) -> list[MovementRow]:
        """The part's stock history, newest first (404 when it is not the shop's)."""
        with self._work(identity, Permission.STOCK_READ) as uow:
            _existing(uow, part_id)
            return stock_db.movements(uow.conn, part_id, limit=limit)


def _existing(uow: UnitOfWork, part_id: UUID) -> PartRow:
    return found(stock_db.get_part(uow.conn, part_id), _NOT_FOUND)


# --- what orders do to stock (inside the caller's unit of work) --------------------------------
def reserve(uow: UnitOfWork, *, order_id: UUID, quote_id: UUID, needs: dict[UUID, int]) -> dict[UUID, int]:
    """Reserve the quote's parts, as many of each as the shelf has; return what is still missing."""
    missing: dict[UUID, int] = {}
    for part_id in sorted(needs):
        needed = needs[part_id]
        part = stock_db.get_part(uow.conn, part_id, lock=True)
        if part is None:  # removed from the catalogue since the quote: nothing to hold
            missing[part_id] = needed
            continue
        take = _hold(uow, part, needed, order_id)
        stock_db.add_reservation(
            uow.conn,
            tenant_id=uow.tenant_id,
            order_id=order_id,
            quote_id=quote_id,
            part_id=part_id,
            needed=needed,
            reserved=take,
        )
        if take < needed:
            missing[part_id] = needed - take
    return missing


def top_up(uow: UnitOfWork, order_id: UUID) -> dict[UUID, int]:
    """Try again for an order's missing parts (stock arrived); return what is still missing."""
    missing: dict[UUID, int] = {}
    for r in stock_db.open_reservations(uow.conn, order_id):
        if r.reserved == r.needed:
            continue
        part = stock_db.get_part(uow.conn, r.part_id, lock=True)
        assert part is not None
        take = _hold(uow, part, r.needed - r.reserved, order_id)
        if take:
            stock_db.update_reservation(uow.conn, r.id, reserved=r.reserved + take, state="open")
        if r.reserved + take < r.needed:
            missing[r.part_id] = r.needed - r.reserved - take
    return missing


def top_up_waiting(uow: UnitOfWork, part_id: UUID) -> None:
    """Stock of a part arrived: orders waiting for it, oldest first, take what they still need."""
    rows = uow.conn.execute(
        "select distinct r.order_id, min(r.created_at) from reservations r where r.part_id = %s "
        "and r.state = 'open' and r.reserved < r.needed group by r.order_id order by 2",
        (part_id,),
    ).fetchall()
    for order_id, _ in rows:
        top_up(uow, order_id)


def consume(uow: UnitOfWork, order_id: UUID) -> None:
    """The repair starts: the reserved parts leave the shelf. Every part must be there."""
    reservations = stock_db.open_reservations(uow.conn, order_id)
    short = [r for r in reservations if r.reserved < r.needed]
    if short:
        raise ConflictError(
            "Faltam peças para iniciar o reparo: aguarde a chegada (status aguardando peças).",
            details={"missing": {str(r.part_id): r.needed - r.reserved for r in short}},
        )
    for r in sorted(reservations, key=lambda r: r.part_id):
        stock_db.get_part(uow.conn, r.part_id, lock=True)
        _book(
            uow,
            r.part_id,
            "consume",
            -r.reserved,
            shelf_delta=-r.reserved,
            reserved_delta=-r.reserved,
            order_id=order_id,
        )
        stock_db.update_reservation(uow.conn, r.id, reserved=r.reserved, state="consumed")


def release(uow: UnitOfWork, order_id: UUID) -> None:
    """The order is cancelled: what it held goes back on offer."""
    for r in sorted(stock_db.open_reservations(uow.conn, order_id), key=lambda r: r.part_id):
        if r.reserved:
            stock_db.get_part(uow.conn, r.part_id, lock=True)
            _book(
                uow,
                r.part_id,
                "release",
                -r.reserved,
                shelf_delta=0,
                reserved_delta=-r.reserved,
                order_id=order_id,
            )
        stock_db.update_reservation(uow.conn, r.id, reserved=0, state="released")


def _hold(uow: UnitOfWork, part: PartRow, wanted: int, order_id: UUID) -> int:
    """Reserve up to ``wanted`` of a locked part for the order, as many as are free; how many."""
    take = max(0, min(wanted, part.quantity - part.reserved))
    if take:
        _book(uow, part.id, "reserve", take, shelf_delta=0, reserved_delta=take, order_id=order_id)
    return take


def _book(
    uow: UnitOfWork,
    part_id: UUID,
    kind: str,
    quantity: int,
    *,
    shelf_delta: int,
    reserved_delta: int,
    order_id: UUID | None = None,
    note: str | None = None,
) -> PartRow:
    """Move a locked part's shelf and reserved counts and record the movement in its history."""
    part = stock_db.change_stock(uow.conn, part_id, quantity_delta=shelf_delta, reserved_delta=reserved_delta)
    _record(uow, part_id, kind, quantity, order_id=order_id, note=note)
    return part


def _record(
    uow: UnitOfWork,
    part_id: UUID,
    kind: str,
    quantity: int,
    *,
    order_id: UUID | None = None,
    note: str | None = None,
) -> None:
    stock_db.add_movement(
        uow.conn,
        tenant_id=uow.tenant_id,
        part_id=part_id,
        kind=kind,
        quantity=quantity,
        order_id=order_id,
        note=note,
        actor_user_id=uow.user_id,
    )
