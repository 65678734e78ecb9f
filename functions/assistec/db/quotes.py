"""SQL for quotes, price rules, discount rules and the quote template (RLS scopes every query)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import DiscountRuleRow, PriceRuleRow, QuoteRow, TemplateRow
from assistec.db.sql import (
    class_row,
    fetch_all,
    fetch_one,
    fetch_returned,
    for_update,
    insert_row,
    versioned_update,
)

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"
_QUOTE = (
    "id, tenant_id, order_id, version, status, lines, subtotal_cents, discount_cents, discount_rule, "
    "total_cents, "
    "deadline_days, valid_until, rendered_text, public_token, public_expires_at, decided_at, decided_name, "
    "decided_ip, decided_user_agent, decided_via, decided_by, created_by, created_at"
)
_RULE = "id, service, device_type, brand, model, price_cents, version, created_at, updated_at"
_DISCOUNT = "id, name, kind, min_days, percent, active, version, created_at, updated_at"
RULE_FIELDS = {"service", "device_type", "brand", "model", "price_cents"}
DISCOUNT_FIELDS = {"name", "kind", "min_days", "percent", "active"}


# --- price rules -------------------------------------------------------------------------------
def insert_rule(conn: Conn, *, tenant_id: UUID, fields: dict[str, Any]) -> PriceRuleRow:
    assert set(fields) <= RULE_FIELDS
    values = {"tenant_id": tenant_id, **fields}
    return insert_row(conn, table="price_rules", values=values, columns=_RULE, row=PriceRuleRow)


def list_rules(conn: Conn) -> list[PriceRuleRow]:
    return fetch_all(
        conn,
        PriceRuleRow,
        f"select {_RULE} from price_rules where {_TENANT} "
        "order by lower(service), device_type, brand nulls first, model nulls first",
    )


def get_rule(conn: Conn, rule_id: UUID) -> PriceRuleRow | None:
    return fetch_one(conn, PriceRuleRow, f"select {_RULE} from price_rules where id = %s", (rule_id,))


def update_rule(
    conn: Conn, rule_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> PriceRuleRow | None:
    return versioned_update(
        conn,
        table="price_rules",
        columns=_RULE,
        row=PriceRuleRow,
        allowed=RULE_FIELDS,
        row_id=rule_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_rule(conn: Conn, rule_id: UUID) -> bool:
    return conn.execute("delete from price_rules where id = %s", (rule_id,)).rowcount == 1


def price_for(conn: Conn, *, service: str, device_type: str, brand: str, model: str) -> PriceRuleRow | None:
    """The most specific rule: this model, else this brand, else the device type's fallback."""
    return fetch_one(
        conn,
        PriceRuleRow,
        f"select {_RULE} from price_rules where {_TENANT} "
        "and lower(service) = lower(%s) and device_type = %s "
        "and (brand is null or lower(brand) = lower(%s)) and (model is null or lower(model) = lower(%s)) "
        "order by (model is not null) desc, (brand is not null) desc limit 1",
        (service, device_type, brand, model),
    )


# --- discount rules ----------------------------------------------------------------------------
def insert_discount(conn: Conn, *, tenant_id: UUID, fields: dict[str, Any]) -> DiscountRuleRow:
    assert set(fields) <= DISCOUNT_FIELDS
    values = {"tenant_id": tenant_id, **fields}
    return fetch_returned(
        conn,
        DiscountRuleRow,
        f"insert into discount_rules ({', '.join(values)}) values ({', '.join(['%s'] * len(values))}) "
        f"returning {_DISCOUNT}",
        list(values.values()),
    )


def list_discounts(conn: Conn) -> list[DiscountRuleRow]:
    return fetch_all(
        conn, DiscountRuleRow, f"select {_DISCOUNT} from discount_rules where {_TENANT} order by created_at"
    )


def get_discount(conn: Conn, rule_id: UUID) -> DiscountRuleRow | None:
    return fetch_one(
        conn, DiscountRuleRow, f"select {_DISCOUNT} from discount_rules where id = %s", (rule_id,)
    )


def update_discount(
    conn: Conn, rule_id: UUID, *, expected_version: int, changes: dict[str, Any]
) -> DiscountRuleRow | None:
    return versioned_update(
        conn,
        table="discount_rules",
        columns=_DISCOUNT,
        row=DiscountRuleRow,
        allowed=DISCOUNT_FIELDS,
        row_id=rule_id,
        expected_version=expected_version,
        changes=changes,
    )


def best_discount(conn: Conn, *, customer_since: datetime) -> DiscountRuleRow | None:
    """The largest active discount the customer qualifies for (registered at least min_days ago)."""
    return fetch_one(
        conn,
        DiscountRuleRow,
        f"select {_DISCOUNT} from discount_rules where {_TENANT} "
        "and active and kind = 'customer_since_days' "
        "and %s <= now() - make_interval(days => min_days) order by percent desc, created_at limit 1",
        (customer_since,),
    )


# --- template ----------------------------------------------------------------------------------
def get_template(conn: Conn) -> TemplateRow | None:
    return fetch_one(
        conn, TemplateRow, f"select body, validity_days, version from quote_templates where {_TENANT}"
    )


def save_template(
    conn: Conn, *, tenant_id: UUID, expected_version: int, body: str, validity_days: int
) -> TemplateRow | None:
    with conn.cursor(row_factory=class_row(TemplateRow)) as cur:
        if expected_version == 0:
            return cur.execute(
                "insert into quote_templates (tenant_id, body, validity_days) values (%s, %s, %s) "
                "on conflict (tenant_id) do nothing returning body, validity_days, version",
                (tenant_id, body, validity_days),
            ).fetchone()
        return cur.execute(
            "update quote_templates set body = %s, validity_days = %s, version = version + 1, "
            "updated_at = now() "
            "where version = %s returning body, validity_days, version",
            (body, validity_days, expected_version),
        ).fetchone()


# --- quotes ------------------------------------------------------------------------------------
def next_version(conn: Conn, order_id: UUID) -> int:
    row = conn.execute(
        "select coalesce(max(version), 0) + 1 from quotes where order_id = %s", (order_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def supersede_pending(conn: Conn, order_id: UUID) -> int:
    return conn.execute(
        "update quotes set status = 'superseded' where order_id = %s and status = 'pending'", (order_id,)
    ).rowcount


def insert_quote(
    conn: Conn,
    *,
    tenant_id: UUID,
    order_id: UUID,
    version: int,
    lines: list[dict[str, Any]],
    subtotal_cents: int,
    discount_cents: int,
    discount_rule: str | None,
    deadline_days: int,
    valid_until: date,
    rendered_text: str,
    public_token: str,
    public_expires_at: datetime,
    created_by: UUID,
) -> QuoteRow:
    return fetch_returned(
        conn,
        QuoteRow,
        "insert into quotes (tenant_id, order_id, version, lines, subtotal_cents, discount_cents, "
        "discount_rule, total_cents, deadline_days, valid_until, rendered_text, public_token, "
        "public_expires_at, created_by) "
        f"values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning {_QUOTE}",
        (
            tenant_id,
            order_id,
            version,
            json.dumps(lines),
            subtotal_cents,
            discount_cents,
            discount_rule,
            subtotal_cents - discount_cents,
            deadline_days,
            valid_until,
            rendered_text,
            public_token,
            public_expires_at,
            created_by,
        ),
    )


def get_quote(conn: Conn, quote_id: UUID, *, lock: bool = False) -> QuoteRow | None:
    return fetch_one(
        conn, QuoteRow, f"select {_QUOTE} from quotes where id = %s" + for_update(lock), (quote_id,)
    )


def quote_by_token(conn: Conn, token: str, *, lock: bool = False) -> QuoteRow | None:
    return fetch_one(
        conn, QuoteRow, f"select {_QUOTE} from quotes where public_token = %s" + for_update(lock), (token,)
    )


def quotes_of(conn: Conn, order_id: UUID) -> list[QuoteRow]:
    return fetch_all(
        conn, QuoteRow, f"select {_QUOTE} from quotes where order_id = %s order by version desc", (order_id,)
    )


def decide(
    conn: Conn,
    quote_id: UUID,
    *,
    status: str,
    name: str,
    ip: str | None,
    user_agent: str | None,
    via: str,
    by: UUID | None,
) -> QuoteRow:
    with conn.cursor(row_factory=class_row(QuoteRow)) as cur:
        row = cur.execute(
            "update quotes set status = %s, decided_at = now(), decided_name = %s, decided_ip = %s, "
            "decided_user_agent = %s, decided_via = %s, decided_by = %s "
            f"where id = %s and status = 'pending' returning {_QUOTE}",
            (status, name, ip, user_agent, via, by, quote_id),
        ).fetchone()
    assert row is not None  # locked and checked pending by the caller
    return row


def shop_face(conn: Conn) -> tuple[str, str | None, str]:
    """The shop's name, logo URL and time zone, as the public pages show them."""
    row = conn.execute(
        "select t.name, s.logo_url, coalesce(s.timezone, 'America/Sao_Paulo') from tenants t "
        "left join tenant_settings s on s.tenant_id = t.id "
        "where t.id = nullif(current_setting('app.tenant_id', true), '')::uuid"
    ).fetchone()
    assert row is not None
    return str(row[0]), row[1], str(row[2])
