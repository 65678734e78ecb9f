"""Service orders: intake, the status machine with each shop's tightening, history, warranty returns.

Every change is one transaction that also writes the audit entry and the domain event (outbox); the
event leaves for EventBridge after the commit (``OutboxRelay``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from assistec.db import events as events_db
from assistec.db import orders as orders_db
from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import OrderRow, TransitionRow, WorkflowRow
from assistec.domain import orders as machine
from assistec.domain.orders import Status
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError
from assistec.integrations.events import OutboxRelay
from assistec.services import audit, stock
from assistec.services.access import require
from assistec.services.audit import Actor

_STALE = "Esta ordem de serviço foi alterada por outra pessoa. Recarregue e tente novamente."
_NOT_FOUND = "Ordem de serviço não encontrada."


def new_tracking_token(tenant_id: UUID) -> str:
    """Unguessable (256 random bits) and self-routing: the tenant prefix picks the shop's rows."""
    return f"{tenant_id}.{secrets.token_urlsafe(32)}"


def tracking_token_tenant(token: str) -> UUID | None:
    tenant, _, rest = token.partition(".")
    if len(rest) < 20:
        return None
    try:
        return UUID(tenant)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class TransitionResult:
    order: OrderRow
    allowed_next: list[Status]


def _event_detail(order: OrderRow, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "number": order.number,
        "customer_id": str(order.customer_id),
        "device_id": str(order.device_id),
        "status": order.status,
        **extra,
    }


class OrdersService:
    def __init__(self, db: Database, relay: OutboxRelay) -> None:
        self._db = db
        self._relay = relay

    # --- reads ---------------------------------------------------------------------------------
    def get(self, identity: Identity, order_id: UUID) -> OrderRow:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            order = orders_db.get(conn, order_id)
        if order is None:
            raise NotFoundError(_NOT_FOUND)
        return order

    def find(self, identity: Identity, **filters: Any) -> list[OrderRow]:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return orders_db.list_orders(conn, **filters)

    def history(self, identity: Identity, order_id: UUID) -> list[TransitionRow]:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if orders_db.get(conn, order_id) is None:
                raise NotFoundError(_NOT_FOUND)
            return orders_db.history(conn, order_id)

    # --- writes --------------------------------------------------------------------------------
    def create(
        self,
        identity: Identity,
        fields: dict[str, Any],
        *,
        warranty_of: UUID | None = None,
        correlation_id: str | None = None,
    ) -> OrderRow:
        require(identity, Permission.ORDERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            device = repo.get_device(conn, fields["device_id"])
            if device is None or device.customer_id != fields["customer_id"]:
                raise ValidationFailedError(
                    "Aparelho não encontrado para este cliente.",
                    details=[{"field": "device_id", "message": "Aparelho não encontrado para este cliente."}],
                )
            self._check_technician(conn, fields.get("technician_id"))
            number = orders_db.next_number(conn, identity.tenant_id)
            order = orders_db.insert(
                conn,
                tenant_id=identity.tenant_id,
                number=number,
                tracking_token=new_tracking_token(identity.tenant_id),
                fields={**fields, **({"warranty_of": warranty_of} if warranty_of else {})},
            )
            orders_db.add_transition(
                conn,
                tenant_id=identity.tenant_id,
                order_id=order.id,
                from_status=None,
                to_status=order.status,
                reason="Garantia da OS anterior" if warranty_of else None,
                actor_user_id=identity.user_id,
            )
            audit.record(
                conn,
                identity,
                action="create",
                entity="order",
                entity_id=str(order.id),
                changes={"number": number, **{k: v for k, v in fields.items() if v is not None}},
                correlation_id=correlation_id,
            )
            event = events_db.add(
                conn,
                tenant_id=identity.tenant_id,
                detail_type="OrderCreated",
                detail=_event_detail(order, warranty_of=str(warranty_of) if warranty_of else None),
            )
        self._relay.flush_quietly([event])
        return order

    def update(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        version: int,
        changes: dict[str, Any],
        correlation_id: str | None = None,
    ) -> OrderRow:
        require(identity, Permission.ORDERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = orders_db.get(conn, order_id)
            if current is None:
                raise NotFoundError(_NOT_FOUND)
            if Status(current.status) in machine.TERMINAL:
                raise ConflictError(
                    "Ordem de serviço encerrada não pode ser alterada.", details={"status": current.status}
                )
            if not changes:
                return current
            if "technician_id" in changes:
                self._check_technician(conn, changes["technician_id"])
            updated = orders_db.update(conn, order_id, expected_version=version, changes=changes)
            if updated is None:
                raise ConflictError(_STALE, details={"current_version": current.version})
            audit.record(
                conn,
                identity,
                action="update",
                entity="order",
                entity_id=str(order_id),
                changes=audit.diff(current, changes),
                correlation_id=correlation_id,
            )
            return updated

    def transition(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        to: Status,
        version: int,
        reason: str | None,
        correlation_id: str | None = None,
    ) -> TransitionResult:
        require(identity, Permission.ORDERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = orders_db.get(conn, order_id, lock=True)
            if current is None:
                raise NotFoundError(_NOT_FOUND)
            if current.version != version:
                raise ConflictError(_STALE, details={"current_version": current.version})
            workflow = orders_db.get_workflow(conn)
            source = Status(current.status)
            allowed = machine.allowed_from(source, _pairs(workflow))
            if to not in allowed:
                raise ConflictError(
                    f"Não é possível passar de {machine.LABELS_PT[source]} para {machine.LABELS_PT[to]}.",
                    details={"from": source.value, "to": to.value, "allowed": [s.value for s in allowed]},
                )
            if (source, to) in machine.QUOTE_DECISIONS:
                raise ConflictError(
                    "A aprovação ou recusa vem do orçamento: registre a decisão do cliente no orçamento.",
                    details={"from": source.value, "to": to.value, "allowed": [s.value for s in allowed]},
                )
            order, event = apply_transition(
                conn, identity, current, to, workflow=workflow, reason=reason, correlation_id=correlation_id
            )
            next_allowed = machine.allowed_from(to, _pairs(workflow))
        self._relay.flush_quietly([event])
        return TransitionResult(order=order, allowed_next=next_allowed)

    def warranty_return(
        self, identity: Identity, order_id: UUID, *, reported_problem: str, correlation_id: str | None = None
    ) -> OrderRow:
        """Open a new order for the same customer and device, linked to the delivered original."""
        require(identity, Permission.ORDERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            original = orders_db.get(conn, order_id)
            if original is None:
                raise NotFoundError(_NOT_FOUND)
            if original.status != Status.DELIVERED or original.warranty_until is None:
                raise ConflictError("Só uma OS entregue tem garantia.", details={"status": original.status})
            today = orders_db.local_today(conn)
            if today > original.warranty_until:
                raise ConflictError(
                    f"A garantia desta OS terminou em {original.warranty_until:%d/%m/%Y}.",
                    details={"warranty_until": original.warranty_until.isoformat()},
                )
        return self.create(
            identity,
            {
                "customer_id": original.customer_id,
                "device_id": original.device_id,
                "reported_problem": reported_problem,
                "priority": "high",
            },
            warranty_of=original.id,
            correlation_id=correlation_id,
        )

    # --- workflow ------------------------------------------------------------------------------
    def workflow(self, identity: Identity) -> WorkflowRow:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return orders_db.get_workflow(conn)

    def save_workflow(
        self,
        identity: Identity,
        *,
        version: int,
        disabled: list[tuple[str, str]],
        warranty_days: int,
        correlation_id: str | None = None,
    ) -> WorkflowRow:
        require(identity, Permission.SETTINGS_WRITE)
        problems = machine.validate_disabled(disabled)
        if problems:
            raise ValidationFailedError(
                problems[0], details=[{"field": "disabled_transitions", "message": p} for p in problems]
            )
        pairs = sorted({(a, b) for a, b in disabled})
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = orders_db.get_workflow(conn)
            row = orders_db.save_workflow(
                conn,
                tenant_id=identity.tenant_id,
                expected_version=version,
                disabled=[list(p) for p in pairs],
                warranty_days=warranty_days,
            )
            if row is None:
                raise ConflictError(
                    "O fluxo foi alterado por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": current.version},
                )
            audit.record(
                conn,
                identity,
                action="update",
                entity="order_workflow",
                entity_id=str(identity.tenant_id),
                changes={
                    "disabled_transitions": {
                        "from": current.disabled_transitions,
                        "to": row.disabled_transitions,
                    },
                    "warranty_days": {"from": current.warranty_days, "to": row.warranty_days},
                },
                correlation_id=correlation_id,
            )
            return row

    @staticmethod
    def _check_technician(conn: repo.Conn, technician_id: UUID | None) -> None:
        if technician_id is None:
            return
        user = repo.get_user(conn, technician_id)
        if user is None or not user.active:
            raise ValidationFailedError(
                "Técnico não encontrado ou inativo.",
                details=[{"field": "technician_id", "message": "Técnico não encontrado ou inativo."}],
            )


def apply_transition(
    conn: repo.Conn,
    actor: Actor,
    current: OrderRow,
    to: Status,
    *,
    workflow: WorkflowRow,
    reason: str | None,
    correlation_id: str | None,
    actor_label: str | None = None,
    extra_detail: dict[str, Any] | None = None,
) -> tuple[OrderRow, UUID]:
    """Move a locked, checked order to ``to``: stock effects, history, audit and the domain event.

    Entering repairing takes the reserved parts off the shelf (all of them must be there);
    cancelling gives back what the order held.
    """
    source = Status(current.status)
    if to is Status.REPAIRING and source in (Status.APPROVED, Status.WAITING_PARTS):
        stock.top_up(conn, actor, current.id)
        stock.consume(conn, actor, current.id)
    elif to is Status.CANCELLED:
        stock.release(conn, actor, current.id)
    delivered_at = warranty_until = None
    if to is Status.DELIVERED:
        delivered_at = datetime.now(UTC)
        warranty_until = orders_db.local_today(conn) + timedelta(days=workflow.warranty_days)
    order = orders_db.set_status(
        conn,
        current.id,
        expected_version=current.version,
        status=to.value,
        delivered_at=delivered_at,
        warranty_until=warranty_until,
    )
    assert order is not None  # the row is locked and its version checked
    orders_db.add_transition(
        conn,
        tenant_id=current.tenant_id,
        order_id=current.id,
        from_status=current.status,
        to_status=to.value,
        reason=reason,
        actor_user_id=actor.user_id,
        actor_label=actor_label,
    )
    audit.record(
        conn,
        actor,
        action="transition",
        entity="order",
        entity_id=str(current.id),
        changes={"status": {"from": current.status, "to": to.value}, "reason": reason}
        | ({"by": actor_label} if actor_label else {}),
        correlation_id=correlation_id,
    )
    event = events_db.add(
        conn,
        tenant_id=current.tenant_id,
        detail_type="OrderStatusChanged",
        detail=_event_detail(order, previous_status=current.status, reason=reason, **(extra_detail or {})),
    )
    return order, event


def _pairs(workflow: WorkflowRow) -> list[tuple[str, str]]:
    return [(a, b) for a, b in workflow.disabled_transitions]
