"""Bank reconciliation (owners and admins): run the matcher over a period, go through its suggestions
(confirm, reject), match by hand, see what is still open, and the accountant's report (JSON, CSV,
PDF)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.banking_reconciliation import (
    CandidateOut,
    ManualMatchIn,
    MatchItemOut,
    MatchLineOut,
    MatchList,
    MatchOut,
    MatchStatus,
    OpenItemOut,
    OpenLineOut,
    ReportFileOut,
    ReportOut,
    ReportRowOut,
    ReportTotals,
    RunIn,
    RunOut,
    UnmatchedOut,
)
from assistec.api.schemas.common import IsoDate
from assistec.db.reconciliation import Match
from assistec.domain.banking.reconcile import ReconciliationReport
from assistec.domain.banking.report import Section
from assistec.services.banking.reconciliation import Candidate

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="banking")

From = Annotated[IsoDate | None, Query(alias="from", description="First day (default: 30 days before 'to')")]
To = Annotated[IsoDate | None, Query(alias="to", description="Last day, inclusive (default: today)")]


def _match(match: Match) -> MatchOut:
    row = match.row
    return MatchOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]  # the database's check keeps it one of them
        method=row.method,  # type: ignore[arg-type]
        score=row.score,
        reason=row.reason,
        statement_line_id=row.statement_line_id,
        posted_on=row.posted_on,
        difference_cents=row.difference_cents,
        lines=[MatchLineOut.model_validate(line) for line in match.lines],
        items=[MatchItemOut.model_validate(item) for item in match.items],
        confirmed_by=row.confirmed_by,
        confirmed_at=row.confirmed_at,
        rejected_by=row.rejected_by,
        rejected_at=row.rejected_at,
        withdrawn_at=row.withdrawn_at,
        created_at=row.created_at,
    )


def _totals(report: ReconciliationReport) -> ReportTotals:
    return ReportTotals.model_validate(report)


def _candidate(candidate: Candidate) -> CandidateOut:
    return CandidateOut.model_validate(candidate)


@routes.post(
    "/banking/reconciliation/run",
    summary="Run the matcher over a period: statement credits against retorno settlements and Asaas "
    "credits; its matches are kept as suggestions (never over a confirmed match); the same run again "
    "changes nothing",
    responses=doc(200, RunOut, 401, 403, 413),
)
def run(body: Annotated[RunIn, Body()]) -> Response[Any]:
    outcome = services().bank_reconciliation.run(caller(router), body.start, body.end)
    return json_response(
        200,
        RunOut(
            start=outcome.start,
            end=outcome.end,
            created=outcome.created,
            kept=outcome.kept,
            withdrawn=outcome.withdrawn,
            totals=_totals(outcome.report),
        ),
    )


@routes.get(
    "/banking/reconciliation/matches",
    summary="The shop's reconciliation matches (500, newest statement date first), by status and the "
    "statement line's date",
    responses=doc(200, MatchList, 401, 403),
)
def list_matches(
    status: Annotated[MatchStatus | None, Query()] = None, start: From = None, end: To = None
) -> Response[Any]:
    rows = services().bank_reconciliation.matches(caller(router), status, start, end)
    return json_response(200, MatchList(items=[_match(m) for m in rows]))


@routes.get(
    "/banking/reconciliation/matches/<match_id>",
    summary="One reconciliation match with its lines and items",
    responses=doc(200, MatchOut, 401, 403, 404),
)
def get_match(match_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, _match(services().bank_reconciliation.get(caller(router), match_id)))


@routes.post(
    "/banking/reconciliation/matches/<match_id>/confirm",
    summary="Confirm a suggestion: from then on it never changes (confirming it again answers it "
    "unchanged; a rejected or withdrawn one, or one whose lines another confirmed match holds, is 409)",
    responses=doc(200, MatchOut, 401, 403, 404, 409),
)
def confirm(match_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, _match(services().bank_reconciliation.confirm(caller(router), match_id)))


@routes.post(
    "/banking/reconciliation/matches/<match_id>/reject",
    summary="Reject a suggestion: the matcher does not make it again (a confirmed match is 409)",
    responses=doc(200, MatchOut, 401, 403, 404, 409),
)
def reject(match_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, _match(services().bank_reconciliation.reject(caller(router), match_id)))


@routes.post(
    "/banking/reconciliation/matches",
    summary="Match by hand, confirmed at once: a statement credit to retorno settlements and/or Asaas "
    "charges (and the tariff debits); the money must add up to the difference declared, else 422 with "
    "the figures and nothing is written",
    responses=doc(201, MatchOut, 401, 403, 404, 409, 413),
)
def manual_match(body: Annotated[ManualMatchIn, Body()]) -> Response[Any]:
    match = services().bank_reconciliation.manual(
        caller(router),
        statement_line_id=body.statement_line_id,
        bank_file_line_ids=body.bank_file_line_ids,
        charge_ids=body.charge_ids,
        fee_line_ids=body.fee_line_ids,
        difference_cents=body.difference_cents,
    )
    return created(_match(match))


@routes.get(
    "/banking/reconciliation/unmatched",
    summary="The period's statement credits and tariffs, settlements and Asaas credits that no confirmed "
    "match holds, each with its suggestions",
    responses=doc(200, UnmatchedOut, 401, 403),
)
def unmatched(start: From = None, end: To = None) -> Response[Any]:
    found = services().bank_reconciliation.unmatched(caller(router), start, end)
    return json_response(
        200,
        UnmatchedOut(
            start=found.start,
            end=found.end,
            statement_lines=[
                OpenLineOut(
                    id=o.line.id,
                    posted_on=o.line.posted_on,
                    amount_cents=o.line.amount_cents,
                    description=o.line.description,
                    reference=o.line.reference,
                    kind=o.kind,  # type: ignore[arg-type]  # debits are not listed
                    suggestions=[_candidate(c) for c in o.suggestions],
                )
                for o in found.lines
            ],
            expected=[
                OpenItemOut(
                    source=o.source,  # type: ignore[arg-type]
                    id=o.id,
                    amount_cents=o.amount_cents,
                    fee_cents=o.fee_cents,
                    credit_on=o.credit_on,
                    reference=o.reference,
                    suggestions=[_candidate(c) for c in o.suggestions],
                )
                for o in found.items
            ],
        ),
    )


@routes.get(
    "/banking/reconciliation/report",
    summary="The period's reconciliation for the accountant: matched, expected without a statement line, "
    "statement credits without a receipt, tariffs, differences, totals in centavos and the automatic "
    "match rate (the same as a file: report.csv, report.pdf)",
    responses=doc(200, ReportOut, 401, 403),
)
def report(start: From = None, end: To = None) -> Response[Any]:
    period = services().bank_reconciliation.report(caller(router), start, end)
    sections: dict[Section, list[ReportRowOut]] = {section: [] for section in Section}
    for row in period.rows:
        sections[row.section].append(ReportRowOut.model_validate(row))
    return json_response(
        200,
        ReportOut(
            start=period.report.start,
            end=period.report.end,
            totals=_totals(period.report),
            matched=sections[Section.MATCHED],
            expected_pending=sections[Section.EXPECTED_PENDING],
            statement_pending=sections[Section.STATEMENT_PENDING],
            fee_pending=sections[Section.FEE_PENDING],
        ),
    )


def _file(start: date | None, end: date | None, fmt: str) -> Response[Any]:
    link = services().bank_reconciliation.report_file(caller(router), start, end, fmt)
    return json_response(
        200,
        ReportFileOut(
            url=link.url,
            filename=link.filename,
            content_type=link.content_type,  # type: ignore[arg-type]
            expires_at=link.expires_at,
        ),
    )


@routes.get(
    "/banking/reconciliation/report.csv",
    summary="The period's reconciliation as CSV for a pt-BR spreadsheet (';', dd/mm/aaaa, 1.234,56; "
    "UTF-8 with BOM): a download link valid 5 minutes",
    responses=doc(200, ReportFileOut, 401, 403),
)
def report_csv(start: From = None, end: To = None) -> Response[Any]:
    return _file(start, end, "csv")


@routes.get(
    "/banking/reconciliation/report.pdf",
    summary="The period's reconciliation as PDF (A4 landscape): a download link valid 5 minutes",
    responses=doc(200, ReportFileOut, 401, 403),
)
def report_pdf(start: From = None, end: To = None) -> Response[Any]:
    return _file(start, end, "pdf")
