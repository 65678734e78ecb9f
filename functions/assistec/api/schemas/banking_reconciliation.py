"""Models of the bank reconciliation: the matcher's runs, the matches (suggested, confirmed, rejected,
withdrawn), what is still open, and the accountant's report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from assistec.api.schemas.common import Input, Int, IsoDate, Output

MatchStatus = Literal["suggested", "confirmed", "rejected", "withdrawn"]
Ids = Annotated[list[UUID], Field(max_length=500)]


class RunIn(Input):
    start: IsoDate = Field(alias="from", description="First day of the period (the shop's calendar)")
    end: IsoDate = Field(alias="to", description="Last day, inclusive (at most 366 days)")


class ReportTotals(Output):
    expected_count: int = Field(description="Expected credits (settlements, Asaas) credited in the period")
    expected_cents: int
    matched_count: int = Field(description="Of them, reconciled (by the matcher or a person)")
    matched_cents: int
    auto_matched_count: int = Field(description="Reconciled by the matcher (confirmed since or not)")
    confirmed_count: int = Field(description="Items in matches a person confirmed")
    unmatched_expected_count: int
    unmatched_expected_cents: int
    unmatched_line_count: int = Field(description="Statement credits nothing explains")
    unmatched_line_cents: int
    fees_cents: int = Field(description="Bank tariffs: kept back from credits, debited apart, unexplained")
    differences_cents: int = Field(description="Sum of the matches' differences (0: everything adds up)")
    auto_match_rate_bp: int = Field(description="Automatic match rate in basis points (10000 = 100%)")


class RunOut(Output):
    start: date
    end: date
    created: int = Field(description="Suggestions written by this run")
    kept: int = Field(description="Suggestions of the period the run made again, left as they were")
    withdrawn: int = Field(description="Suggestions of the period the matcher no longer makes")
    totals: ReportTotals


class MatchItemOut(Output):
    bank_file_line_id: UUID | None
    charge_id: UUID | None
    amount_cents: int


class MatchLineOut(Output):
    statement_line_id: UUID
    role: Literal["credit", "fee"]
    amount_cents: int


class MatchOut(Output):
    id: UUID
    status: MatchStatus
    method: Literal["automatic", "manual"]
    score: int | None = Field(description="The matcher's confidence, 0-100 (null for a person's match)")
    reason: str | None = Field(
        description="The matcher's rule (reference, batch_day, batch_split, batch_subset, amount_date) "
        "or manual"
    )
    statement_line_id: UUID = Field(description="The (first) credit line")
    posted_on: date
    difference_cents: int
    lines: list[MatchLineOut]
    items: list[MatchItemOut]
    confirmed_by: UUID | None
    confirmed_at: datetime | None
    rejected_by: UUID | None
    rejected_at: datetime | None
    withdrawn_at: datetime | None
    created_at: datetime


class MatchList(Output):
    items: list[MatchOut]


class ManualMatchIn(Input):
    statement_line_id: UUID = Field(description="The statement's credit line")
    bank_file_line_ids: Ids = Field(default_factory=list, description="Retorno settlements it carries")
    charge_ids: Ids = Field(default_factory=list, description="Paid Asaas charges it carries")
    fee_line_ids: Ids = Field(default_factory=list, description="Tariff debits that charge those settlements")
    difference_cents: Int = Field(
        default=0,
        ge=-100_000_000_000,
        le=100_000_000_000,
        description="The difference accepted: the credit less the tariff debits, minus what the items "
        "credit (paid less tariffs). Refused (422, nothing written) unless it is exactly that",
    )


class CandidateOut(Output):
    match_id: UUID | None = Field(description="A stored suggestion (confirm or reject it); null: a candidate")
    score: int
    reason: str
    statement_line_ids: list[UUID]
    bank_file_line_ids: list[UUID]
    charge_ids: list[UUID]
    difference_cents: int


class OpenLineOut(Output):
    id: UUID
    posted_on: date
    amount_cents: int
    description: str | None
    reference: str | None
    kind: Literal["credit", "fee"]
    suggestions: list[CandidateOut]


class OpenItemOut(Output):
    source: Literal["boleto", "asaas"]
    id: UUID = Field(description="The settlement (bank file line) or the Asaas charge")
    amount_cents: int
    fee_cents: int
    credit_on: date
    reference: str
    suggestions: list[CandidateOut]


class UnmatchedOut(Output):
    start: date
    end: date
    statement_lines: list[OpenLineOut]
    expected: list[OpenItemOut]


class ReportRowOut(Output):
    day: date
    kind: str
    reference: str
    description: str
    expected_cents: int | None
    statement_cents: int | None
    fees_cents: int | None
    difference_cents: int | None
    status: str
    note: str


class ReportOut(Output):
    start: date
    end: date
    totals: ReportTotals
    matched: list[ReportRowOut]
    expected_pending: list[ReportRowOut] = Field(description="Expected credits not on the statement")
    statement_pending: list[ReportRowOut] = Field(description="Statement credits nothing explains")
    fee_pending: list[ReportRowOut] = Field(description="Tariff debits no settlement accounts for")


class ReportFileOut(Output):
    url: str = Field(description="A presigned download link")
    filename: str = Field(examples=["conciliacao-20261101-20261130.pdf"])
    content_type: Literal["text/csv; charset=utf-8", "application/pdf"]
    expires_at: datetime = Field(description="When the link stops working (5 minutes)")
