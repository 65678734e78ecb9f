"""How the console shows the ops function's answers: rich tables and panels (``--json`` prints the
answers as they are instead)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

STATUS_STYLE = {
    "trial": "cyan",
    "active": "green",
    "past_due": "yellow",
    "suspended": "red",
    "cancelled": "magenta",
}


def money(cents: Any) -> str:
    """Centavos as Brazilian reais (R$ 1.234,56)."""
    if cents is None:
        return "-"
    value = int(cents)
    reais, centavos = divmod(abs(value), 100)
    text = f"{reais:,}".replace(",", ".")
    return f"{'-' if value < 0 else ''}R$ {text},{centavos:02d}"


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _status(status: Any) -> str:
    style = STATUS_STYLE.get(str(status))
    return f"[{style}]{status}[/{style}]" if style else _text(status)


def _day(value: Any) -> str:
    """A date or a timestamp, as its day and minute (the console reads the ISO text)."""
    if not value:
        return "-"
    text = str(value)
    return text[:16].replace("T", " ") if "T" in text else text[:10]


def shops(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="Shops", show_lines=False)
    for column in ("id", "name", "CNPJ", "e-mail", "status", "plan", "provisioned", "next due", "signed up"):
        table.add_column(column, overflow="fold")
    for shop in result.get("shops", []):
        provisioned = (
            "yes"
            if shop.get("provisioned")
            else ("[red]refused[/red]" if shop.get("provision_error") else "no")
        )
        table.add_row(
            _text(shop.get("id")),
            _text(shop.get("name")),
            _text(shop.get("cnpj")),
            _text(shop.get("email")),
            _status(shop.get("billing_status")),
            _text(shop.get("plan")),
            provisioned,
            f"cancels {_day(shop['cancel_on'])}"
            if shop.get("cancel_on")
            else _day(shop.get("next_due_date")),
            _day(shop.get("created_at")),
        )
    console.print(table)
    if result.get("next_cursor"):
        console.print(f"more: --cursor '{result['next_cursor']}' (or --all)")


def shop(console: Console, result: dict[str, Any]) -> None:
    about = result.get("shop") or {}
    sub = result.get("subscription") or {}
    invoices = result.get("invoices") or {}
    users = result.get("users") or {}
    orders = result.get("orders") or {}
    activity = result.get("last_activity") or {}
    table = Table(title=f"{_text(about.get('name'))}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, str]] = [
        ("id", _text(about.get("id"))),
        ("CNPJ", _text(about.get("cnpj"))),
        ("e-mail / phone", f"{_text(about.get('email'))} / {_text(about.get('phone'))}"),
        ("billing status", _status(about.get("billing_status"))),
        ("signed up", _day(about.get("created_at"))),
    ]
    if sub:
        rows += [
            ("plan", f"{_text(sub.get('plan_name'))} ({money(sub.get('price_cents'))}/month)"),
            ("trial ends", _day(sub.get("trial_ends_on"))),
            ("next due", _day(sub.get("next_due_date"))),
            ("past due since", _day(sub.get("past_due_since"))),
            ("suspended at", _day(sub.get("suspended_at"))),
            (
                "cancelled",
                f"{_day(sub.get('cancelled_at'))} (effective {_day(sub.get('cancel_on'))})"
                if sub.get("cancelled_at")
                else "-",
            ),
            (
                "Asaas",
                f"customer {_text(sub.get('asaas_customer_id'))}, subscription "
                f"{_text(sub.get('asaas_subscription_id'))}",
            ),
            ("provision error", _text(sub.get("provision_error"))),
        ]
    else:
        rows.append(("subscription", "none"))
    rows += [
        ("open invoices", f"{invoices.get('open', 0)} ({money(invoices.get('open_cents', 0))})"),
        ("users", f"{users.get('active', 0)} active of {users.get('total', 0)}"),
        ("orders", f"{orders.get('open', 0)} open of {orders.get('total', 0)}"),
        ("last change", _day(activity.get("change_at"))),
        ("last sign-in", _day(activity.get("session_at"))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    latest = invoices.get("latest") or []
    if latest:
        invoice_table = Table(title="Latest invoices")
        for column in ("id", "due", "value", "status", "paid on"):
            invoice_table.add_column(column)
        for invoice in latest:
            invoice_table.add_row(
                _text(invoice.get("id")),
                _day(invoice.get("due_date")),
                money(invoice.get("value_cents")),
                _text(invoice.get("status")),
                _day(invoice.get("paid_on")),
            )
        console.print(invoice_table)


def key_state(console: Console, state: dict[str, Any], title: str = "Signing key") -> None:
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for name in (
        "format",
        "staged",
        "staged_at",
        "promote_after",
        "promote_wait_s",
        "rotated_at",
        "previous_accepted_until",
        "keys_accepted",
    ):
        table.add_row(name.replace("_", " "), _text(state.get(name)))
    console.print(table)


def audit(console: Console, entries: Iterable[dict[str, Any]]) -> None:
    table = Table(title="Operator audit log (newest first)")
    for column in ("id", "at", "operator", "command", "shop", "origin", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        detail = entry.get("detail") or {}
        error = detail.get("error") if isinstance(detail, dict) else None
        summary = (
            f"{error.get('code')}: {error.get('message', '')}"
            if isinstance(error, dict)
            else _compact(detail)
        )
        style = {"ok": "green", "refused": "yellow", "failed": "red"}.get(str(entry.get("outcome")), "")
        table.add_row(
            _text(entry.get("id")),
            _day(entry.get("at")),
            _text(entry.get("operator")),
            _text(entry.get("command")),
            _text(entry.get("shop_id")),
            _text(entry.get("origin")),
            f"[{style}]{entry.get('outcome')}[/{style}]" if style else _text(entry.get("outcome")),
            summary[:120],
        )
    console.print(table)


def _compact(value: Any) -> str:
    if not value:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if not isinstance(v, (list, dict)))
    return str(value)


def dlqs(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table(title="Dead-letter queues")
    for column in ("queue", "in DLQ", "DLQ in flight", "queue waiting", "DLQ"):
        table.add_column(column, overflow="fold")
    for row in rows:
        waiting = int(row["dlq"]["visible"])
        table.add_row(
            row["name"],
            f"[red]{waiting}[/red]" if waiting else "0",
            str(row["dlq"]["in_flight"]),
            str(row["source"]["visible"]),
            str(row["dlq_url"]).rsplit("/", 1)[-1],
        )
    console.print(table)


def error(console: Console, answer: dict[str, Any]) -> None:
    failure = answer.get("error") or {}
    console.print(f"[red]{failure.get('code', 'error')}[/red]: {failure.get('message', '')}")
    details = failure.get("details")
    if isinstance(details, list):
        for item in details:
            console.print(f"  - {_compact(item) if isinstance(item, dict) else item}")
    elif isinstance(details, dict):
        for name, value in details.items():
            if isinstance(value, list):
                console.print(f"  {name}:")
                for item in value:
                    console.print(f"    - {_compact(item) if isinstance(item, dict) else item}")
            else:
                console.print(f"  {name}: {value}")
    if answer.get("audit_id") is not None:
        console.print(f"(recorded as audit entry {answer['audit_id']})")


def size(value: Any) -> str:
    """Bytes as the operator reads them (1.5 MB)."""
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{int(amount)} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return str(value)  # pragma: no cover


def _count(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}".replace(",", ".")


def bundles(console: Console, result: dict[str, Any]) -> None:
    shop = result.get("shop") or {}
    table = Table(title=f"Bundles of {_text(shop.get('name'))} ({_text(shop.get('id'))}), newest first")
    for column in ("key", "kind", "stored", "size", "retention", "rows", "restore check"):
        table.add_column(column, overflow="fold")
    for bundle in result.get("bundles", []):
        error = bundle.get("restore_error")
        check = (
            f"[red]{error}[/red]"
            if error
            else (
                f"[green]ok[/green] {_day(bundle['restore_checked_at'])}"
                if bundle.get("restore_checked_at")
                else "-"
            )
        )
        table.add_row(
            _text(bundle.get("key")),
            _text(bundle.get("kind")),
            _day(bundle.get("stored_at")),
            size(bundle.get("bytes")),
            _text(bundle.get("retention")),
            _count(bundle.get("rows")),
            check,
        )
    console.print(table)
    if not result.get("bundles"):
        console.print("no bundle stored yet: `backup export` makes one now")


def _tables(console: Console, title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    table = Table(title=title)
    table.add_column("table")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.get("name", "-"), *(size(row.get(c)) if c == "bytes" else _count(row.get(c)) for c in columns)
        )
    console.print(table)


def exported(console: Console, result: dict[str, Any]) -> None:
    console.print(
        f"[green]exported[/green] {result.get('key')}: {_count(result.get('rows'))} rows, "
        f"{size(result.get('bytes'))}, schema version {result.get('schema_version')}"
        + ("" if result.get("copied") else " [yellow](no second bucket: not copied)[/yellow]")
    )
    _tables(console, "Tables", result.get("tables") or [], ("rows",))


def verified(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="Bundle verified", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    restorable = (
        "[green]yes[/green]"
        if result.get("restorable_in_place")
        else f"[yellow]no[/yellow]: the database is at version {result.get('database_version')} "
        "(restore it into a database at the bundle's version; backup scratch still checks it)"
    )
    for name, value in (
        ("key", _text(result.get("key"))),
        ("shop", _text(result.get("shop_name"))),
        ("made", _day(result.get("created_at"))),
        ("bundle id", _text(result.get("bundle_id"))),
        ("size", size(result.get("bytes"))),
        ("rows", _count(result.get("rows"))),
        ("schema version", _text(result.get("schema_version"))),
        ("restorable in place", restorable),
    ):
        table.add_row(name, value)
    console.print(table)
    _tables(console, "Tables", result.get("tables") or [], ("rows", "bytes"))


def restored(console: Console, result: dict[str, Any]) -> None:
    _tables(console, "Restored, table by table", result.get("tables") or [], ("deleted", "written"))
    console.print(
        f"[green]restored[/green] {result.get('key')} (bundle {result.get('bundle_id')}): "
        f"{_count(result.get('deleted'))} rows deleted, {_count(result.get('written'))} written, in one "
        "transaction; the shop's users must sign in again"
    )


def scratch(console: Console, result: dict[str, Any]) -> None:
    _tables(console, "Read back from the scratch tables", result.get("tables") or [], ("rows",))
    recorded = " (recorded on the night's run)" if result.get("recorded") else ""
    console.print(
        f"[green]ok[/green]: {result.get('key')} restored into scratch tables reads back as its manifest "
        f"says ({_count(result.get('rows'))} rows); the scratch tables are dropped{recorded}"
    )
