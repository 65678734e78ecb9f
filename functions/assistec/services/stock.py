"""Parts and stock: the catalogue, receiving and counting, and what orders hold and use.

An approved quote reserves its parts (as many as the shelf has; the rest is "missing" until more
arrive), the repair consumes them when it starts, a cancelled order releases them. Parts are
always locked in id order, so concurrent orders touching the same parts queue instead of
deadlocking, and the table's CHECKs keep every count at or above zero.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.db import repositories as repo
from assistec.db import stock as stock_db
from assistec.db.connection import Database
from assistec.db.rows import MovementRow, PartRow
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError
from assistec.services import audit
from assistec.services.access import require
from assistec.services.audit import Actor

_NOT_FOUND = "Peça não encontrada."


def _duplicate(exc: repo.DuplicateError) -> ConflictError:
    return ConflictError("Já existe uma peça com este código (SKU).", details={"field": "sku"})


class StockService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self, identity: Identity, fields: dict[str, Any], *, correlation_id: str | None = None
    ) -> PartRow:
        require(identity, Permission.STOCK_WRITE)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                part = stock_db.insert_part(conn, tenant_id=identity.tenant_id, fields=fields)
                if part.quantity:
                    stock_db.add_movement(
                        conn,
                        tenant_id=identity.tenant_id,
                        part_id=part.id,
                        kind="receive",
                        quantity=part.quantity,
                        note="Estoque inicial",
                        actor_user_id=identity.user_id,
                    )
                audit.record(
                    conn,
                    identity,
                    action="create",
                    entity="part",
                    entity_id=str(part.id),
                    changes=fields,
                    correlation_id=correlation_id,
                )
                return part
        except repo.DuplicateError as exc:
            raise _duplicate(exc) from exc

    def get(self, identity: Identity, part_id: UUID) -> PartRow:
        require(identity, Permission.STOCK_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            part = stock_db.get_part(conn, part_id)
        if part is None:
            raise NotFoundError(_NOT_FOUND)
        return part

    def find(
        self,
        identity: Identity,
        *,
        limit: int,
        after: tuple[datetime, UUID] | None,
        q: str | None,
        low_stock: bool,
    ) -> list[PartRow]:
        require(identity, Permission.STOCK_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return stock_db.list_parts(conn, limit=limit, after=after, q=q, low_stock=low_stock)

    def search(self, identity: Identity, q: str, *, limit: int) -> list[PartRow]:
        require(identity, Permission.STOCK_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return stock_db.search(conn, q, limit=limit)

    def update(
        self,
        identity: Identity,
        part_id: UUID,
        *,
        version: int,
        changes: dict[str, Any],
        correlation_id: str | None = None,
    ) -> PartRow:
        require(identity, Permission.STOCK_WRITE)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                current = stock_db.get_part(conn, part_id)
                if current is None:
                    raise NotFoundError(_NOT_FOUND)
                if not changes:
                    return current
                updated = stock_db.update_part(conn, part_id, expected_version=version, changes=changes)
                if updated is None:
                    raise ConflictError(
                        "Esta peça foi alterada por outra pessoa. Recarregue e tente novamente.",
                        details={"current_version": current.version},
                    )
                audit.record(
                    conn,
                    identity,
                    action="update",
                    entity="part",
                    entity_id=str(part_id),
                    changes=audit.diff(current, changes),
                    correlation_id=correlation_id,
                )
                return updated
        except repo.DuplicateError as exc:
            raise _duplicate(exc) from exc

    def move(
        self,
        identity: Identity,
        part_id: UUID,
        *,
        kind: str,
        quantity: int,
        note: str | None,
        correlation_id: str | None = None,
    ) -> PartRow:
        """Receive ``quantity`` more (kind receive) or set the counted quantity (kind adjust)."""
        require(identity, Permission.STOCK_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            part = stock_db.get_part(conn, part_id, lock=True)
            if part is None:
                raise NotFoundError(_NOT_FOUND)
            delta = quantity if kind == "receive" else quantity - part.quantity
            if part.quantity + delta < part.reserved:
                raise ConflictError(
                    f"A contagem ({part.quantity + delta}) fica abaixo do reservado "
                    f"para ordens ({part.reserved}).",
                    details={"reserved": part.reserved, "quantity": part.quantity},
                )
            updated = stock_db.change_stock(conn, part_id, quantity_delta=delta, reserved_delta=0)
            stock_db.add_movement(
                conn,
                tenant_id=identity.tenant_id,
                part_id=part_id,
                kind=kind,
                quantity=delta,
                note=note,
                actor_user_id=identity.user_id,
            )
            audit.record(
                conn,
                identity,
                action=kind,
                entity="part",
                entity_id=str(part_id),
                changes={"quantity": {"from": part.quantity, "to": updated.quantity}, "note": note},
                correlation_id=correlation_id,
            )
            if kind == "receive":
                top_up_waiting(conn, identity, part_id)
            return stock_db.get_part(conn, part_id) or updated

    def movements(self, identity: Identity, part_id: UUID, *, limit: int) -> list[MovementRow]:
        require(identity, Permission.STOCK_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if stock_db.get_part(conn, part_id) is None:
                raise NotFoundError(_NOT_FOUND)
            return stock_db.movements(conn, part_id, limit=limit)


# --- what orders do to stock (inside the caller's transaction) ---------------------------------
def reserve(
    conn: repo.Conn, identity: Actor, *, order_id: UUID, quote_id: UUID, needs: dict[UUID, int]
) -> dict[UUID, int]:
    """Reserve the quote's parts, as many of each as the shelf has; return what is still missing."""
    missing: dict[UUID, int] = {}
    for part_id in sorted(needs):
        needed = needs[part_id]
        part = stock_db.get_part(conn, part_id, lock=True)
        if part is None:  # removed from the catalogue since the quote: nothing to hold
            missing[part_id] = needed
            continue
        take = max(0, min(needed, part.quantity - part.reserved))
        if take:
            stock_db.change_stock(conn, part_id, quantity_delta=0, reserved_delta=take)
            stock_db.add_movement(
                conn,
                tenant_id=identity.tenant_id,
                part_id=part_id,
                kind="reserve",
                quantity=take,
                order_id=order_id,
                actor_user_id=identity.user_id,
            )
        stock_db.add_reservation(
            conn,
            tenant_id=identity.tenant_id,
            order_id=order_id,
            quote_id=quote_id,
            part_id=part_id,
            needed=needed,
            reserved=take,
        )
        if take < needed:
            missing[part_id] = needed - take
    return missing


def top_up(conn: repo.Conn, identity: Actor, order_id: UUID) -> dict[UUID, int]:
    """Try again for an order's missing parts (stock arrived); return what is still missing."""
    missing: dict[UUID, int] = {}
    for r in stock_db.open_reservations(conn, order_id):
        if r.reserved == r.needed:
            continue
        part = stock_db.get_part(conn, r.part_id, lock=True)
        assert part is not None
        take = max(0, min(r.needed - r.reserved, part.quantity - part.reserved))
        if take:
            stock_db.change_stock(conn, r.part_id, quantity_delta=0, reserved_delta=take)
            stock_db.add_movement(
                conn,
                tenant_id=identity.tenant_id,
                part_id=r.part_id,
                kind="reserve",
                quantity=take,
                order_id=order_id,
                actor_user_id=identity.user_id,
            )
            stock_db.update_reservation(conn, r.id, reserved=r.reserved + take, state="open")
        if r.reserved + take < r.needed:
            missing[r.part_id] = r.needed - r.reserved - take
    return missing


def top_up_waiting(conn: repo.Conn, identity: Actor, part_id: UUID) -> None:
    """Stock of a part arrived: orders waiting for it, oldest first, take what they still need."""
    rows = conn.execute(
        "select distinct r.order_id, min(r.created_at) from reservations r where r.part_id = %s "
        "and r.state = 'open' and r.reserved < r.needed group by r.order_id order by 2",
        (part_id,),
    ).fetchall()
    for order_id, _ in rows:
        top_up(conn, identity, order_id)


def consume(conn: repo.Conn, identity: Actor, order_id: UUID) -> None:
    """The repair starts: the reserved parts leave the shelf. Every part must be there."""
    reservations = stock_db.open_reservations(conn, order_id)
    short = [r for r in reservations if r.reserved < r.needed]
    if short:
        raise ConflictError(
            "Faltam peças para iniciar o reparo: aguarde a chegada (status aguardando peças).",
            details={"missing": {str(r.part_id): r.needed - r.reserved for r in short}},
        )
    for r in sorted(reservations, key=lambda r: r.part_id):
        stock_db.get_part(conn, r.part_id, lock=True)
        stock_db.change_stock(conn, r.part_id, quantity_delta=-r.reserved, reserved_delta=-r.reserved)
        stock_db.add_movement(
            conn,
            tenant_id=identity.tenant_id,
            part_id=r.part_id,
            kind="consume",
            quantity=-r.reserved,
            order_id=order_id,
            actor_user_id=identity.user_id,
        )
        stock_db.update_reservation(conn, r.id, reserved=r.reserved, state="consumed")


def release(conn: repo.Conn, identity: Actor, order_id: UUID) -> None:
    """The order is cancelled: what it held goes back on offer."""
    for r in sorted(stock_db.open_reservations(conn, order_id), key=lambda r: r.part_id):
        if r.reserved:
            stock_db.get_part(conn, r.part_id, lock=True)
            stock_db.change_stock(conn, r.part_id, quantity_delta=0, reserved_delta=-r.reserved)
            stock_db.add_movement(
                conn,
                tenant_id=identity.tenant_id,
                part_id=r.part_id,
                kind="release",
                quantity=-r.reserved,
                order_id=order_id,
                actor_user_id=identity.user_id,
            )
        stock_db.update_reservation(conn, r.id, reserved=0, state="released")
