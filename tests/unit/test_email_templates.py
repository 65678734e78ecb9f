"""The e-mails' templates: every message renders its sample in both parts with the shop's face and
every link, customer data is escaped in the HTML, a shop's own subject and opening paragraph replace
ours (as text), and a shop's text can reach nothing but the message's variables."""

from __future__ import annotations

import html as html_lib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistec.services.email.templates import (
    RESERVED,
    SUBSCRIPTION_NOTICES,
    TEMPLATES,
    TEMPLATES_DIR,
    Override,
    ShopFace,
    TemplateError,
    check_override,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
SHOP = ShopFace(
    "Conserta Já", "https://cdn.consertaja.com.br/logo.png", "contato@consertaja.com.br", "(11) 3333-4444"
)
SCRIPT = '<script>alert("x")</script>'
OVERRIDABLE = sorted(n for n, s in TEMPLATES.items() if s.overridable)


def links(sample: Any) -> list[str]:
    return [v for v in sample.values() if isinstance(v, str) and v.startswith("https://")]


def optional(name: str) -> list[str]:
    return [v for v, description in TEMPLATES[name].variables.items() if "(opcional)" in description]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_message_renders_its_sample(name: str) -> None:
    spec = TEMPLATES[name]

    rendered = render(name, spec.sample, shop=SHOP)

    # One-line subject, both parts filled
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject
    assert rendered.text.strip()
    assert rendered.html.startswith("<!DOCTYPE html>")
    # Every link of the sample reaches the reader in both parts
    for link in links(spec.sample):
        assert link in rendered.text
        assert f'href="{html_lib.escape(link)}"' in rendered.html
    # The shop's name where the message speaks of the shop; its frame on the shop's own messages
    if "shop_name" in spec.variables:
        assert SHOP.name in rendered.text
        assert SHOP.name in rendered.html
    if spec.platform:
        assert "Enviado pelo assistec" in rendered.text
        assert "Enviado pelo assistec" in rendered.html
        assert SHOP.logo_url not in rendered.html
    else:
        assert "Enviado por Conserta Já pelo assistec" in rendered.text
        assert "Enviado por Conserta Já pelo assistec" in rendered.html
        assert f'src="{SHOP.logo_url}"' in rendered.html
        assert "contato@consertaja.com.br" in rendered.text
    # No Jinja left over, no runs of blank lines in the text
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part
        assert "{%" not in part
    assert "\n\n\n" not in rendered.text


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_spec_is_consistent(name: str) -> None:
    spec = TEMPLATES[name]

    assert spec.name == name
    assert spec.description.endswith(".")
    # The sample gives every variable, and no variable takes a name the layouts use
    assert set(spec.sample) == set(spec.variables)
    assert not set(spec.variables) & RESERVED
    # Customer-facing messages are the shop's; platform ones are never the shop's to rewrite
    assert not (spec.platform and spec.overridable)


@pytest.mark.parametrize("name", [n for n in sorted(TEMPLATES) if optional(n)])
def test_optional_variables_may_be_none(name: str) -> None:
    spec = TEMPLATES[name]
    context = {**spec.sample, **dict.fromkeys(optional(name))}

    rendered = render(name, context, shop=SHOP)

    assert "None" not in rendered.text
    assert "None" not in rendered.html


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_customer_data_is_escaped_in_the_html(name: str) -> None:
    # Given every text value of the sample replaced by markup (a customer named <script>...)
    spec = TEMPLATES[name]
    hostile = {k: SCRIPT if isinstance(v, str) else v for k, v in spec.sample.items()}
    hostile_shop = ShopFace(SCRIPT, None, SCRIPT, None)

    rendered = render(name, hostile, shop=hostile_shop)

    # Then the HTML shows it as text
    assert "<script>" not in rendered.html
    if any(isinstance(v, str) for v in spec.sample.values()) or not spec.platform:
        assert "&lt;script&gt;" in rendered.html


def test_the_shop_name_comes_from_the_face_when_the_context_lacks_it() -> None:
    context = {k: v for k, v in TEMPLATES["appointment_reminder"].sample.items() if k != "shop_name"}

    rendered = render("appointment_reminder", context, shop=ShopFace("Oficina do Zé"))

    assert rendered.subject == "Lembrete: conserto na Oficina do Zé"


def test_a_logo_that_is_not_https_is_left_out() -> None:
    spec = TEMPLATES["order_document"]

    rendered = render("order_document", spec.sample, shop=ShopFace("Conserta Já", "javascript:alert(1)"))

    assert "<img" not in rendered.html
    assert "javascript:" not in rendered.html


def test_a_missing_variable_is_an_error_not_a_blank() -> None:
    context = {k: v for k, v in TEMPLATES["payment_link"].sample.items() if k != "due_date"}

    with pytest.raises(TemplateError) as caught:
        render("payment_link", context, shop=SHOP)

    assert caught.value.code == "template_variable_missing"
    assert "due_date" in caught.value.message


def test_an_unknown_message() -> None:
    with pytest.raises(TemplateError) as caught:
        render("nope", {})

    assert caught.value.code == "template_unknown"


def test_money_must_be_centavos() -> None:
    context = {**TEMPLATES["payment_link"].sample, "value_cents": 500.0}

    with pytest.raises(TypeError):
        render("payment_link", context, shop=SHOP)


def test_aware_datetimes_show_in_sao_paulo() -> None:
    # 17:30 UTC is 14:30 in São Paulo
    context = {**TEMPLATES["smtp_test"].sample, "sent_at": datetime(2026, 11, 24, 17, 30, tzinfo=UTC)}

    rendered = render("smtp_test", context, shop=SHOP)

    assert "24/11/2026 14:30" in rendered.text


def test_reminders_say_so() -> None:
    quote = render("quote_sent", {**TEMPLATES["quote_sent"].sample, "reminder": True}, shop=SHOP)
    payment = render("payment_link", {**TEMPLATES["payment_link"].sample, "reminder": True}, shop=SHOP)

    assert quote.subject == "Lembrete: orçamento da OS 1042 — Conserta Já"
    assert "aguarda sua resposta" in quote.text
    assert payment.subject == "Lembrete: pagamento da OS 1042 — Conserta Já"
    assert "Ainda não identificamos o pagamento" in payment.text


# --- the same words as today's senders -------------------------------------------------------------
def _body(text: str) -> str:
    return text.split("\n\n--\n", 1)[0]


def test_the_payment_mail_says_what_payment_flow_says() -> None:
    from uuid import uuid4

    from assistec.db.rows import ChargeRow
    from assistec.services.payment_flow import message

    sample = TEMPLATES["payment_link"].sample
    now = datetime(2026, 11, 24, tzinfo=UTC)
    charge = ChargeRow(
        **dict.fromkeys(("id", "tenant_id", "order_id"), uuid4()),
        attempt=1,
        external_reference="os-1",
        billing_type="UNDEFINED",
        value_cents=sample["value_cents"],
        due_date=sample["due_date"],
        status="pending",
        asaas_payment_id="pay_0001",
        asaas_status="PENDING",
        invoice_url=sample["invoice_url"],
        pix_payload=sample["pix_payload"],
        pix_qr_image=None,
        boleto_line=sample["boleto_line"],
        paid_cents=0,
        paid_at=None,
        receipt_url=None,
        flow_task_token=None,
        version=1,
        created_at=now,
        updated_at=now,
    )
    for reminder in (False, True):
        subject, body = message(
            charge, shop="Conserta Já", customer="Ana Souza", number=1042, reminder=reminder
        )

        rendered = render("payment_link", {**sample, "reminder": reminder}, shop=SHOP)

        # The same words (our subject starts with a capital; paragraphs may be spaced differently)
        assert rendered.subject.casefold() == subject.casefold()
        assert _body(rendered.text).split() == body.split()


# --- a shop's own texts ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", OVERRIDABLE)
def test_an_override_replaces_subject_and_intro_in_both_parts(name: str) -> None:
    spec = TEMPLATES[name]
    override = Override(
        subject="Olá {{ customer_name }}: novidades da {{ shop_name }}",
        intro="Oi, {{ customer_name }}!\nAqui é a equipe da {{ shop_name }}.\n\nObrigado pela preferência.",
    )
    check_override(name, override)
    default = render(name, spec.sample, shop=SHOP)

    rendered = render(name, spec.sample, shop=SHOP, override=override)

    assert rendered.subject == "Olá Ana Souza: novidades da Conserta Já"
    assert "Oi, Ana Souza!\nAqui é a equipe da Conserta Já.\n\nObrigado pela preferência." in rendered.text
    assert (
        '<p style="margin:0 0 16px;">Oi, Ana Souza!<br>\nAqui é a equipe da Conserta Já.</p>\n'
        '<p style="margin:0 0 16px;">Obrigado pela preferência.</p>'
    ) in rendered.html
    # Our opening is gone; the rest of the message (its links) stays
    default_intro = default.text.split("\n\n")[0]
    assert default_intro not in rendered.text
    for link in links(spec.sample):
        assert link in rendered.text


def test_only_the_subject_or_only_the_intro() -> None:
    spec = TEMPLATES["quote_sent"]
    default = render("quote_sent", spec.sample, shop=SHOP)

    subject_only = render("quote_sent", spec.sample, shop=SHOP, override=Override(subject="Seu orçamento"))
    intro_only = render("quote_sent", spec.sample, shop=SHOP, override=Override(intro="Oi!", subject="  "))

    assert subject_only.subject == "Seu orçamento"
    assert subject_only.text == default.text
    assert intro_only.subject == default.subject
    assert intro_only.text.startswith("Oi!\n")


def test_an_override_is_text_in_the_html() -> None:
    override = Override(intro='Promoção <b>imperdível</b> & "grátis" {{ customer_name }}')
    context = {**TEMPLATES["order_document"].sample, "customer_name": "<i>Ana</i>"}

    rendered = render("order_document", context, shop=SHOP, override=override)

    assert "<b>" not in rendered.html
    assert "<i>" not in rendered.html
    assert (
        "Promoção &lt;b&gt;imperdível&lt;/b&gt; &amp; &#34;grátis&#34; &lt;i&gt;Ana&lt;/i&gt;"
        in rendered.html
    )
    assert 'Promoção <b>imperdível</b> & "grátis" <i>Ana</i>' in rendered.text


def test_overrides_may_use_filters_and_conditions() -> None:
    override = Override(
        intro="{% if reminder %}Ainda esperamos{% else %}Segue{% endif %} o orçamento de "
        "{{ total_cents|brl }}, válido até {{ valid_until|data }}, {{ customer_name|upper }}."
    )
    check_override("quote_sent", override)

    rendered = render("quote_sent", TEMPLATES["quote_sent"].sample, shop=SHOP, override=override)

    assert rendered.text.startswith("Segue o orçamento de R$ 500,00, válido até 01/12/2026, ANA SOUZA.")


@pytest.mark.parametrize(
    ("override", "code", "field"),
    [
        # The sandbox: private attributes, item access to them, calls, loops, imports, assignments
        (Override(intro="{{ ''.__class__ }}"), "template_unsafe", "intro"),
        (Override(intro="{{ customer_name.__class__.__mro__ }}"), "template_unsafe", "intro"),
        (Override(intro="{{ customer_name['__class__'] }}"), "template_unsafe", "intro"),
        (Override(intro="{{ customer_name.upper() }}"), "template_unsafe", "intro"),
        (Override(intro="{% for i in link %}{{ i }}{% endfor %}"), "template_unsafe", "intro"),
        (Override(intro="{% include '_layout.html' %}"), "template_unsafe", "intro"),
        (Override(intro="{% set x = 1 %}{{ x }}"), "template_unsafe", "intro"),
        (Override(intro="{{ 'x' * 1000000000 }}"), "template_unsafe", "intro"),
        (Override(intro="{{ link|attr('__class__') }}"), "template_unknown_filter", "intro"),
        (Override(intro="{{ cycler }}"), "template_unknown_variable", "intro"),
        # Only the message's variables
        (Override(subject="OS {{ order_number }} de {{ cpf }}"), "template_unknown_variable", "subject"),
        (Override(intro="{{ password }}"), "template_unknown_variable", "intro"),
        # Syntax
        (Override(subject="Olá {{ customer_name"), "template_syntax", "subject"),
        (Override(intro="{% if reminder %}sem fim"), "template_syntax", "intro"),
        # Sizes and shape
        (Override(subject="Linha 1\nLinha 2"), "template_subject_multiline", "subject"),
        (Override(subject="x" * 201), "template_subject_too_long", "subject"),
        (Override(intro="x" * 4001), "template_intro_too_long", "intro"),
        # A filter given the wrong value
        (Override(intro="{{ customer_name|brl }}"), "template_render_failed", "intro"),
    ],
)
def test_check_override_refuses(override: Override, code: str, field: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check_override("quote_sent", override)

    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message


def test_check_override_accepts_limits() -> None:
    check_override("quote_sent", Override(subject="x" * 200, intro="y" * 4000))


@pytest.mark.parametrize("name", sorted(n for n, s in TEMPLATES.items() if not s.overridable))
def test_platform_messages_cannot_be_overridden(name: str) -> None:
    with pytest.raises(TemplateError) as caught:
        check_override(name, Override(subject="Outro assunto"))
    assert caught.value.code == "template_not_overridable"

    with pytest.raises(TemplateError):
        render(name, TEMPLATES[name].sample, shop=SHOP, override=Override(intro="Outro texto"))


def test_a_saved_override_that_no_longer_renders_is_an_error() -> None:
    # Given a text saved before a variable was renamed
    with pytest.raises(TemplateError) as caught:
        render("quote_sent", TEMPLATES["quote_sent"].sample, shop=SHOP, override=Override(intro="{{ OS }}"))

    assert caught.value.code == "template_unknown_variable"


# --- files and imports -------------------------------------------------------------------------------
def test_every_message_has_its_three_files_and_every_file_a_message() -> None:
    files = {p.name for p in TEMPLATES_DIR.iterdir() if p.is_file() and not p.name.startswith("_")}
    expected = {f"{name}{suffix}" for name in TEMPLATES for suffix in (".subject.txt", ".txt", ".html")}

    assert files == expected
    assert {"_layout.html", "_layout.txt"} <= {p.name for p in TEMPLATES_DIR.iterdir()}


def test_every_billing_step_has_a_message() -> None:
    steps = {"first", "second", "final", "suspended", "reactivated"}

    assert set(SUBSCRIPTION_NOTICES) == steps
    assert set(SUBSCRIPTION_NOTICES.values()) <= set(TEMPLATES)


def test_importing_the_templates_does_not_import_jinja() -> None:
    code = (
        "import sys\n"
        "import assistec.services.email.templates as t\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported'\n"
        "assert 'markupsafe' not in sys.modules, 'markupsafe imported'\n"
        "t.render('google_reconnect', {'shop_name': 'X'})\n"
        "assert 'jinja2' in sys.modules\n"
    )

    subprocess.run([sys.executable, "-c", code], cwd=ROOT / "functions", check=True, timeout=60)
