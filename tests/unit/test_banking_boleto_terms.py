"""A boleto's terms when issued (domain/banking/boleto_terms.py): the agreement's defaults or the
request's overrides, the due date on the shop's calendar, and the texts the customer reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.domain.banking.boleto import BoletoError
from assistec.domain.banking.boleto_terms import (
    AgreementDefaults,
    IssueTerms,
    TermOverrides,
    check_amount,
    check_due_date,
    instructions,
    issue_terms,
    issued_text,
    paid_text,
    percent,
    reference,
)

TODAY = date(2026, 11, 30)
DUE = date(2026, 12, 10)
DEFAULTS = AgreementDefaults(interest_monthly_bp=100, fine_bp=200, discount_cents=500, discount_days=5)


def test_the_agreements_defaults_apply_when_nothing_is_overridden() -> None:
    terms = issue_terms(DEFAULTS, TermOverrides(), amount_cents=15000, due_date=DUE, today=TODAY)
    # The discount holds until discount_days before the due date
    assert terms == IssueTerms(100, 200, 500, date(2026, 12, 5))


def test_a_discount_window_already_closed_prints_no_discount() -> None:
    # Due in three days, the agreement's discount ends five days before it: yesterday
    terms = issue_terms(
        DEFAULTS, TermOverrides(), amount_cents=15000, due_date=TODAY + timedelta(days=3), today=TODAY
    )
    assert (terms.discount_cents, terms.discount_until) == (0, None)


def test_overrides_replace_each_default_and_a_zero_discount_removes_it() -> None:
    terms = issue_terms(
        DEFAULTS,
        TermOverrides(interest_monthly_bp=0, fine_bp=1000, discount_cents=0),
        amount_cents=15000,
        due_date=DUE,
        today=TODAY,
    )
    assert terms == IssueTerms(0, 1000, 0, None)
    own = issue_terms(
        DEFAULTS,
        TermOverrides(discount_cents=1200, discount_until=DUE),
        amount_cents=15000,
        due_date=DUE,
        today=TODAY,
    )
    assert (own.interest_monthly_bp, own.fine_bp, own.discount_cents, own.discount_until) == (
        100,
        200,
        1200,
        DUE,
    )


@pytest.mark.parametrize(
    ("overrides", "amount", "code"),
    [
        (TermOverrides(discount_cents=100), 15000, "boleto_discount_date_missing"),
        (TermOverrides(discount_cents=100, discount_until=DUE + timedelta(days=1)), 15000, "boleto_invalid_discount_date"),  # noqa: E501
        (TermOverrides(discount_cents=100, discount_until=TODAY - timedelta(days=1)), 15000, "boleto_invalid_discount_date"),  # noqa: E501
        (TermOverrides(discount_cents=15000, discount_until=DUE), 15000, "boleto_invalid_discount"),
        (TermOverrides(fine_bp=2001), 15000, "boleto_invalid_fine"),
        (TermOverrides(interest_monthly_bp=1001), 15000, "boleto_invalid_interest"),
        (TermOverrides(), 500, "boleto_invalid_discount"),  # the agreement's R$ 5,00 on a R$ 5,00 boleto
    ],
)  # fmt: skip
def test_terms_out_of_range_are_refused_with_a_stable_code(
    overrides: TermOverrides, amount: int, code: str
) -> None:
    with pytest.raises(BoletoError) as refused:
        issue_terms(DEFAULTS, overrides, amount_cents=amount, due_date=DUE, today=TODAY)
    assert refused.value.code == code
    assert refused.value.message


def test_the_due_date_is_today_or_later_and_within_ten_years() -> None:
    check_due_date(TODAY, TODAY)
    check_due_date(TODAY + timedelta(days=3650), TODAY)
    for due, code in (
        (TODAY - timedelta(days=1), "boleto_due_date_past"),
        (TODAY + timedelta(days=3651), "boleto_due_date_too_far"),
    ):
        with pytest.raises(BoletoError) as refused:
            check_due_date(due, TODAY)
        assert refused.value.code == code
    with pytest.raises(BoletoError, match="30/11/2026"):
        check_due_date(TODAY - timedelta(days=1), TODAY)


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "boleto_invalid_amount"),
        (-1, "boleto_invalid_amount"),
        (10**10, "boleto_amount_too_large"),
        (True, "boleto_invalid_amount"),
    ],
)
def test_the_amount_fits_the_barcode(amount: int, code: str) -> None:
    with pytest.raises(BoletoError) as refused:
        check_amount(amount)
    assert refused.value.code == code
    check_amount(1)
    check_amount(10**10 - 1)


@given(
    amount=st.integers(min_value=1, max_value=10**10 - 1),
    days_ahead=st.integers(min_value=0, max_value=400),
    defaults=st.builds(
        AgreementDefaults,
        interest_monthly_bp=st.integers(0, 1000),
        fine_bp=st.integers(0, 2000),
        discount_cents=st.integers(0, 10**6),
        discount_days=st.integers(0, 365),
    ),
)
def test_issued_terms_always_fit_what_the_database_holds(
    amount: int, days_ahead: int, defaults: AgreementDefaults
) -> None:
    due = TODAY + timedelta(days=days_ahead)
    refused: BoletoError | None = None
    try:
        terms = issue_terms(defaults, TermOverrides(), amount_cents=amount, due_date=due, today=TODAY)
    except BoletoError as error:
        refused = error
    if refused is not None:
        # Only a discount not below the amount is refused for the agreement's own defaults
        assert refused.code == "boleto_invalid_discount"
        assert defaults.discount_cents >= amount
        return
    # The table's checks (migration 0036): discount below the amount, its date not after the due date
    assert 0 <= terms.discount_cents < amount
    assert (terms.discount_until is None) == (terms.discount_cents == 0)
    if terms.discount_until is not None:
        assert TODAY <= terms.discount_until <= due


def test_percentages_in_pt_br() -> None:
    assert [percent(bp) for bp in (0, 200, 150, 33, 1000, 5)] == ["0%", "2%", "1,5%", "0,33%", "10%", "0,05%"]


def test_the_texts_the_customer_reads() -> None:
    terms = IssueTerms(100, 200, 990, date(2026, 12, 5))
    assert instructions(terms, reference="OS 42") == (
        "Referente a: OS 42",
        "Após o vencimento, multa de 2% e juros de 1% ao mês.",
        "Desconto de R$ 9,90 até 05/12/2026.",
        "Não aceitar pagamento em cheque.",
    )
    assert instructions(IssueTerms(0, 0, 0, None)) == ("Não aceitar pagamento em cheque.",)
    assert reference(42, "109/00000001-8") == "da OS 42"
    assert reference(None, "109/00000001-8") == "nº 109/00000001-8"
    assert paid_text(paid_cents=25000, reference="da OS 42") == (
        "Pagamento recebido: R$ 250,00 do boleto da OS 42. Obrigado!"
    )
    text = issued_text(
        customer="Ana Souza", shop="Conserta Já", reference="da OS 42", amount_cents=18990,
        due_date=DUE, linha_digitavel="34191090080000000001234567123456009123456789012",
    )  # fmt: skip
    assert text.startswith("Olá, Ana! Segue o boleto da OS 42 na Conserta Já.")
    assert "Valor: R$ 189,90. Vencimento: 10/12/2026." in text
    assert "34191.09008 00000.000012 34567.123456 0 09123456789012" in text
    assert "Referente a" not in text  # an order's boleto has no description of its own


def test_a_free_boletos_description_is_printed_and_sent() -> None:
    terms = IssueTerms(0, 200, 0, None)
    assert instructions(terms, description="Película e capinha") == (
        "Descrição: Película e capinha",
        "Após o vencimento, multa de 2%.",
        "Não aceitar pagamento em cheque.",
    )
    text = issued_text(
        customer="Ana Souza", shop="Conserta Já", reference="nº 00012345-6", amount_cents=4990,
        due_date=DUE, linha_digitavel="34191090080000000001234567123456009123456789012",
        description="Película e capinha",
    )  # fmt: skip
    assert text.splitlines()[:3] == [
        "Olá, Ana! Segue o boleto nº 00012345-6 na Conserta Já.",
        "Referente a: Película e capinha",
        "Valor: R$ 49,90. Vencimento: 10/12/2026.",
    ]
