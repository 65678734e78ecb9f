"""Service orders: intake, the status machine with each shop's tightening, history, warranty returns.

Every change is one unit of work: the shop's transaction with the audit entry and the domain event
(outbox), the event published to EventBridge after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from assistec.db import devices as devices_db
from assistec.db import orders as orders_db
from assistec.db import users as users_db
from assistec.db.rows import OrderListRow, OrderRow, TransitionRow, WorkflowRow
from assistec.domain import orders as machine
from assistec.domain import public_links
from assistec.domain.orders import Status
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, ValidationFailedError, found
from assistec.services import audit, stock
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_STALE = "Esta ordem de serviço foi alterada por outra pessoa. Recarregue e tente novamente."
_NOT_FOUND = "Ordem de serviço não encontrada."


@dataclass(frozen=True, slots=True)
class TransitionResult:
    """The order after a status change and the statuses it may move to next."""

    order: OrderRow
    allowed_next: list[Status]


class OrdersService:
    """A shop's service orders and its status machine.

    Reads need ``ORDERS_READ``; changes need ``ORDERS_WRITE`` (the workflow, ``SETTINGS_WRITE``).
    Each change is one transaction with its audit entry; intake and every status change also
    write their domain event (``OrderCreated``, ``OrderStatusChanged``), published after commit.
    """

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    # --- reads ---------------------------------------------------------------------------------
    def get(self, identity: Identity, order_id: UUID) -> OrderRow:
        """The order (404 when it is not the shop's)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return _existing(uow, order_id)

    def find(self, identity: Identity, **filters: Any) -> list[OrderListRow]:
        """A page of the shop's orders matching ``filters`` (``orders_db.list_orders``)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return orders_db.list_orders(uow.conn, **filters)

    def history(self, identity: Identity, order_id: UUID) -> list[TransitionRow]:
        """The order's status changes, oldest first (404 when it is not the shop's)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            _existing(uow, order_id)
            return orders_db.history(uow.conn, order_id)

    # --- writes --------------------------------------------------------------------------------
    def create(self, identity: Identity, fields: dict[str, Any]) -> OrderRow:
        """Intake: the next number of the shop (consecutive, also under concurrent intake) for one
        of the customer's devices (422 otherwise), its first history entry and ``OrderCreated``."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            return self._intake(uow, fields, warranty_of=None)

    def update(
        self, identity: Identity, order_id: UUID, *, version: int, changes: dict[str, Any]
    ) -> OrderRow:
        """Change an open order's details under optimistic locking: 404 when absent, 409 when it is
        closed or someone else changed it first (``current_version``); an empty change is a no-op."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            current = _existing(uow, order_id)
            if Status(current.status) in machine.TERMINAL:
                raise ConflictError(
                    "Ordem de serviço encerrada não pode ser alterada.", details={"status": current.status}
                )
            if not changes:
                return current
            if "technician_id" in changes:
                _check_technician(uow, changes["technician_id"])
            updated = orders_db.update(uow.conn, order_id, expected_version=version, changes=changes)
            if updated is None:
                raise ConflictError(_STALE, details={"current_version": current.version})
            uow.audit("update", "order", order_id, changes=audit.diff(current, changes))
            return updated

    def transition(
        self, identity: Identity, order_id: UUID, *, to: Status, version: int, reason: str | None
    ) -> TransitionResult:
        """Move the order to ``to`` when the shop's workflow allows it from its status (409 lists
        the allowed ones; the quote decisions are refused here, they come from the quote), with its
        stock effects (``apply_transition``); 409 ``current_version`` when the order moved on."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            current = _existing(uow, order_id, lock=True)
            if current.version != version:
                raise ConflictError(_STALE, details={"current_version": current.version})
            workflow = orders_db.get_workflow(uow.conn)
            source = Status(current.status)
            allowed = machine.allowed_from(source, workflow.disabled_transitions)
            refused = {"from": source.value, "to": to.value, "allowed": [s.value for s in allowed]}
            if to not in allowed:
                raise ConflictError(
                    f"Não é possível passar de {machine.LABELS_PT[source]} para {machine.LABELS_PT[to]}.",
                    details=refused,
                )
            if (source, to) in machine.QUOTE_DECISIONS:
                raise ConflictError(
                    "A aprovação ou recusa vem do orçamento: registre a decisão do cliente no orçamento.",
                    details=refused,
                )
            order = apply_transition(uow, current, to, workflow=workflow, reason=reason)
            return TransitionResult(order, machine.allowed_from(to, workflow.disabled_transitions))

    def warranty_return(self, identity: Identity, order_id: UUID, *, reported_problem: str) -> OrderRow:
        """Open a new high-priority order for the same customer and device, linked to the original;
        409 unless the original was delivered and its warranty (in the shop's calendar) still runs."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            original = _existing(uow, order_id)
            if original.status != Status.DELIVERED or original.warranty_until is None:
                raise ConflictError("Só uma OS entregue tem garantia.", details={"status": original.status})
            if orders_db.local_today(uow.conn) > original.warranty_until:
                raise ConflictError(
                    f"A garantia desta OS terminou em {original.warranty_until:%d/%m/%Y}.",
                    details={"warranty_until": original.warranty_until.isoformat()},
                )
            fields = {
                "customer_id": original.customer_id,
                "device_id": original.device_id,
                "reported_problem": reported_problem,
                "priority": "high",
            }
            return self._intake(uow, fields, warranty_of=original.id)

    # --- workflow ------------------------------------------------------------------------------
    def workflow(self, identity: Identity) -> WorkflowRow:
        """The shop's disabled transitions and warranty length (the defaults until it saves one)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return orders_db.get_workflow(uow.conn)

    def save_workflow(
        self, identity: Identity, *, version: int, disabled: list[tuple[str, str]], warranty_days: int
    ) -> WorkflowRow:
        """Tighten the shop's status machine and set the warranty length: 422 when the list would
        disable cancelling or a quote decision or strand a status, 409 ``current_version`` when
        someone else saved first."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            problems = machine.validate_disabled(disabled)
            if problems:
                raise ValidationFailedError(
                    problems[0], details=[{"field": "disabled_transitions", "message": p} for p in problems]
                )
            current = orders_db.get_workflow(uow.conn)
            row = orders_db.save_workflow(
                uow.conn,
                tenant_id=uow.tenant_id,
                expected_version=version,
                disabled=[list(pair) for pair in sorted({(a, b) for a, b in disabled})],
                warranty_days=warranty_days,
            )
            if row is None:
                raise ConflictError(
                    "O fluxo foi alterado por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": current.version},
                )
            uow.audit(
                "update",
                "order_workflow",
                uow.tenant_id,
                changes={
                    "disabled_transitions": {
                        "from": current.disabled_transitions,
                        "to": row.disabled_transitions,
                    },
                    "warranty_days": {"from": current.warranty_days, "to": row.warranty_days},
                },
            )
            return row

    # --- inside a unit of work -----------------------------------------------------------------
    @staticmethod
    def _intake_for(uow: UnitOfWork, fields: dict[str, Any]) -> OrderRow:
        """Intake inside another use case's unit of work (an appointment's check-in)."""
        return OrdersService._intake(uow, fields, warranty_of=None)

    @staticmethod
    def _intake(uow: UnitOfWork, fields: dict[str, Any], *, warranty_of: UUID | None) -> OrderRow:
        device = devices_db.get_device(uow.conn, fields["device_id"])
        if device is None or device.customer_id != fields["customer_id"]:
            raise ValidationFailedError(
                "Aparelho não encontrado para este cliente.",
                details=[{"field": "device_id", "message": "Aparelho não encontrado para este cliente."}],
            )
        _check_technician(uow, fields.get("technician_id"))
        number = orders_db.next_number(uow.conn, uow.tenant_id)
        order = orders_db.insert(
            uow.conn,
            tenant_id=uow.tenant_id,
            number=number,
            tracking_token=public_links.new_token(uow.tenant_id),
            fields={**fields, **({"warranty_of": warranty_of} if warranty_of else {})},
        )
        orders_db.add_transition(
            uow.conn,
            tenant_id=uow.tenant_id,
            order_id=order.id,
            from_status=None,
            to_status=order.status,
            reason="Garantia da OS anterior" if warranty_of else None,
            actor_user_id=uow.user_id,
        )
        uow.audit(
            "create",
            "order",
            order.id,
            changes={"number": number, **{k: v for k, v in fields.items() if v is not None}},
        )
        uow.emit("OrderCreated", _event_detail(order, warranty_of=str(warranty_of) if warranty_of else None))
        return order


def apply_transition(
    uow: UnitOfWork,
    current: OrderRow,
    to: Status,
    *,
    workflow: WorkflowRow,
    reason: str | None,
    actor_label: str | None = None,
    extra_detail: dict[str, Any] | None = None,
) -> OrderRow:
    """Move a locked, checked order to ``to``: stock effects, history, audit and ``OrderStatusChanged``.

    Entering repairing takes the reserved parts off the shelf (all of them must be there, 409
    otherwise); cancelling gives back what the order held; delivering starts the warranty.
    """
    source = Status(current.status)
    if to is Status.REPAIRING and source in (Status.APPROVED, Status.WAITING_PARTS):
        stock.top_up(uow, current.id)
        stock.consume(uow, current.id)
    elif to is Status.CANCELLED:
        stock.release(uow, current.id)
    delivered_at = warranty_until = None
    if to is Status.DELIVERED:
        delivered_at = datetime.now(UTC)
        warranty_until = orders_db.local_today(uow.conn) + timedelta(days=workflow.warranty_days)
    order = orders_db.set_status(
        uow.conn,
        current.id,
        expected_version=current.version,
        status=to.value,
        delivered_at=delivered_at,
        warranty_until=warranty_until,
    )
    assert order is not None  # the row is locked and its version checked
    orders_db.add_transition(
        uow.conn,
        tenant_id=current.tenant_id,
        order_id=current.id,
        from_status=current.status,
        to_status=to.value,
        reason=reason,
        actor_user_id=uow.user_id,
        actor_label=actor_label,
    )
    uow.audit(
        "transition",
        "order",
        current.id,
        changes={"status": {"from": current.status, "to": to.value}, "reason": reason}
        | ({"by": actor_label} if actor_label else {}),
    )
    uow.emit(
        "OrderStatusChanged",
        _event_detail(order, previous_status=current.status, reason=reason, **(extra_detail or {})),
    )
    return order


def _existing(uow: UnitOfWork, order_id: UUID, *, lock: bool = False) -> OrderRow:
    return found(orders_db.get(uow.conn, order_id, lock=lock), _NOT_FOUND)


def _check_technician(uow: UnitOfWork, technician_id: UUID | None) -> None:
    if technician_id is None:
        return
    user = users_db.get_user(uow.conn, technician_id)
    if user is None or not user.active:
        raise ValidationFailedError(
            "Técnico não encontrado ou inativo.",
            details=[{"field": "technician_id", "message": "Técnico não encontrado ou inativo."}],
        )


def _event_detail(order: OrderRow, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "number": order.number,
        "customer_id": str(order.customer_id),
        "device_id": str(order.device_id),
        "status": order.status,
        # Whose bench it is on: the real-time push shows a technician their own orders only.
        "technician_id": str(order.technician_id) if order.technician_id else None,
        **extra,
    }
