"""The public pages a customer opens from WhatsApp: small, server-rendered, pt-BR, phone-first.

No scripts, no external assets but the shop's own logo; every value is HTML-escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from assistec.domain import orders as machine
from assistec.domain import quotes as quote_rules
from assistec.domain.orders import Status

if TYPE_CHECKING:
    from assistec.services.quotes import PublicOrder, PublicQuote

# Strict: nothing loads but inline styles and https images; forms post back to this API only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}

_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1d2430;background:#f3f5f8}main{max-width:560px;margin:0 auto;padding:16px}
header{display:flex;align-items:center;gap:12px;margin:8px 0 16px}header img{width:48px;height:48px;
object-fit:contain;border-radius:8px;background:#fff}.badge{width:48px;height:48px;border-radius:8px;
background:#1b6ef3;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700;
font-size:22px}h1{font-size:20px;margin:0}h2{font-size:18px;margin:0 0 8px}.card{background:#fff;
border-radius:12px;padding:16px;margin-bottom:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
table{width:100%;border-collapse:collapse}td{padding:6px 0;border-bottom:1px solid #eef0f3;vertical-align:top}
td.v{text-align:right;white-space:nowrap;padding-left:8px}.total td{font-weight:700;font-size:18px;border:0}
.muted{color:#5b6472;font-size:14px}label{display:block;font-weight:600;margin:8px 0 4px}
input[type=text]{width:100%;padding:12px;font-size:16px;border:1px solid #c5ccd6;border-radius:8px}
.actions{display:flex;gap:8px;margin-top:12px}button{flex:1;padding:14px;font-size:16px;font-weight:700;
border:0;border-radius:8px}button.ok{background:#168a4a;color:#fff}button.no{background:#e8ebef;color:#1d2430}
.state{padding:12px;border-radius:8px;font-weight:600}.good{background:#e5f6ec;color:#11683a}
.bad{background:#fdecec;color:#a12626}.info{background:#eaf1fe;color:#1a4fa8}
ol{padding-left:20px;margin:0}li{margin:4px 0}
.docs{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}.docs a{display:inline-block;padding:10px 14px;
border:1px solid #1b6ef3;border-radius:8px;color:#1a4fa8;font-weight:600;text-decoration:none}
"""


def _when(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y às %H:%M")


def _page(title: str, shop_name: str, logo_url: str | None, body: str) -> str:
    mark = (
        f'<img src="{escape(logo_url)}" alt="Logo {escape(shop_name)}">'
        if logo_url
        else f'<div class="badge" aria-hidden="true">{escape(shop_name[:1].upper())}</div>'
    )
    return (
        '<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(shop_name)}</title><style>{_CSS}</style></head>"
        f"<body><main><header>{mark}<h1>{escape(shop_name)}</h1></header>{body}</main></body></html>"
    )


def quote_status(view: PublicQuote) -> str:
    quote = view.quote
    if quote.status == "pending" and datetime.now(quote.public_expires_at.tzinfo) >= quote.public_expires_at:
        return "expired"
    return quote.status


def _downloads(links: list[tuple[str, str]]) -> str:
    """The "Baixar PDF" links of a page: (relative URL, label)."""
    return (
        '<p class="docs">'
        + "".join(f'<a href="{escape(href)}" rel="nofollow">{escape(label)}</a>' for href, label in links)
        + "</p>"
    )


def quote_page(
    view: PublicQuote,
    *,
    notice: str | None = None,
    notice_kind: str = "info",
    action: str | None = None,
    deeper: bool = False,
) -> str:
    """``action``: where the form posts, relative to the page's URL; ``deeper``: the page is served
    one level below the quote's URL (the decision's answer), which the PDF link's relative URL follows."""
    quote, status = view.quote, quote_status(view)
    rows = "".join(
        f"<tr><td>{escape(str(line['description']))}"
        + (f" <span class='muted'>({line['quantity']}x)</span>" if int(line["quantity"]) > 1 else "")
        + f"</td><td class='v'>{quote_rules.brl(int(line['total_cents']))}</td></tr>"
        for line in quote.lines
    )
    if quote.discount_cents:
        rows += (
            f"<tr><td>Desconto ({escape(quote.discount_rule or '')})</td>"
            f"<td class='v'>-{quote_rules.brl(quote.discount_cents)}</td></tr>"
        )
    total = quote_rules.brl(quote.total_cents)
    rows += f"<tr class='total'><td>Total</td><td class='v' id='total'>{total}</td></tr>"
    parts = [
        f'<section class="card"><h2>Orçamento da OS {view.order.number}</h2>'
        f'<p class="muted">{escape(view.customer_name)} · {escape(view.device)} · versão {quote.version}</p>'
        f"<table>{rows}</table>"
        f'<p class="muted">Prazo: {quote_rules.working_days(quote.deadline_days)} após a aprovação. '
        f"Válido até {quote.valid_until:%d/%m/%Y}.</p>"
        + _downloads([("pdf" if deeper else f"{quote.public_token}/pdf", "Baixar PDF do orçamento")])
        + "</section>"
    ]
    if notice:
        parts.append(f'<p class="state {notice_kind}" role="status" id="notice">{escape(notice)}</p>')
    if status == "pending":
        parts.append(
            '<section class="card"><form method="post" action="'
            + escape(action or f"{quote.public_token}/decision")
            + '"><label for="name">Digite seu nome completo para confirmar</label>'
            '<input type="text" id="name" name="name" required minlength="2" maxlength="120" '
            'autocomplete="name">'
            '<div class="actions"><button class="ok" type="submit" name="decision" value="approve">'
            "Aprovar orçamento</button>"
            '<button class="no" type="submit" name="decision" value="reject">Recusar</button></div>'
            '<p class="muted">Nenhum serviço é feito antes da sua aprovação. Registramos data, hora, '
            "endereço IP e navegador desta decisão.</p></form></section>"
        )
    elif status in ("approved", "rejected") and not notice:
        assert quote.decided_at is not None
        verb = "aprovado" if status == "approved" else "recusado"
        parts.append(
            f'<p class="state {"good" if status == "approved" else "bad"}" id="notice">Orçamento {verb} por '
            f"{escape(quote.decided_name or '')} em {_when(quote.decided_at, view.timezone)}.</p>"
        )
    elif status == "expired":
        parts.append(
            f'<p class="state bad" id="notice">Este orçamento venceu em {quote.valid_until:%d/%m/%Y}. '
            "Fale com a loja para receber um novo.</p>"
        )
    elif status == "superseded":
        parts.append(
            '<p class="state bad" id="notice">Este orçamento foi substituído por uma versão mais nova. '
            "Use o link mais recente enviado pela loja.</p>"
        )
    return _page(f"Orçamento OS {view.order.number}", view.shop_name, view.logo_url, "".join(parts))


def order_page(view: PublicOrder) -> str:
    order = view.order
    status = Status(order.status)
    steps = "".join(
        f"<li><strong>{escape(machine.LABELS_PT[Status(s)])}</strong> "
        f"<span class='muted'>{_when(at, view.timezone)}</span></li>"
        for s, at in view.steps
    )
    facts = []
    if order.promised_at and status not in machine.TERMINAL:
        facts.append(f"Previsão: {_when(order.promised_at, view.timezone)}")
    if order.delivered_at:
        facts.append(f"Entregue em {_when(order.delivered_at, view.timezone)}")
    if order.warranty_until:
        facts.append(f"Garantia até {order.warranty_until:%d/%m/%Y}")
    documents = [(f"{order.tracking_token}/pdf?kind=intake", "Baixar comprovante de entrada (PDF)")]
    if order.delivered_at:
        documents.append((f"{order.tracking_token}/pdf?kind=delivery", "Baixar comprovante de entrega (PDF)"))
    body = (
        f'<section class="card"><h2>Ordem de serviço {order.number}</h2>'
        f'<p class="state info" id="status">{escape(machine.LABELS_PT[status])}</p>'
        + "".join(f'<p class="muted">{escape(f)}</p>' for f in facts)
        + _downloads(documents)
        + f"</section><section class='card'><h2>Andamento</h2><ol>{steps}</ol></section>"
    )
    return _page(f"OS {order.number}", view.shop_name, view.logo_url, body)


def message_page(title: str, message: str, *, shop_name: str = "assistec", kind: str = "bad") -> str:
    body = (
        f'<section class="card"><h2>{escape(title)}</h2>'
        f'<p class="state {escape(kind)}" id="notice">{escape(message)}</p></section>'
    )
    return _page(title, shop_name, None, body)


def signup_page(token: str, *, shop_name: str, email: str) -> str:
    """The page signup's e-mail links to: confirming is a button (a POST), so a mail scanner that
    opens the link creates nothing."""
    body = (
        '<section class="card"><h2>Confirme o cadastro da sua loja</h2>'
        f"<p>Loja: <strong>{escape(shop_name)}</strong><br>E-mail: <strong>{escape(email)}</strong></p>"
        f'<form method="post" action="{escape(token)}"><div class="actions">'
        '<button class="ok" type="submit" name="confirm" value="1">Confirmar e criar a loja</button>'
        "</div></form>"
        '<p class="muted">Se você não pediu este cadastro, feche esta página: nada será criado.</p>'
        "</section>"
    )
    return _page("Confirmar cadastro", "assistec", None, body)
