"""A month of a shop, generated: ~230 boletos settled through its bank (daily batch credits, tariffs
debited apart, some credits a day late, two days split by wallet), ~75 Asaas transfers, customers' own
Pix, the shop's payments and the bank's package fee, and a few planted outliers a machine must not
guess. Every automatic match must be right; the automatic match rate must reach the 98% target."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from assistec.domain.banking.reconcile import (
    ExpectedCredit,
    ExpectedSource,
    add_business_days,
    build_report,
    is_business_day,
    reconcile,
)
from assistec.domain.banking.statements import LineKind, StatementLine

MONTH = (date(2026, 11, 1), date(2026, 11, 30))
TARIFF = 290  # R$ 2,90 per settled boleto
ROUND_PRICES = [8_000, 12_000, 15_000, 18_000, 20_000, 25_000, 35_000, 45_000, 60_000, 89_000, 120_000]


@dataclass
class Month:
    expected: list[ExpectedCredit] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)
    truth: dict[str, set[str]] = field(default_factory=dict)  # credit line -> the items it carries
    fee_truth: dict[str, set[str]] = field(default_factory=dict)  # tariff debit -> the items it charges
    outliers: dict[str, str] = field(default_factory=dict)  # item -> why a machine must not match it

    def line(self, line_id: str, on: date, cents: int, text: str, kind: LineKind) -> None:
        self.lines.append(StatementLine(line_id, on, cents, text, kind))


def _business_days(start: date, end: date) -> list[date]:
    return [
        start + timedelta(days=n)
        for n in range((end - start).days + 1)
        if is_business_day(start + timedelta(days=n))
    ]


def _price(rng: random.Random) -> int:
    price = rng.choice(ROUND_PRICES) if rng.random() < 0.5 else rng.randrange(5_000, 250_000)
    if rng.random() < 0.15:  # paid late: fine (2%) and interest added by the bank
        price += price // 50 + rng.randrange(1, 400)
    return price


def generate(seed: int = 202611) -> Month:
    rng = random.Random(seed)
    month = Month()
    days = _business_days(date(2026, 10, 30), MONTH[1])
    credit_days = [d for d in days if MONTH[0] <= d <= date(2026, 11, 27)]

    # --- boletos: settled on a business day, credited on the credit date the retorno reports; the
    # bank credits each wallet's settlements of a credit date in one line and debits their tariffs
    by_batch: dict[tuple[date, str], list[ExpectedCredit]] = defaultdict(list)
    for n in range(230):
        on = rng.choice(credit_days)
        wallet = "341/109" if rng.random() < 0.8 else "341/112"
        reference = f"{10_000_000 + n * 7:011d}"
        item = ExpectedCredit(
            f"bol-{n:03d}", ExpectedSource.BOLETO, _price(rng), on, reference, TARIFF, wallet
        )
        month.expected.append(item)
        by_batch[(on, wallet)].append(item)

    batches = sorted(by_batch)
    late = set(rng.sample(batches, 3))  # credited a business day after the retorno's credit date
    big = [b for b in batches if len(by_batch[b]) >= 4 and b not in late]
    cut_off, cheque = rng.sample(big, 2)
    for (day, wallet), items in sorted(by_batch.items()):
        posted = add_business_days(day, 1) if (day, wallet) in late else day
        groups = [items]
        if (day, wallet) == cut_off:  # the bank's cut-off split the day's credit in two lines
            groups = [items[: len(items) // 2], items[len(items) // 2 :]]
        if (day, wallet) == cheque:  # paid by cheque: credited alone two business days later
            groups = [items[1:], items[:1]]
        tag = f"{day:%m%d}-{wallet[-3:]}"
        for k, group in enumerate(groups):
            line_id = f"cob-{tag}-{k}"
            when = add_business_days(posted, 2) if (day, wallet) == cheque and k == 1 else posted
            total = sum(i.amount_cents for i in group)
            month.line(line_id, when, total, "COBRANCA CRED LIQUIDACAO", LineKind.CREDIT)
            month.truth[line_id] = {i.expected_id for i in group}
        fee_id = f"tar-{tag}"
        month.line(fee_id, posted, -TARIFF * len(items), "TAR COBRANCA LIQUIDACAO", LineKind.FEE)
        month.fee_truth[fee_id] = {i.expected_id for i in items}

    # --- Asaas transfers: TED or Pix to the account, the same or the next business day ------------
    for n in range(73):
        on = rng.choice(credit_days)
        cents = rng.randrange(5_000, 500_000)
        item = ExpectedCredit(
            f"asa-{n:03d}", ExpectedSource.ASAAS, cents, on, f"tra_{rng.getrandbits(48):012x}"
        )
        month.expected.append(item)
        text = "TED RECEBIDA ASAAS GESTAO FINANCEIRA S A"
        if rng.random() < 0.3:
            text += f" {item.reference}"
        line_id = f"ted-{n:03d}"
        month.line(line_id, add_business_days(on, rng.choice([0, 0, 1])), cents, text, LineKind.CREDIT)
        month.truth[line_id] = {item.expected_id}

    # --- outliers -------------------------------------------------------------------------------
    # An Asaas transfer the bank returned (never credited)
    returned = ExpectedCredit(
        "asa-returned", ExpectedSource.ASAAS, 98_765, date(2026, 11, 16), "tra_00000000beef"
    )
    month.expected.append(returned)
    month.outliers[returned.expected_id] = "transfer returned by the bank, never credited"
    # Asaas: the bank credited one centavo less (a person decides)
    off = ExpectedCredit("asa-off", ExpectedSource.ASAAS, 123_457, date(2026, 11, 10), "tra_0000000000ff")
    month.expected.append(off)
    month.line(
        "ted-off", date(2026, 11, 10), 123_456, "TED RECEBIDA ASAAS GESTAO FINANCEIRA S A", LineKind.CREDIT
    )
    month.outliers[off.expected_id] = "one centavo short"
    # Two Asaas transfers of the same amount on the same day, no id in the bank's text
    for suffix in ("a", "b"):
        twin = ExpectedCredit(f"asa-twin-{suffix}", ExpectedSource.ASAAS, 250_000, date(2026, 11, 18), "")
        month.expected.append(twin)
        month.line(
            f"ted-twin-{suffix}", date(2026, 11, 18), 250_000, "PIX RECEBIDO ASAAS IP SA", LineKind.CREDIT
        )
        month.truth[f"ted-twin-{suffix}"] = {twin.expected_id}
        month.outliers[twin.expected_id] = "twin amount, nothing tells them apart"
    # A boleto alone on its credit date, and a customer's own Pix of the same amount that day
    lone_day = date(2026, 11, 30)
    lone = ExpectedCredit(
        "bol-lone", ExpectedSource.BOLETO, 35_000, lone_day, "00099999999", TARIFF, "341/109"
    )
    month.expected.append(lone)
    month.line("cob-lone", lone_day, 35_000, "COBRANCA CRED LIQUIDACAO", LineKind.CREDIT)
    month.truth["cob-lone"] = {lone.expected_id}
    month.line("tar-lone", lone_day, -TARIFF, "TAR COBRANCA LIQUIDACAO", LineKind.FEE)
    month.fee_truth["tar-lone"] = {lone.expected_id}
    month.line("pix-lone", lone_day, 35_000, "PIX RECEBIDO MARIA DAS GRACAS", LineKind.CREDIT)

    # --- what else moves on a shop's account ------------------------------------------------------
    for n in range(40):
        cents = rng.choice(ROUND_PRICES) if rng.random() < 0.4 else rng.randrange(2_000, 90_000)
        month.line(f"pix-{n:03d}", rng.choice(credit_days), cents, "PIX RECEBIDO CLIENTE", LineKind.CREDIT)
    for n in range(60):
        month.line(
            f"pag-{n:03d}",
            rng.choice(days),
            -rng.randrange(1_000, 300_000),
            "PAGTO FORNECEDOR",
            LineKind.DEBIT,
        )
    month.line("cesta", date(2026, 11, 5), -8_990, "CESTA DE SERVICOS PJ", LineKind.FEE)
    month.line("aluguel", date(2026, 11, 10), -320_000, "ALUGUEL LOJA", LineKind.DEBIT)
    return month


# Three months: the first generated, and the worst of seeds 1-30 when this was written (seed 22: a
# cheque credited alone the same day and amount as another wallet's only settlement, left for a person)
@pytest.mark.parametrize("seed", [202611, 22, 7])
def test_a_month_of_a_shop_reaches_the_target_and_every_automatic_match_is_right(seed):
    # Given a generated month
    month = generate(seed)
    expected_by_id = {i.expected_id: i for i in month.expected}
    # When reconciled
    result = reconcile(month.expected, month.lines)
    report = build_report(result, *MONTH)

    # Then every automatic match is exactly what the bank did: the items its line carries, and the
    # tariff debits that charge them
    # (up to settlements nothing tells apart, which the match names as its alternatives)
    def same(named: set[str], truth: set[str], alternatives: tuple[str, ...]) -> bool:
        if named == truth:
            return True
        swapped = named ^ truth
        signature = sorted((expected_by_id[i].credit_on, expected_by_id[i].amount_cents) for i in named)
        truth_signature = sorted((expected_by_id[i].credit_on, expected_by_id[i].amount_cents) for i in truth)
        return swapped <= named | set(alternatives) and signature == truth_signature

    wrong = []
    for match in result.matches:
        truth = set().union(*(month.truth.get(line_id, set()) for line_id in match.line_ids))
        if not same(set(match.expected_ids), truth, match.alternatives):
            wrong.append((match.expected_ids, match.line_ids, truth))
        for fee_id in match.fee_line_ids:
            if not same(set(match.expected_ids), month.fee_truth[fee_id], match.alternatives):
                wrong.append((match.expected_ids, fee_id, month.fee_truth[fee_id]))
    assert wrong == []
    # And no planted outlier was guessed; each has a suggestion for a person
    # (or, for a settlement with an indistinguishable twin, the twin stands in for it)
    unmatched = {i.expected_id for i in result.unmatched_expected}
    stand_ins = {i: m.alternatives for m in result.matches for i in m.expected_ids if m.alternatives}
    for outlier in month.outliers:
        assert outlier in unmatched or set(stand_ins.get(outlier, ())) & unmatched, outlier
    credited = {i for group in month.truth.values() for i in group} | {"asa-off"}
    assert all(result.suggestions_for_expected.get(i) for i in unmatched & credited)
    assert result.suggestions_for_expected["asa-off"][0].line_ids == ("ted-off",)
    # And the settlement alone on its day goes to the cobrança credit, not to a customer's Pix of the
    # same amount the same day
    assert any(m.expected_ids == ("bol-lone",) and m.line_ids == ("cob-lone",) for m in result.matches)
    # And the money adds up: a match differs only by its tariff when the debit that charges it also
    # charges a settlement a person still has to place (the debit stays unmatched, for that person)
    loose = {line.line_id for line in result.unmatched_lines}
    for match in result.matches:
        if match.difference_cents:
            assert (match.difference_cents, match.fee_line_ids) == (match.fees_cents, ())
            charging = {f for f, items in month.fee_truth.items() if items & set(match.expected_ids)}
            assert charging <= loose
            assert any(month.fee_truth[f] & unmatched for f in charging)
    assert report.differences_cents == sum(m.difference_cents for m in result.matches)
    assert report.expected_count == len(month.expected) > 300
    print(
        f"\nmonth (seed {seed}): {report.expected_count} expected credits ({len(expected_by_id)} items, "
        f"{sum(1 for line in month.lines if line.amount_cents > 0)} credit lines of {len(month.lines)}), "
        f"{report.auto_matched_count} matched automatically, "
        f"{report.unmatched_expected_count} left for a person "
        f"({', '.join(sorted(unmatched))}); automatic match rate {report.auto_match_rate_bp / 100:.2f}%"
    )
    assert report.auto_match_rate_bp >= 9_800


def test_the_month_reconciles_the_same_in_any_order():
    month = generate(7)
    first = reconcile(month.expected, month.lines)
    rng = random.Random(1)
    expected, lines = month.expected[:], month.lines[:]
    rng.shuffle(expected)
    rng.shuffle(lines)
    assert reconcile(expected, lines).matches == first.matches
