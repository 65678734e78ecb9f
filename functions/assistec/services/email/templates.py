"""The e-mails we send, as pt-BR Jinja templates: each message is three files in templates/
(``{name}.subject.txt``, ``{name}.txt``, ``{name}.html``) framed by ``_layout.txt`` and
``_layout.html`` (the shop's name and logo on top, "Enviado por {loja} pelo assistec" below).

``TEMPLATES`` describes each message for the staff's settings page: what it is, its variables and
a sample context (previews and tests render it). Customer-facing messages are ``overridable``: a
shop may write its own subject and opening paragraph (``Override``). Those texts come from shop
staff, so they are rendered only in Jinja's sandbox, with the message's variables and nothing
else, no loops, calls, imports or private attributes, and the result goes into the e-mail as text
(escaped in the HTML). ``check_override`` proves a text before it is saved.

Context conventions: money in integer centavos (``|brl``), dates as ``date``/``datetime``
(``|data`` dd/mm/aaaa, ``|datahora`` dd/mm/aaaa HH:MM; an aware datetime is shown in
America/Sao_Paulo, so pass a naive local one for a shop in another zone). Optional variables
(described "opcional") must still be present, as None. ``shop_name`` comes from the ShopFace
when the context does not carry it. Jinja is imported, and the environments built, on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).with_name("templates")
PLATFORM_NAME = "assistec"
DISPLAY_TZ = "America/Sao_Paulo"
SUBJECT_MAX = 200
INTRO_MAX = 4000
# Names the layouts use: no message may call a variable so.
RESERVED = frozenset({"brand", "footer", "contact", "intro_override", "subject"})


@dataclass(frozen=True, slots=True)
class ShopFace:
    """How a shop shows on its e-mails (``logo_url`` is used only when it is https)."""

    name: str
    logo_url: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Override:
    """A shop's own subject and/or opening paragraph for one message (None or blank: ours)."""

    subject: str | None = None
    intro: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One message. ``platform`` messages come from assistec itself (framed as assistec whatever
    shop they concern); the others go out in the shop's name."""

    name: str
    description: str
    variables: Mapping[str, str]
    sample: Mapping[str, Any]
    overridable: bool
    platform: bool = field(default=False)


class TemplateError(ValueError):
    """A message that cannot be rendered, or a shop's text that cannot be saved: ``code`` stable,
    ``message`` pt-BR, ``field`` the override's field at fault (``subject``/``intro``) if any."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        self.code = code
        self.message = message
        self.field = field
        super().__init__(message)


# --- the messages -----------------------------------------------------------------------------------
_SHOP = {"shop_name": "nome da loja"}
_CUSTOMER = {"customer_name": "nome do cliente"}
_LINK_BASE = "https://app.assistec.com.br"
_QUOTE_ITEMS = (
    {"description": "Troca de tela", "quantity": 1, "total_cents": 45000},
    {"description": "Película de vidro", "quantity": 2, "total_cents": 6000},
)


def _spec(
    name: str,
    description: str,
    variables: dict[str, str],
    sample: dict[str, Any],
    *,
    overridable: bool,
    platform: bool = False,
) -> TemplateSpec:
    return TemplateSpec(
        name=name,
        description=description,
        variables=MappingProxyType(variables),
        sample=MappingProxyType(sample),
        overridable=overridable,
        platform=platform,
    )


def _billing(name: str, description: str, *, reactivated: bool = False) -> TemplateSpec:
    variables = {**_SHOP, "value_cents": "valor da fatura (centavos)"}
    sample: dict[str, Any] = {"shop_name": "Conserta Já", "value_cents": 9900}
    if not reactivated:
        variables |= {
            "due_date": "vencimento da fatura (ou último dia do teste)",
            "invoice_url": "link de pagamento da fatura (opcional)",
            "trial_ended": "o teste terminou sem assinatura ativa (não há fatura a pagar ainda)",
        }
        sample |= {
            "due_date": date(2026, 11, 10),
            "invoice_url": "https://www.asaas.com/i/inv_0001",
            "trial_ended": False,
        }
        if name in {"subscription_reminder", "subscription_final_notice"}:
            variables["suspend_in_days"] = "dias até a suspensão do acesso"
            sample["suspend_in_days"] = 3
    return _spec(name, description, variables, sample, overridable=False, platform=True)


TEMPLATES: Mapping[str, TemplateSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec(
                "signup_confirmation",
                "Link de confirmação do cadastro de uma nova loja.",
                {"link": "link de confirmação", "valid_hours": "horas de validade do link"},
                {"link": f"{_LINK_BASE}/signup/confirm/tok_0001", "valid_hours": 24},
                overridable=False,
                platform=True,
            ),
            _spec(
                "signup_account_exists",
                "Aviso ao dono de um e-mail já cadastrado de que alguém tentou cadastrar outra loja com ele.",
                {},
                {},
                overridable=False,
                platform=True,
            ),
            _spec(
                "quote_sent",
                "Orçamento enviado ao cliente por e-mail (e o lembrete, se ele não responder).",
                {
                    **_CUSTOMER,
                    **_SHOP,
                    "order_number": "número da OS",
                    "device": "aparelho (marca e modelo)",
                    "items": "itens do orçamento (descrição, quantidade, total em centavos)",
                    "discount_cents": "desconto em centavos (0 sem desconto)",
                    "discount_name": "nome do desconto (opcional)",
                    "total_cents": "total a pagar em centavos",
                    "deadline": "prazo após a aprovação, por extenso (ex.: 3 dias úteis)",
                    "valid_until": "último dia para aprovar",
                    "link": "link para aprovar ou recusar",
                    "reminder": "é o lembrete (o cliente ainda não respondeu)",
                },
                {
                    "customer_name": "Ana Souza",
                    "shop_name": "Conserta Já",
                    "order_number": 1042,
                    "device": "Apple iPhone 11",
                    "items": _QUOTE_ITEMS,
                    "discount_cents": 1000,
                    "discount_name": "Cliente antigo",
                    "total_cents": 50000,
                    "deadline": "3 dias úteis",
                    "valid_until": date(2026, 12, 1),
                    "link": f"{_LINK_BASE}/public/quotes/qt_0001",
                    "reminder": False,
                },
                overridable=True,
            ),
            _spec(
                "payment_link",
                "Cobrança do serviço enviada ao cliente (Pix, boleto ou página de pagamento) e o lembrete.",
                {
                    **_CUSTOMER,
                    **_SHOP,
                    "order_number": "número da OS",
                    "value_cents": "valor da cobrança em centavos",
                    "due_date": "vencimento",
                    "pix_payload": "Pix copia e cola (opcional)",
                    "boleto_line": "linha digitável do boleto (opcional)",
                    "invoice_url": "página de pagamento da cobrança (opcional)",
                    "reminder": "é o lembrete (pagamento ainda não identificado)",
                },
                {
                    "customer_name": "Ana Souza",
                    "shop_name": "Conserta Já",
                    "order_number": 1042,
                    "value_cents": 50000,
                    "due_date": date(2026, 12, 5),
                    "pix_payload": "00020126580014br.gov.bcb.pix0136a1b2c3d4-e5f6-7890-abcd-ef0123456789",
                    "boleto_line": "23793.38128 60000.000003 00000.000400 1 84340000050000",
                    "invoice_url": "https://www.asaas.com/i/pay_0001",
                    "reminder": False,
                },
                overridable=True,
            ),
            _spec(
                "boleto",
                "Boleto do banco da loja enviado ao cliente, com o PDF em anexo e a linha digitável.",
                {
                    **_CUSTOMER,
                    **_SHOP,
                    "reference": "a que se refere (ex.: da OS 1042, nº 00012345-6)",
                    "value_cents": "valor do boleto em centavos",
                    "due_date": "vencimento",
                    "boleto_line": "linha digitável do boleto",
                    "description": "o que o boleto avulso cobra (opcional)",
                },
                {
                    "customer_name": "Ana Souza",
                    "shop_name": "Conserta Já",
                    "reference": "da OS 1042",
                    "value_cents": 50000,
                    "due_date": date(2026, 12, 5),
                    "boleto_line": "34191.09008 00001.234567 71234.560009 1 84340000050000",
                    "description": None,
                },
                overridable=True,
            ),
            _billing(
                "subscription_past_due",
                "Assinatura do assistec: primeira fatura vencida (ou teste encerrado).",
            ),
            _billing("subscription_reminder", "Assinatura do assistec: lembrete da fatura em aberto."),
            _billing("subscription_final_notice", "Assinatura do assistec: último aviso antes da suspensão."),
            _billing("subscription_suspended", "Assinatura do assistec: acesso da loja suspenso."),
            _billing(
                "subscription_reactivated",
                "Assinatura do assistec: pagamento recebido, acesso liberado.",
                reactivated=True,
            ),
            _spec(
                "whatsapp_disconnected",
                "Aviso aos donos de que o número de WhatsApp da loja foi desconectado.",
                {**_SHOP, "number": "número do WhatsApp, só dígitos com DDI (opcional)"},
                {"shop_name": "Conserta Já", "number": "5511987654321"},
                overridable=False,
                platform=True,
            ),
            _spec(
                "google_reconnect",
                "Aviso aos donos de que a agenda do Google precisa ser conectada de novo.",
                dict(_SHOP),
                {"shop_name": "Conserta Já"},
                overridable=False,
                platform=True,
            ),
            _spec(
                "data_export_ready",
                "Aviso aos donos de que a exportação dos dados da loja (LGPD) está pronta no painel.",
                {
                    **_SHOP,
                    "requested_at": "quando a exportação foi pedida",
                    "expires_at": "até quando o arquivo pode ser baixado",
                },
                {
                    "shop_name": "Conserta Já",
                    "requested_at": datetime(2026, 11, 24, 17, 30, tzinfo=UTC),
                    "expires_at": datetime(2026, 12, 1, 17, 42, tzinfo=UTC),
                },
                overridable=False,
                platform=True,
            ),
            _spec(
                "appointment_reminder",
                "Lembrete de um agendamento enviado ao cliente.",
                {
                    **_CUSTOMER,
                    **_SHOP,
                    "kind": "tipo do agendamento, em minúsculas (ex.: conserto)",
                    "when": "quando, por extenso (ex.: ter., 01/12 às 09:00)",
                    "link": "link para confirmar ou cancelar (opcional)",
                },
                {
                    "customer_name": "Ana Souza",
                    "shop_name": "Conserta Já",
                    "kind": "conserto",
                    "when": "ter., 01/12 às 09:00",
                    "link": f"{_LINK_BASE}/public/appointments/ap_0001",
                },
                overridable=True,
            ),
            _spec(
                "order_document",
                "Documento de uma OS (comprovante, orçamento, recibo) enviado em anexo ao cliente.",
                {
                    **_CUSTOMER,
                    **_SHOP,
                    "order_number": "número da OS",
                    "document": "nome do documento (ex.: Comprovante de entrada)",
                    "device": "aparelho (opcional)",
                    "link": "página da OS para acompanhar (opcional)",
                },
                {
                    "customer_name": "Ana Souza",
                    "shop_name": "Conserta Já",
                    "order_number": 1042,
                    "document": "Orçamento",
                    "device": "Apple iPhone 11",
                    "link": f"{_LINK_BASE}/public/orders/os_0001",
                },
                overridable=True,
            ),
            _spec(
                "smtp_test",
                "E-mail de teste enviado pelo servidor SMTP que a loja está configurando.",
                {
                    **_SHOP,
                    "requested_by": "quem pediu o teste",
                    "server": "servidor e porta (ex.: smtp.exemplo.com.br:587)",
                    "sent_at": "data e hora do teste",
                },
                {
                    "shop_name": "Conserta Já",
                    "requested_by": "Bruno Lima",
                    "server": "smtp.consertaja.com.br:587",
                    "sent_at": datetime(2026, 11, 24, 17, 30, tzinfo=UTC),
                },
                overridable=False,
            ),
            _spec(
                "ops_report",
                "Relatório de operação para a equipe do assistec (seções de linhas já formatadas).",
                {
                    "title": "título do relatório",
                    "generated_at": "data e hora em que foi gerado",
                    "sections": "seções: pares (título, linhas de texto)",
                },
                {
                    "title": "Cobranças do dia",
                    "generated_at": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
                    "sections": (
                        ("Resumo", ("lojas processadas: 42", "avisos enviados: 5", "falhas: 1")),
                        ("Falhas", ("Conserta Já: Asaas indisponível (503)",)),
                    ),
                },
                overridable=False,
                platform=True,
            ),
        )
    }
)

# The billing escalation's steps (services/billing/standing.py) and their messages.
SUBSCRIPTION_NOTICES: Mapping[str, str] = MappingProxyType(
    {
        "first": "subscription_past_due",
        "second": "subscription_reminder",
        "final": "subscription_final_notice",
        "suspended": "subscription_suspended",
        "reactivated": "subscription_reactivated",
    }
)


# --- filters ----------------------------------------------------------------------------------------
def _defined(value: Any) -> None:
    """A filter given a missing variable raises Jinja's UndefinedError (naming it), not its own."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises here


def _brl(cents: Any) -> str:
    from assistec.domain.quotes import brl

    _defined(cents)
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("brl: a quantia deve ser um inteiro em centavos")
    return brl(cents)


def _local(value: Any, tz: str) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(tz))
    return value


def _data(value: Any, tz: str = DISPLAY_TZ) -> str:
    _defined(value)
    if not isinstance(value, date):
        raise TypeError("data: o valor deve ser uma data")
    return f"{_local(value, tz):%d/%m/%Y}"


def _datahora(value: Any, tz: str = DISPLAY_TZ) -> str:
    _defined(value)
    if not isinstance(value, datetime):
        raise TypeError("datahora: o valor deve ser data e hora")
    return f"{_local(value, tz):%d/%m/%Y %H:%M}"


def _paragraphs(text: str) -> Any:
    """Plain text as HTML paragraphs: escaped, blank lines between paragraphs, newlines as <br>."""
    from markupsafe import Markup, escape

    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    return Markup("\n").join(
        Markup('<p style="margin:0 0 16px;">{}</p>').format(Markup("<br>\n").join(escape(b).split("\n")))
        for b in blocks
    )


# --- environments -----------------------------------------------------------------------------------
@functools.cache
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(brl=_brl, data=_data, datahora=_datahora, paragraphs=_paragraphs)
    return env


# What a shop's text may use: its variables, these filters and tests, conditions. No loops, calls,
# assignments, macros, imports, arithmetic or literals beyond constants.
_SANDBOX_FILTERS = frozenset(
    {"brl", "data", "datahora", "upper", "lower", "title", "capitalize", "trim", "default", "d"}
)
_SANDBOX_TESTS = frozenset({"defined", "undefined", "none", "number", "string", "true", "false"})
_SANDBOX_NODES = frozenset(
    {
        "Template",
        "Output",
        "TemplateData",
        "Name",
        "Const",
        "Getattr",
        "Getitem",
        "Filter",
        "Test",
        "Keyword",
        "If",
        "CondExpr",
        "And",
        "Or",
        "Not",
        "Compare",
        "Operand",
        "Concat",
    }
)


@functools.cache
def _sandbox() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    env.globals.clear()
    filters = {**env.filters, "brl": _brl, "data": _data, "datahora": _datahora}
    env.filters = {name: filters[name] for name in _SANDBOX_FILTERS}
    env.tests = {name: env.tests[name] for name in _SANDBOX_TESTS}
    return env


_FIELDS = {"subject": "assunto", "intro": "texto de abertura"}


def _render_shop_text(spec: TemplateSpec, source: str, context: Mapping[str, Any], where: str) -> str:
    """A shop's text rendered in the sandbox with the message's variables only (TemplateError)."""
    from jinja2 import TemplateSyntaxError, UndefinedError, meta, nodes
    from jinja2.exceptions import SecurityError

    env = _sandbox()
    label = _FIELDS[where]
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            "template_syntax",
            f"Erro de sintaxe no {label} (linha {exc.lineno}): confira as chaves {{{{ }}}} e {{% %}}.",
            field=where,
        ) from None
    for node in tree.find_all(nodes.Node):
        kind = type(node).__name__
        if kind not in _SANDBOX_NODES or (isinstance(node, nodes.Getattr) and node.attr.startswith("_")):
            raise TemplateError(
                "template_unsafe",
                f"O {label} usa um recurso não permitido ({kind}): use só as variáveis da mensagem.",
                field=where,
            )
        if isinstance(node, nodes.Filter) and node.name not in _SANDBOX_FILTERS:
            raise TemplateError(
                "template_unknown_filter", f"Filtro desconhecido no {label}: {node.name}.", field=where
            )
        if isinstance(node, nodes.Test) and node.name not in _SANDBOX_TESTS:
            raise TemplateError(
                "template_unknown_filter", f"Teste desconhecido no {label}: {node.name}.", field=where
            )
    unknown = sorted(meta.find_undeclared_variables(tree) - set(spec.variables))
    if unknown:
        raise TemplateError(
            "template_unknown_variable",
            f"Variável desconhecida no {label}: {', '.join(unknown)}. "
            f"Use: {', '.join(sorted(spec.variables)) or 'nenhuma'}.",
            field=where,
        )
    values = {name: context[name] for name in spec.variables if name in context}
    try:
        return str(env.from_string(tree).render(values))
    except SecurityError:
        raise TemplateError(
            "template_unsafe", f"O {label} tenta acessar algo não permitido.", field=where
        ) from None
    except UndefinedError:
        raise TemplateError(
            "template_variable_missing", f"O {label} usa uma variável sem valor nesta mensagem.", field=where
        ) from None
    except Exception as exc:  # a filter given the wrong kind of value, and the like
        raise TemplateError(
            "template_render_failed", f"Não foi possível montar o {label}: {exc}", field=where
        ) from None


# --- the API ----------------------------------------------------------------------------------------
def _spec_of(name: str) -> TemplateSpec:
    spec = TEMPLATES.get(name)
    if spec is None:
        raise TemplateError("template_unknown", f"Mensagem desconhecida: {name}.")
    return spec


def _given(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def check_override(name: str, override: Override) -> None:
    """Refuse (TemplateError) a shop's texts for ``name`` that cannot be saved: a message that is
    not overridable, a subject over SUBJECT_MAX characters or on several lines, an intro over
    INTRO_MAX, a syntax error, anything beyond the message's variables and a few filters; then
    render both against the message's sample, in the sandbox, to prove they work."""
    spec = _spec_of(name)
    if not spec.overridable:
        raise TemplateError("template_not_overridable", "Esta mensagem não pode ser personalizada.")
    subject, intro = _given(override.subject), _given(override.intro)
    if subject is not None:
        if "\n" in subject or "\r" in subject:
            raise TemplateError(
                "template_subject_multiline", "O assunto deve ter uma linha só.", field="subject"
            )
        if len(subject) > SUBJECT_MAX:
            raise TemplateError(
                "template_subject_too_long", f"O assunto passa de {SUBJECT_MAX} caracteres.", field="subject"
            )
        _render_shop_text(spec, subject, spec.sample, "subject")
    if intro is not None:
        if len(intro) > INTRO_MAX:
            raise TemplateError(
                "template_intro_too_long",
                f"O texto de abertura passa de {INTRO_MAX} caracteres.",
                field="intro",
            )
        _render_shop_text(spec, intro, spec.sample, "intro")


def _missing(exc: Exception) -> TemplateError:
    return TemplateError("template_variable_missing", f"Falta um dado para montar a mensagem: {exc}")


def render(
    name: str, context: Mapping[str, Any], *, shop: ShopFace | None = None, override: Override | None = None
) -> Rendered:
    """Subject, text and HTML of message ``name``. ``shop`` frames the message (name, logo,
    contact) unless it is a platform message, and fills ``shop_name``; ``override`` (checked with
    ``check_override`` when saved) replaces the subject and/or the opening paragraph. TemplateError
    for an unknown message, a missing variable or an override that no longer renders."""
    from jinja2 import UndefinedError

    spec = _spec_of(name)
    values = dict(context)
    if shop is not None:
        values.setdefault("shop_name", shop.name)
    shop_subject = _given(override.subject) if override else None
    shop_intro = _given(override.intro) if override else None
    if (shop_subject or shop_intro) and not spec.overridable:
        raise TemplateError("template_not_overridable", "Esta mensagem não pode ser personalizada.")
    env = _environment()
    try:
        if shop_subject is not None:
            subject = _render_shop_text(spec, shop_subject, values, "subject")
        else:
            subject = env.get_template(f"{name}.subject.txt").render(values)
        subject = " ".join(subject.split())
        intro = _render_shop_text(spec, shop_intro, values, "intro") if shop_intro is not None else None
        frame = _frame(spec, shop)
        layout = {**values, **frame, "intro_override": intro, "subject": subject}
        text = env.get_template(f"{name}.txt").render(layout)
        html = env.get_template(f"{name}.html").render(layout)
    except UndefinedError as exc:
        raise _missing(exc) from None
    return Rendered(subject=subject, text=_tidy(text), html=html)


def _frame(spec: TemplateSpec, shop: ShopFace | None) -> dict[str, Any]:
    if spec.platform or shop is None:
        return {"brand": ShopFace(PLATFORM_NAME), "footer": "Enviado pelo assistec", "contact": None}
    logo = shop.logo_url if shop.logo_url and shop.logo_url.startswith("https://") else None
    contact = " · ".join(c for c in (shop.email, shop.phone) if c) or None
    return {
        "brand": ShopFace(shop.name, logo, shop.email, shop.phone),
        "footer": f"Enviado por {shop.name} pelo assistec",
        "contact": contact,
    }


def _tidy(text: str) -> str:
    """Plain text without trailing spaces or runs of blank lines (what the templates' tags leave)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
