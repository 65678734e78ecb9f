"""A boleto's terms when it is issued, and what the shop and its customer read about it.

- ``issue_terms``: the agreement's defaults of interest, fine and discount, or the overrides given for
  this boleto, checked against the boleto's amount and dates (``BoletoError``: a stable code and a
  pt-BR message). The agreement's discount is "``discount_cents`` when paid up to ``discount_days``
  days before the due date"; an override gives the date itself.
- ``check_due_date``: a shop calendar day (the caller passes the shop's today), not in the past and
  not further ahead than the barcode's due-date factor reads unambiguously.
- ``instructions``, ``issued_text``, ``paid_text``: the PDF's instruction lines and the WhatsApp
  messages (pt-BR, money in integer centavos).

Pure: no I/O, no clock (``today`` is always given).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from assistec.domain.banking.boleto import MAX_AMOUNT_CENTS, BoletoError, format_linha
from assistec.domain.quotes import brl

# What the database holds (migration 0036): interest up to 10% a month, fine up to 20%.
MAX_INTEREST_MONTHLY_BP = 1000
MAX_FINE_BP = 2000
# Ten years ahead: well inside the window a due-date factor is read in (boleto.DEFAULT_DAYS_BACK).
MAX_DAYS_AHEAD = 3650


@dataclass(frozen=True, slots=True)
class AgreementDefaults:
    interest_monthly_bp: int = 0
    fine_bp: int = 0
    discount_cents: int = 0
    discount_days: int = 0


@dataclass(frozen=True, slots=True)
class TermOverrides:
    """What the request gave (None: the agreement's default). A discount override names its date;
    ``discount_cents=0`` removes the agreement's discount."""

    interest_monthly_bp: int | None = None
    fine_bp: int | None = None
    discount_cents: int | None = None
    discount_until: date | None = None


@dataclass(frozen=True, slots=True)
class IssueTerms:
    interest_monthly_bp: int
    fine_bp: int
    discount_cents: int
    discount_until: date | None


def _bad(code: str, message: str, field: str) -> BoletoError:
    return BoletoError(code, message, field=field)


def check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise _bad("boleto_invalid_amount", "O valor do boleto deve ser maior que zero.", "amount_cents")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise _bad(
            "boleto_amount_too_large",
            "O valor excede o máximo que cabe no código de barras (R$ 99.999.999,99).",
            "amount_cents",
        )


def check_due_date(due_date: date, today: date) -> None:
    """``due_date`` (the shop's calendar day) is today or later, and at most ten years ahead."""
    if due_date < today:
        raise _bad(
            "boleto_due_date_past",
            f"O vencimento não pode ser no passado (hoje na loja é {today:%d/%m/%Y}).",
            "due_date",
        )
    if due_date > today + timedelta(days=MAX_DAYS_AHEAD):
        raise _bad("boleto_due_date_too_far", "O vencimento pode ser no máximo daqui a 10 anos.", "due_date")


def issue_terms(
    defaults: AgreementDefaults,
    overrides: TermOverrides,
    *,
    amount_cents: int,
    due_date: date,
    today: date,
) -> IssueTerms:
    """The boleto's interest, fine and discount: each override, else the agreement's default."""
    interest = (
        defaults.interest_monthly_bp
        if overrides.interest_monthly_bp is None
        else overrides.interest_monthly_bp
    )
    fine = defaults.fine_bp if overrides.fine_bp is None else overrides.fine_bp
    if not 0 <= interest <= MAX_INTEREST_MONTHLY_BP:
        raise _bad("boleto_invalid_interest", "Juros: de 0 a 10% ao mês (0 a 1000).", "interest_monthly_bp")
    if not 0 <= fine <= MAX_FINE_BP:
        raise _bad("boleto_invalid_fine", "Multa: de 0 a 20% (0 a 2000).", "fine_bp")
    if overrides.discount_cents is None and overrides.discount_until is None:
        discount = defaults.discount_cents
        until = due_date - timedelta(days=defaults.discount_days) if discount else None
        if until is not None and until < today:
            # The agreement's window has already closed for this due date: no discount to print
            discount, until = 0, None
    else:
        discount = overrides.discount_cents or 0
        until = overrides.discount_until if discount else None
        if discount and until is None:
            raise _bad(
                "boleto_discount_date_missing", "Informe até quando vale o desconto.", "discount_until"
            )
        if until is not None and not today <= until <= due_date:
            raise _bad(
                "boleto_invalid_discount_date",
                "O desconto deve valer até uma data entre hoje e o vencimento.",
                "discount_until",
            )
    if discount < 0 or discount >= amount_cents:
        raise _bad(
            "boleto_invalid_discount", "O desconto deve ser menor que o valor do boleto.", "discount_cents"
        )
    return IssueTerms(interest, fine, discount, until)


def percent(bp: int) -> str:
    """Basis points as a pt-BR percentage: 200 → ``2%``, 150 → ``1,5%``, 33 → ``0,33%``."""
    whole, cents = divmod(bp, 100)
    if cents == 0:
        return f"{whole}%"
    return f"{whole},{cents:02d}".rstrip("0") + "%"


def instructions(
    terms: IssueTerms, *, reference: str | None = None, description: str | None = None
) -> tuple[str, ...]:
    """The boleto's instruction lines (the bank prints what the beneficiary asks): what it refers to
    (the order), what a free boleto charges (its description), the late terms and the discount."""
    lines = []
    if reference:
        lines.append(f"Referente a: {reference}")
    if description:
        lines.append(f"Descrição: {description}")
    late = []
    if terms.fine_bp:
        late.append(f"multa de {percent(terms.fine_bp)}")
    if terms.interest_monthly_bp:
        late.append(f"juros de {percent(terms.interest_monthly_bp)} ao mês")
    if late:
        lines.append("Após o vencimento, " + " e ".join(late) + ".")
    if terms.discount_cents and terms.discount_until is not None:
        lines.append(f"Desconto de {brl(terms.discount_cents)} até {terms.discount_until:%d/%m/%Y}.")
    lines.append("Não aceitar pagamento em cheque.")
    return tuple(lines)


def issued_text(
    *,
    customer: str,
    shop: str,
    reference: str,
    amount_cents: int,
    due_date: date,
    linha_digitavel: str,
    description: str | None = None,
) -> str:
    """The WhatsApp message that sends a boleto (its linha digitável to copy); a free boleto's
    description says what it charges."""
    first = customer.split()[0] if customer.strip() else customer
    return "\n".join(
        [
            f"Olá, {first}! Segue o boleto {reference} na {shop}.",
            *([f"Referente a: {description}"] if description else []),
            f"Valor: {brl(amount_cents)}. Vencimento: {due_date:%d/%m/%Y}.",
            "",
            "Linha digitável:",
            format_linha(linha_digitavel),
            "",
            "Se já pagou, desconsidere esta mensagem.",
        ]
    )


def paid_text(*, paid_cents: int, reference: str) -> str:
    """What the customer reads when the bank tells the shop the boleto was paid."""
    return f"Pagamento recebido: {brl(paid_cents)} do boleto {reference}. Obrigado!"


def reference(order_number: int | None, nosso_numero: str) -> str:
    """How messages name a boleto: by its order (``da OS 42``), else by its nosso número."""
    return f"da OS {order_number}" if order_number is not None else f"nº {nosso_numero}"
