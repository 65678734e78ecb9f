"""The shop's price rules, discount rules and quote template (owners and admins set them)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from assistec.db import quotes as quotes_db
from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import DiscountRuleRow, PriceRuleRow, TemplateRow
from assistec.domain import quotes as text
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError
from assistec.services import audit
from assistec.services.access import require

_STALE = "Esta regra foi alterada por outra pessoa. Recarregue e tente novamente."


def _duplicate_rule() -> ConflictError:
    return ConflictError(
        "Já existe um preço para este serviço, tipo, marca e modelo.", details={"field": "service"}
    )


class PricingService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- price rules ---------------------------------------------------------------------------
    def rules(self, identity: Identity) -> list[PriceRuleRow]:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return quotes_db.list_rules(conn)

    def add_rule(
        self, identity: Identity, fields: dict[str, Any], *, correlation_id: str | None
    ) -> PriceRuleRow:
        require(identity, Permission.SETTINGS_WRITE)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                rule = quotes_db.insert_rule(conn, tenant_id=identity.tenant_id, fields=fields)
                audit.record(
                    conn,
                    identity,
                    action="create",
                    entity="price_rule",
                    entity_id=str(rule.id),
                    changes=fields,
                    correlation_id=correlation_id,
                )
                return rule
        except repo.DuplicateError as exc:
            raise _duplicate_rule() from exc

    def change_rule(
        self,
        identity: Identity,
        rule_id: UUID,
        *,
        version: int,
        changes: dict[str, Any],
        correlation_id: str | None,
    ) -> PriceRuleRow:
        require(identity, Permission.SETTINGS_WRITE)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                current = quotes_db.get_rule(conn, rule_id)
                if current is None:
                    raise NotFoundError("Regra de preço não encontrada.")
                merged = {
                    "brand": changes.get("brand", current.brand),
                    "model": changes.get("model", current.model),
                }
                if merged["model"] is not None and merged["brand"] is None:
                    raise ValidationFailedError(
                        "Informe a marca para um preço por modelo.",
                        details=[{"field": "brand", "message": "Informe a marca para um preço por modelo."}],
                    )
                if not changes:
                    return current
                updated = quotes_db.update_rule(conn, rule_id, expected_version=version, changes=changes)
                if updated is None:
                    raise ConflictError(_STALE, details={"current_version": current.version})
                audit.record(
                    conn,
                    identity,
                    action="update",
                    entity="price_rule",
                    entity_id=str(rule_id),
                    changes=audit.diff(current, changes),
                    correlation_id=correlation_id,
                )
                return updated
        except repo.DuplicateError as exc:
            raise _duplicate_rule() from exc

    def remove_rule(self, identity: Identity, rule_id: UUID, *, correlation_id: str | None) -> None:
        require(identity, Permission.SETTINGS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = quotes_db.get_rule(conn, rule_id)
            if current is None or not quotes_db.delete_rule(conn, rule_id):
                raise NotFoundError("Regra de preço não encontrada.")
            audit.record(
                conn,
                identity,
                action="delete",
                entity="price_rule",
                entity_id=str(rule_id),
                changes={"service": current.service, "price_cents": current.price_cents},
                correlation_id=correlation_id,
            )

    # --- discount rules ------------------------------------------------------------------------
    def discounts(self, identity: Identity) -> list[DiscountRuleRow]:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return quotes_db.list_discounts(conn)

    def add_discount(
        self, identity: Identity, fields: dict[str, Any], *, correlation_id: str | None
    ) -> DiscountRuleRow:
        require(identity, Permission.SETTINGS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            rule = quotes_db.insert_discount(conn, tenant_id=identity.tenant_id, fields=fields)
            audit.record(
                conn,
                identity,
                action="create",
                entity="discount_rule",
                entity_id=str(rule.id),
                changes=fields,
                correlation_id=correlation_id,
            )
            return rule

    def change_discount(
        self,
        identity: Identity,
        rule_id: UUID,
        *,
        version: int,
        changes: dict[str, Any],
        correlation_id: str | None,
    ) -> DiscountRuleRow:
        require(identity, Permission.SETTINGS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = quotes_db.get_discount(conn, rule_id)
            if current is None:
                raise NotFoundError("Regra de desconto não encontrada.")
            if not changes:
                return current
            updated = quotes_db.update_discount(conn, rule_id, expected_version=version, changes=changes)
            if updated is None:
                raise ConflictError(_STALE, details={"current_version": current.version})
            audit.record(
                conn,
                identity,
                action="update",
                entity="discount_rule",
                entity_id=str(rule_id),
                changes=audit.diff(current, changes),
                correlation_id=correlation_id,
            )
            return updated

    # --- template ------------------------------------------------------------------------------
    def template(self, identity: Identity) -> TemplateRow:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return quotes_db.get_template(conn) or TemplateRow(
                body=text.DEFAULT_TEMPLATE, validity_days=7, version=0
            )

    def save_template(
        self, identity: Identity, *, version: int, body: str, validity_days: int, correlation_id: str | None
    ) -> TemplateRow:
        require(identity, Permission.SETTINGS_WRITE)
        unknown = text.unknown_placeholders(body)
        if unknown:
            message = "Campos desconhecidos no modelo: " + ", ".join("{{" + u + "}}" for u in unknown)
            raise ValidationFailedError(message, details=[{"field": "body", "message": message}])
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            row = quotes_db.save_template(
                conn,
                tenant_id=identity.tenant_id,
                expected_version=version,
                body=body,
                validity_days=validity_days,
            )
            if row is None:
                raise ConflictError(
                    "O modelo foi alterado por outra pessoa. Recarregue e tente novamente.",
                    details={
                        "current_version": (quotes_db.get_template(conn) or TemplateRow("", 7, 0)).version
                    },
                )
            audit.record(
                conn,
                identity,
                action="update",
                entity="quote_template",
                entity_id=str(identity.tenant_id),
                changes={"validity_days": validity_days, "version": row.version},
                correlation_id=correlation_id,
            )
            return row
