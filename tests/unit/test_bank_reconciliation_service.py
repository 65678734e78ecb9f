"""The reconciliation's pure pieces: what Asaas says it credits for a payment, the days a parsed bank
file covers (the period the matcher runs over after it), the matcher's ids and money as the service
hands them over, and the accountant's PDF."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from assistec.db.reconciliation import AsaasCreditRow, SettlementRow
from assistec.domain.banking.reconcile import ExpectedSource, build_report, reconcile
from assistec.domain.banking.report import report_rows
from assistec.services.banking.intake import parsed_dates
from assistec.services.banking.parsing import Occurrence, ParsedFile, StatementEntry
from assistec.services.banking.reconciliation import _credit, _settlement, _split
from assistec.services.documents.reconciliation_pdf import render_reconciliation_pdf
from assistec.services.payments.state import credit_facts
from tests.unit.test_bank_reconcile_month import MONTH, generate


@pytest.mark.parametrize(
    ("payment", "facts"),
    [
        (
            {"value": 100.0, "netValue": 97.01, "creditDate": "2030-03-13"},
            {"net_cents": 9701, "credit_on": date(2030, 3, 13)},
        ),
        (
            {"netValue": 50, "estimatedCreditDate": "2030-04-15"},
            {"net_cents": 5000, "credit_on": date(2030, 4, 15)},
        ),
        (
            {"creditDate": None, "estimatedCreditDate": "2030-04-15T00:00:00"},
            {"credit_on": date(2030, 4, 15)},
        ),
        ({"netValue": "abc", "creditDate": "15/04/2030"}, {}),
        ({"netValue": -1}, {}),
        (None, {}),
    ],
)
def test_what_asaas_credits_is_read_from_its_payment_and_nonsense_is_left_out(payment, facts):
    assert credit_facts(payment) == facts


def test_a_parsed_file_covers_its_postings_and_its_settlements_credit_dates():
    statement = ParsedFile(
        format="ofx",
        line_count=3,
        statement_lines=(
            StatementEntry(1, "a", date(2030, 3, 12), 100),
            StatementEntry(2, "b", date(2030, 3, 9), -5),
        ),
    )
    assert parsed_dates(statement) == (date(2030, 3, 9), date(2030, 3, 12))
    retorno = ParsedFile(
        format="cnab400",
        line_count=4,
        occurrences=(
            Occurrence(
                1, "x", "settled", paid_cents=10, occurred_on=date(2030, 3, 1), credited_on=date(2030, 3, 4)
            ),
            Occurrence(2, "y", "settled", paid_cents=10, occurred_on=date(2030, 3, 5)),
            # an entry confirmation moves no money
            Occurrence(3, "z", "entry_confirmed", occurred_on=date(2030, 1, 1)),
        ),
    )
    assert parsed_dates(retorno) == (date(2030, 3, 4), date(2030, 3, 5))
    assert parsed_dates(ParsedFile(format="cnab400", line_count=2)) is None


def test_settlements_and_asaas_credits_reach_the_matcher_with_their_tariffs():
    line_id, agreement = uuid.uuid4(), uuid.uuid4()
    settled = _settlement(
        SettlementRow(
            line_id, uuid.uuid4(), agreement, 1234567, None, 15000, 290, date(2030, 3, 12), "applied"
        )
    )
    assert (settled.expected_id, settled.source, settled.net_cents) == (
        f"b:{line_id}",
        ExpectedSource.BOLETO,
        14710,
    )
    assert (settled.reference, settled.batch_key) == ("1234567", str(agreement))
    # A tariff as large as what was paid cannot be right: the matcher gets none (never a negative net)
    odd = _settlement(
        SettlementRow(line_id, uuid.uuid4(), None, None, None, 100, 100, date(2030, 3, 12), "applied")
    )
    assert (odd.fee_cents, odd.reference) == (0, "")
    charge = uuid.uuid4()
    credit = _credit(AsaasCreditRow(charge, uuid.uuid4(), "pay_1", 35000, 34001, date(2030, 3, 13)))
    assert (credit.expected_id, credit.amount_cents, credit.fee_cents, credit.net_cents) == (
        f"c:{charge}", 35000, 999, 34001,
    )  # fmt: skip
    # Asaas did not say its net: the paid value is what is expected
    assert _credit(AsaasCreditRow(charge, uuid.uuid4(), None, 35000, None, date(2030, 3, 13))).fee_cents == 0
    assert _split([f"b:{line_id}", f"c:{charge}"]) == ([line_id], [charge])


def test_the_accountants_pdf_of_a_month_is_a_pdf_and_the_same_month_gives_the_same_bytes():
    month = generate(7)
    result = reconcile(month.expected, month.lines)
    report = build_report(result, *MONTH)
    rows = report_rows(result, *MONTH)
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    first = render_reconciliation_pdf("Conserta Já Assistência", report, rows, generated_at=at)
    assert first.startswith(b"%PDF-")
    assert first == render_reconciliation_pdf("Conserta Já Assistência", report, rows, generated_at=at)
    # An empty period is a PDF too
    empty = build_report(reconcile([], []), *MONTH)
    assert render_reconciliation_pdf("Loja", empty, [], generated_at=at).startswith(b"%PDF-")


def test_the_match_rate_goes_out_as_a_percent_metric_with_the_suggestions_written():
    from assistec.observability import metrics
    from assistec.services.banking.reconciliation import METRIC_RATE, emit_match_rate

    metrics.clear_metrics()
    try:
        emit_match_rate(9_870, 12)
        found = metrics.metric_set
        assert (found[METRIC_RATE]["Unit"], found[METRIC_RATE]["Value"]) == ("Percent", [98.7])
        assert found["ReconciliationSuggestionsWritten"]["Value"] == [12.0]
    finally:
        metrics.clear_metrics()
