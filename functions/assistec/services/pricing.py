"""The shop's price rules, discount rules and quote template (owners and admins set them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from assistec.db import quotes as quotes_db
from assistec.db import sql
from assistec.db.rows import DiscountRuleRow, PriceRuleRow, TemplateRow
from assistec.domain import quotes as quote_rules
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError, found
from assistec.services import audit
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_STALE = "Esta regra foi alterada por outra pessoa. Recarregue e tente novamente."
_PRICE_NOT_FOUND = "Regra de preço não encontrada."
_DISCOUNT_NOT_FOUND = "Regra de desconto não encontrada."


def shop_template(conn: sql.Conn) -> TemplateRow:
    """The shop's quote template; the default one (valid 7 days, version 0) until it saves its own."""
    return quotes_db.get_template(conn) or TemplateRow(
        body=quote_rules.DEFAULT_TEMPLATE, validity_days=7, version=0
    )


class PricingService:
    """What a shop charges: service prices per device, loyalty discounts and the quote message.

    Reading needs ``ORDERS_READ`` (whoever quotes sees them); changing needs ``SETTINGS_WRITE`` and
    is one transaction with its audit entry. Edits use optimistic locking: 404 when the rule is
    gone, 409 with ``current_version`` when someone else changed it first.
    """

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    # --- price rules ---------------------------------------------------------------------------
    def rules(self, identity: Identity) -> list[PriceRuleRow]:
        """The shop's service prices."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return quotes_db.list_rules(uow.conn)

    def add_rule(self, identity: Identity, fields: dict[str, Any]) -> PriceRuleRow:
        """Add a service price (409 when the service already has one for that type, brand and model)."""
        with _unique_price(), self._work(identity, Permission.SETTINGS_WRITE) as uow:
            rule = quotes_db.insert_rule(uow.conn, tenant_id=uow.tenant_id, fields=fields)
            uow.audit("create", "price_rule", rule.id, changes=fields)
            return rule

    def change_rule(
        self, identity: Identity, rule_id: UUID, *, version: int, changes: dict[str, Any]
    ) -> PriceRuleRow:
        """Change a service price (a price per model needs its brand, 422; 409 when it would
        duplicate another); an empty change is a no-op."""
        with _unique_price(), self._work(identity, Permission.SETTINGS_WRITE) as uow:

            def load() -> PriceRuleRow | None:
                rule = quotes_db.get_rule(uow.conn, rule_id)
                if rule is not None:
                    _require_brand_for_model(
                        changes.get("brand", rule.brand), changes.get("model", rule.model)
                    )
                return rule

            return _edit(
                uow,
                "price_rule",
                rule_id,
                changes,
                load=load,
                update=lambda: quotes_db.update_rule(
                    uow.conn, rule_id, expected_version=version, changes=changes
                ),
                not_found=_PRICE_NOT_FOUND,
            )

    def remove_rule(self, identity: Identity, rule_id: UUID) -> None:
        """Remove a service price (404 when absent); quotes already made keep their prices."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            current = quotes_db.get_rule(uow.conn, rule_id)
            if current is None or not quotes_db.delete_rule(uow.conn, rule_id):
                raise NotFoundError(_PRICE_NOT_FOUND)
            uow.audit(
                "delete",
                "price_rule",
                rule_id,
                changes={"service": current.service, "price_cents": current.price_cents},
            )

    # --- discount rules ------------------------------------------------------------------------
    def discounts(self, identity: Identity) -> list[DiscountRuleRow]:
        """The shop's discount rules."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return quotes_db.list_discounts(uow.conn)

    def add_discount(self, identity: Identity, fields: dict[str, Any]) -> DiscountRuleRow:
        """Add a discount rule."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            rule = quotes_db.insert_discount(uow.conn, tenant_id=uow.tenant_id, fields=fields)
            uow.audit("create", "discount_rule", rule.id, changes=fields)
            return rule

    def change_discount(
        self, identity: Identity, rule_id: UUID, *, version: int, changes: dict[str, Any]
    ) -> DiscountRuleRow:
        """Change a discount rule; an empty change is a no-op."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            return _edit(
                uow,
                "discount_rule",
                rule_id,
                changes,
                load=lambda: quotes_db.get_discount(uow.conn, rule_id),
                update=lambda: quotes_db.update_discount(
                    uow.conn, rule_id, expected_version=version, changes=changes
                ),
                not_found=_DISCOUNT_NOT_FOUND,
            )

    # --- template ------------------------------------------------------------------------------
    def template(self, identity: Identity) -> TemplateRow:
        """The shop's quote message and validity (the defaults until it saves its own)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return shop_template(uow.conn)

    def save_template(
        self, identity: Identity, *, version: int, body: str, validity_days: int
    ) -> TemplateRow:
        """Set the quote message and validity: 422 on unknown ``{{FIELDS}}``, 409 ``current_version``
        when someone else saved first."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            unknown = quote_rules.unknown_placeholders(body)
            if unknown:
                message = "Campos desconhecidos no modelo: " + ", ".join("{{" + u + "}}" for u in unknown)
                raise ValidationFailedError(message, details=[{"field": "body", "message": message}])
            row = quotes_db.save_template(
                uow.conn,
                tenant_id=uow.tenant_id,
                expected_version=version,
                body=body,
                validity_days=validity_days,
            )
            if row is None:
                raise ConflictError(
                    "O modelo foi alterado por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": shop_template(uow.conn).version},
                )
            uow.audit(
                "update",
                "quote_template",
                uow.tenant_id,
                changes={"validity_days": validity_days, "version": row.version},
            )
            return row


def _edit[R: (PriceRuleRow, DiscountRuleRow)](
    uow: UnitOfWork,
    entity: str,
    rule_id: UUID,
    changes: dict[str, Any],
    *,
    load: Callable[[], R | None],
    update: Callable[[], R | None],
    not_found: str,
) -> R:
    """Apply ``changes`` to one rule under optimistic locking and audit them (no changes: no write)."""
    if not changes:
        return found(load(), not_found)
    before, after = uow.update_versioned(
        load, update, version_of=lambda rule: rule.version, not_found=not_found, stale=_STALE
    )
    uow.audit("update", entity, rule_id, changes=audit.diff(before, changes))
    return after


def _require_brand_for_model(brand: str | None, model: str | None) -> None:
    if model is not None and brand is None:
        raise ValidationFailedError(
            "Informe a marca para um preço por modelo.",
            details=[{"field": "brand", "message": "Informe a marca para um preço por modelo."}],
        )


@contextmanager
def _unique_price() -> Iterator[None]:
    """A second price for the same service, type, brand and model is a 409 on ``service``."""
    try:
        yield
    except sql.DuplicateError as exc:
        raise ConflictError(
            "Já existe um preço para este serviço, tipo, marca e modelo.", details={"field": "service"}
        ) from exc
