"""Models of banking: the shop's bank agreements and the bank files it sends in."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from assistec.api.schemas.common import Bool, Input, Int, Output, Patch
from assistec.services.banking.agreements import BANKS, check_agreement
from assistec.services.banking.limits import INLINE_MAX_BASE64, INLINE_MAX_BYTES

_BANK_LIST = ", ".join(f"{code} ({name})" for code, name in BANKS.items())


def _bank(value: str) -> str:
    if value not in BANKS:
        raise ValueError(f"banco não atendido; use um destes códigos: {_BANK_LIST}")
    return value


def _pattern(regex: str, message: str) -> Any:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


BankCode = Annotated[
    str,
    StringConstraints(max_length=3),
    AfterValidator(_bank),
    Field(description="FEBRABAN bank code", json_schema_extra={"enum": list(BANKS)}),
]
Branch = Annotated[
    str,
    StringConstraints(max_length=5),
    _pattern(r"[0-9]{1,5}", "agência: só números, até 5 dígitos"),
    Field(description="Agência (cooperativa no Sicredi/Sicoob), digits only"),
]
BranchDigit = Annotated[
    str,
    StringConstraints(max_length=1, to_upper=True),
    _pattern(r"[0-9X]", "dígito da agência: um número ou X"),
]
Account = Annotated[
    str, StringConstraints(max_length=12), _pattern(r"[0-9]{1,12}", "conta: só números, até 12 dígitos")
]
AccountDigit = Annotated[
    str,
    StringConstraints(max_length=2, to_upper=True),
    _pattern(r"[0-9X]{1,2}", "dígito da conta: um ou dois caracteres, números ou X"),
]
Wallet = Annotated[
    str,
    StringConstraints(max_length=3, to_upper=True),
    _pattern(r"[0-9A-Z]{1,3}", "carteira: até 3 letras ou números"),
    Field(description="Carteira"),
]
AgreementCode = Annotated[
    str,
    StringConstraints(max_length=20),
    _pattern(r"[0-9]{1,20}", "convênio: só números, até 20 dígitos"),
    Field(description="Convênio / código do beneficiário"),
]
WalletVariation = Annotated[
    str,
    StringConstraints(max_length=3),
    _pattern(r"[0-9]{1,3}", "variação da carteira: só números, até 3 dígitos"),
    Field(
        description="Variação da carteira (Banco do Brasil: required; its CNAB 240 headers and CNAB 400 "
        "detail carry it)"
    ),
]
Posto = Annotated[
    str,
    StringConstraints(max_length=2),
    _pattern(r"[0-9]{2}", "posto: 2 dígitos numéricos"),
    Field(description="Posto da cooperativa (Sicredi: required; in its nosso número and barcode)"),
]
Layout = Literal["cnab240", "cnab400"]
AgreementName = Annotated[str, StringConstraints(min_length=1, max_length=80)]
BasisPoints = Annotated[Int, Field(ge=0, le=1000, description="Basis points (1% = 100)")]
FineBasisPoints = Annotated[Int, Field(ge=0, le=2000, description="Basis points (2% = 200)")]
DiscountCents = Annotated[Int, Field(ge=0, le=9_999_999_999, description="Centavos (R$ 1,00 = 100)")]
DiscountDays = Annotated[Int, Field(ge=0, le=365)]
NossoNumero = Annotated[Int, Field(ge=1, le=99_999_999_999_999_999)]
RemessaSequence = Annotated[Int, Field(ge=1, le=9_999_999)]


class _Checked:
    @model_validator(mode="after")
    def _bank_rules(self) -> Any:
        values = {k: v for k, v in self.__dict__.items() if v is not None}
        if "bank_code" in values:
            problems = check_agreement(values)
            if problems:
                raise ValueError("; ".join(problems))
        return self


class AgreementIn(_Checked, Input):
    name: AgreementName
    bank_code: BankCode
    branch: Branch
    branch_digit: BranchDigit | None = None
    account: Account
    account_digit: AccountDigit | None = None
    wallet: Wallet
    agreement_code: AgreementCode
    wallet_variation: WalletVariation | None = None
    posto: Posto | None = None
    layout: Layout
    next_nosso_numero: NossoNumero = 1
    next_remessa_sequence: RemessaSequence = 1
    interest_monthly_bp: BasisPoints = 0
    fine_bp: FineBasisPoints = 0
    discount_cents: DiscountCents = 0
    discount_days: DiscountDays = 0
    active: Bool = True


class AgreementPatch(Patch):
    """The bank's rules on branch, account and agreement code are checked on the agreement as it would
    be after the change (by the service: it knows the current values)."""

    required_if_present = frozenset(
        {
            "version", "name", "bank_code", "branch", "account", "wallet", "agreement_code", "layout",
            "next_nosso_numero", "next_remessa_sequence", "interest_monthly_bp", "fine_bp", "discount_cents",
            "discount_days", "active",
        }
    )  # fmt: skip

    version: Int = Field(ge=1)
    name: AgreementName | None = None
    bank_code: BankCode | None = None
    branch: Branch | None = None
    branch_digit: BranchDigit | None = None
    account: Account | None = None
    account_digit: AccountDigit | None = None
    wallet: Wallet | None = None
    agreement_code: AgreementCode | None = None
    wallet_variation: WalletVariation | None = None
    posto: Posto | None = None
    layout: Layout | None = None
    next_nosso_numero: NossoNumero | None = Field(default=None, description="Only forward")
    next_remessa_sequence: RemessaSequence | None = Field(default=None, description="Only forward")
    interest_monthly_bp: BasisPoints | None = None
    fine_bp: FineBasisPoints | None = None
    discount_cents: DiscountCents | None = None
    discount_days: DiscountDays | None = None
    active: Bool | None = None


class AgreementOut(Output):
    id: UUID
    name: str
    bank_code: str
    branch: str
    branch_digit: str | None
    account: str
    account_digit: str | None
    wallet: str
    agreement_code: str
    wallet_variation: str | None
    posto: str | None
    layout: Layout
    next_nosso_numero: int
    next_remessa_sequence: int
    interest_monthly_bp: int
    fine_bp: int
    discount_cents: int
    discount_days: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class AgreementList(Output):
    items: list[AgreementOut]


FileKind = Literal["retorno", "statement"]
Filename = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class BankFileUploadIn(Input):
    kind: FileKind
    filename: Filename | None = Field(default=None, description="The file's name, kept with it")


class BankFileUploadOut(Output):
    upload_id: UUID = Field(description="The file's id once read (unless it repeats an earlier file)")
    key: str
    upload_url: str
    upload_fields: dict[str, str] = Field(description="POST these form fields, then the file as `file`")
    max_bytes: int
    expires_in: int


def _base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("conteúdo inválido: envie o arquivo em base64") from None


class BankFileInlineIn(Input):
    kind: FileKind
    filename: Filename | None = None
    content_base64: Annotated[
        str,
        StringConstraints(min_length=1, max_length=INLINE_MAX_BASE64),
        Field(description=f"The file, base64 ({INLINE_MAX_BYTES} bytes at most)"),
    ]

    def content(self) -> bytes:
        return _base64(self.content_base64)

    @model_validator(mode="after")
    def _decodes(self) -> BankFileInlineIn:
        data = _base64(self.content_base64)
        if not data:
            raise ValueError("o arquivo está vazio")
        if len(data) > INLINE_MAX_BYTES:
            raise ValueError(
                f"arquivo grande demais: até {INLINE_MAX_BYTES} bytes por aqui; use o envio por URL"
            )
        return self


FileStatus = Literal["pending_parser", "parsed", "refused", "failed"]


class BankFileOut(Output):
    id: UUID
    kind: FileKind
    source: Literal["upload", "inline"]
    filename: str | None
    size_bytes: int
    sha256: str = Field(description="Hex SHA-256 of the content: one file per content per shop")
    status: FileStatus = Field(
        description="pending_parser: stored, no parser for it yet; parsed; refused (error_code, "
        "error_message); failed: our parser's error"
    )
    format: Literal["cnab240", "cnab400", "ofx", "csv"] | None
    agreement_id: UUID | None
    error_code: str | None
    error_message: str | None
    line_count: int
    occurrence_count: int
    duplicate_count: int
    unmatched_count: int
    settled_cents: int
    uploaded_by: UUID | None
    received_at: datetime
    processed_at: datetime | None


class BankFileIntakeOut(BankFileOut):
    duplicate: bool = Field(description="This content had been received before: nothing changed")


class OccurrenceOut(Output):
    id: UUID
    bank_file_id: UUID
    line_number: int
    kind: str
    occurrence_code: str | None
    nosso_numero: int | None = Field(description="The boleto's sequence read from the bank's column")
    nosso_numero_text: str | None = Field(
        default=None, description="The bank's nosso número column as the file has it"
    )
    boleto_id: UUID | None
    amount_cents: int
    paid_cents: int
    fee_cents: int
    occurred_on: date | None
    credited_on: date | None
    due_date: date | None = Field(default=None, description="The title's due date as the bank states it")
    reasons: str | None = Field(
        default=None, description="The bank's reason codes (motivos), e.g. why an entry was rejected"
    )
    status: Literal["pending", "applied", "unmatched", "resolved", "ignored"] = Field(
        description="applied: its effect on the boleto is done; pending: left for a person (a rejection, "
        "a boleto already closed); unmatched: no boleto of the agreement has that nosso número"
    )


class BankFileDetail(BankFileOut):
    occurrences: list[OccurrenceOut]


class OccurrenceList(Output):
    items: list[OccurrenceOut]


class BankFileList(Output):
    items: list[BankFileOut]
