"""The unit of work every use case opens: permission, the shop's transaction, audit, events.

A service holds one ``UnitsOfWork`` (built once per environment by the composition root) and opens
a ``UnitOfWork`` per use case::

    with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
        customer = customers_db.insert(uow.conn, tenant_id=uow.tenant_id, fields=fields)
        uow.audit("create", "customer", customer.id, changes=fields)
        uow.emit("CustomerCreated", {...})

Opening it checks the permission (403 before anything is read), enters the shop's transaction
(row-level security scoped to the shop; a suspended shop is refused inside the API's billing gate),
and gives the block:

- ``audit`` — an audit-log row in the same transaction, with the request's correlation id;
- ``emit`` — a domain event written to the outbox in the same transaction, published right after
  the commit (and by the scheduled relay if that fails), so an event exists iff the change did;
- ``update_versioned`` — the optimistic-locking update: 404 when the row is gone, 409 with
  ``current_version`` when someone else changed it first.

All per-request state (the events to publish, the actor) lives on the ``UnitOfWork``, never on the
cached service, so one environment's consecutive requests cannot see each other's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import audit as audit_db
from assistec.db import events as events_db
from assistec.db.connection import RoleChangedError, SessionEndedError
from assistec.domain.permissions import Permission, Role, allows
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, ForbiddenError, InvalidTokenError, found
from assistec.observability import correlation_id
from assistec.services.access import require
from assistec.services.audit import Actor

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.db.sql import Conn
    from assistec.services.outbox import OutboxRelay


@dataclass(slots=True)
class UnitOfWork:
    """One open transaction in one shop, on behalf of one actor."""

    conn: Conn
    actor: Actor
    events: list[UUID] = field(default_factory=list)

    @property
    def tenant_id(self) -> UUID:
        return self.actor.tenant_id

    @property
    def user_id(self) -> UUID | None:
        return self.actor.user_id

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: object,
        *,
        changes: dict[str, Any] | None = None,
        by: Actor | None = None,
    ) -> None:
        """Append who did what to the shop's audit log, in this transaction (``by`` when the one who
        acted is not the unit's actor, e.g. the owner a signup just created)."""
        actor = by or self.actor
        audit_db.audit(
            self.conn,
            tenant_id=actor.tenant_id,
            actor_user_id=actor.user_id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            changes=changes,
            correlation_id=correlation_id(),
        )

    def emit(self, detail_type: str, detail: dict[str, Any]) -> UUID:
        """Write a domain event to the outbox; it leaves for the bus after the commit."""
        event = events_db.add(self.conn, tenant_id=self.tenant_id, detail_type=detail_type, detail=detail)
        self.events.append(event)
        return event

    def update_versioned[R](
        self,
        load: Callable[[], R | None],
        update: Callable[[], R | None],
        *,
        version_of: Callable[[R], int],
        not_found: str,
        stale: str,
    ) -> tuple[R, R]:
        """Optimistic locking: ``load`` the row (404 ``not_found`` when absent), run ``update`` (which
        matches the caller's expected version) and return ``(before, after)``; when ``update`` finds
        another version, 409 ``stale`` with the row's ``current_version`` and nothing written."""
        current = found(load(), not_found)
        updated = update()
        if updated is None:
            raise ConflictError(stale, details={"current_version": version_of(current)})
        return current, updated


class UnitsOfWork:
    """Opens units of work on one database; publishes their events after each commit."""

    def __init__(self, db: Database, relay: OutboxRelay | None = None) -> None:
        self.db = db
        self._relay = relay

    @contextmanager
    def __call__(self, actor: Identity | Actor, permission: Permission | None = None) -> Iterator[UnitOfWork]:
        """Check ``permission`` (``actor`` must then be a signed-in ``Identity``), then run the block
        in one transaction of the actor's shop; events emitted in it are published after commit."""
        if permission is not None:
            if not isinstance(actor, Identity):
                raise TypeError("a permission is checked on a signed-in user's identity")
            require(actor, permission)
        session = actor.session_id if isinstance(actor, Identity) else None
        try:
            with self.db.tenant_tx(
                actor.tenant_id,
                user_id=actor.user_id,
                session_id=session,
                role=actor.role.value if isinstance(actor, Identity) else None,
            ) as conn:
                uow = UnitOfWork(conn, actor)
                yield uow
        except SessionEndedError:
            raise InvalidTokenError() from None
        except RoleChangedError as exc:
            # Demoted since the token was issued: a right the new role lacks is refused at once
            # (403); otherwise the token is stale and the client refreshes it (401).
            assert isinstance(actor, Identity)
            if permission is not None and not allows(Role(exc.role), permission):
                raise ForbiddenError() from None
            raise InvalidTokenError() from None
        self.publish(uow.events)

    def publish(self, events: list[UUID]) -> None:
        """Publish committed events now (never fails the caller: the scheduled relay retries)."""
        if events and self._relay is not None:
            self._relay.flush_quietly(events)
