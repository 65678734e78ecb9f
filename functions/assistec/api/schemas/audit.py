"""Models of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from assistec.api.schemas.common import Output

# Every entity the product writes to the audit log (``uow.audit(action, entity, ...)``): what
# ``GET /audit?entity=`` accepts. tests/unit/test_openapi.py reads every audit call in functions/ and
# fails when one writes an entity missing here.
AuditEntity = Literal[
    "tenant",
    "user",
    "settings",
    "customer",
    "device",
    "order",
    "order_workflow",
    "quote",
    "quote_template",
    "price_rule",
    "discount_rule",
    "part",
    "payment_account",
    "charge",
    "whatsapp_instance",
    "whatsapp_settings",
    "conversation",
    "appointment",
    "google_connection",
    "scheduling_settings",
    "email_address",
    "email_settings",
    "email_template",
    "data_export",
    "bank_agreement",
    "bank_file",
    "boleto",
    "remessa",
    "statement_match",
    "bank_reconciliation",
]


class AuditEntryOut(Output):
    id: int
    actor_user_id: UUID | None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, Any]
    correlation_id: str | None
    at: datetime


class AuditPage(Output):
    items: list[AuditEntryOut]
    next_cursor: str | None
