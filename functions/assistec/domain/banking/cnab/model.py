"""What the CNAB files say, as values: the retorno's occurrences and the remessa's items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple


class OccurrenceKind(StrEnum):
    ENTRY_CONFIRMED = "entry_confirmed"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"
    REJECTED = "rejected"
    FEE = "fee"
    DUE_DATE_CHANGED = "due_date_changed"
    OTHER = "other"


class Instruction(StrEnum):
    """What a remessa line asks the bank (the layouts' "código de movimento remessa")."""

    REGISTER = "register"
    WRITE_OFF = "write_off"
    CHANGE_DUE_DATE = "change_due_date"


@dataclass(frozen=True, slots=True)
class Defect:
    """Damage the parser tolerated (and repaired) but reports: a person may want to ask the bank."""

    code: str
    message: str
    lines: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AgreementId:
    """The agreement as the file states it (digits as written, leading zeros kept)."""

    company_document: str = ""
    company_name: str = ""
    agreement_code: str = ""  # convênio / código do beneficiário / código da empresa
    branch: str = ""
    branch_dv: str = ""
    account: str = ""
    account_dv: str = ""


class Occurrence(NamedTuple):
    """One title's event in a retorno (a NamedTuple: immutable, and cheap to build by the 100,000)."""

    line: int  # 1-based line of the detail (segment T for CNAB 240)
    nosso_numero: str
    document_number: str
    kind: OccurrenceKind
    code: str  # the bank's raw movement/occurrence code
    description: str
    due_date: date | None
    title_cents: int
    paid_cents: int
    fee_cents: int
    interest_cents: int
    discount_cents: int
    abatement_cents: int
    credited_cents: int | None  # None where the layout has no net-credited field (most CNAB 400)
    occurred_on: date | None
    credited_on: date | None
    reasons: str = ""  # the bank's raw reason codes (motivos), when any


@dataclass(frozen=True, slots=True)
class TrailerTotals:
    """What the trailers declare (None where the layout has no such field)."""

    records: int | None = None
    titles: int | None = None
    amount_cents: int | None = None
    checked: tuple[str, ...] = ()  # which of them were cross-checked against the details


@dataclass(frozen=True, slots=True)
class Retorno:
    bank_code: str
    bank_name: str
    layout: str  # "cnab240" | "cnab400"
    variant: str  # the bank module that read it, e.g. "bb240", "bb_cbr643"
    agreement: AgreementId
    sequence: int | None
    file_date: date | None
    occurrences: tuple[Occurrence, ...]
    defects: tuple[Defect, ...] = ()
    totals: TrailerTotals = field(default_factory=TrailerTotals)


@dataclass(frozen=True, slots=True)
class Agreement:
    """The shop's agreement with its bank, as the remessa needs it."""

    bank_code: str
    company_document: str  # CNPJ/CPF digits
    company_name: str
    branch: str
    account: str
    account_dv: str = ""
    branch_dv: str = ""
    agreement_code: str = ""  # convênio / código do beneficiário
    wallet: str = ""  # carteira
    wallet_variation: str = ""


@dataclass(frozen=True, slots=True)
class RemessaItem:
    nosso_numero: str
    document_number: str  # seu número
    due_date: date
    issue_date: date
    amount_cents: int
    payer_name: str
    payer_document: str  # CPF (11) or CNPJ (14) digits
    payer_address: str
    payer_district: str
    payer_zip: str  # CEP, 8 digits
    payer_city: str
    payer_state: str  # UF
    instruction: Instruction = Instruction.REGISTER
    interest_per_day_cents: int = 0  # juros de mora por dia (valor)
    interest_from: date | None = None
    fine_cents: int = 0  # multa (valor)
    fine_from: date | None = None
    discount_cents: int = 0
    discount_until: date | None = None
    abatement_cents: int = 0

    @property
    def payer_is_company(self) -> bool:
        return len(self.payer_document) == 14
