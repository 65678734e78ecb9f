"""Reconciliation: the credits we expect (boleto settlements from CNAB retornos, Asaas transfers)
matched against the bank statement's lines. Pure, deterministic, no I/O.

How a match is made, strongest first (each pass works only on what the previous ones left):

1. Confirmed matches (a person's) are taken as they are: their items and lines leave the pools, and
   the result carries them unchanged, first.
2. Reference: the nosso número or the Asaas transfer id appears in the line (description, document
   or FITID) and the amounts agree (the net amount, or the gross with the tariff debited apart).
3. A day's batch: all settlements of one credit date and batch key (agreement/wallet) in one
   cobrança credit; then the same day credited in two or three lines whose sum is the day's.
4. A subset: the only group of one credit date's settlements (else of the window's) summing to the
   line, found by a bounded depth-first search (a step budget and a cap on candidates; a search cut
   short is never taken as proof). Groups that differ only by settlements nothing tells apart (same
   date, amount, tariff) are one answer for the books: the lowest ids are named and the others
   listed as the match's ``alternatives`` for a person to swap.
5. One to one by amount and date: mutual single candidates first; then a pair one of whose sides
   has no other candidate and whose other side's alternatives are all further away in business
   days. Equal amounts at equal distance with no reference (twins) stay for a person.

A line is considered only for what its text says it can be (``line_family``): a customer's Pix is
not a boleto settlement, a cobrança credit is not an Asaas transfer; a line with no telling text can
be either. Plain debits are not reconciliation's business; tariff debits (kind FEE) are accounted to
the settlements whose tariff they are (the first of equal ones on the day: indistinguishable).

The window is in business days (national holidays and the widely observed pontos facultativos, which
the compensation system also skips): a credit may show up ``days_before`` business days before and
``days_after`` after the credit date the retorno or Asaas reported.

Every decision depends on the items' content, never on the order they came in (inputs are put in a
canonical order first): shuffling the input gives the same matches. A statement line is used by one
match at most, and a match's money always adds up (``difference_cents`` is 0 for every automatic
match except a gross credit whose tariff debit has not shown up: the difference is then the tariff).
What is left gets ``suggestions`` (top candidates, scored) for a person.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from assistec.domain.banking.statements import LineKind, StatementLine
from assistec.domain.holidays import is_holiday


class ExpectedSource(StrEnum):
    BOLETO = "boleto"  # a CNAB settlement: amount paid, the bank's tariff, the credit date
    ASAAS = "asaas"  # an Asaas transfer/credit to the shop's account: its net amount


@dataclass(frozen=True, slots=True)
class ExpectedCredit:
    """Money we expect on the account. ``amount_cents`` is what the payer paid (boleto) or the net
    transfer (Asaas); ``fee_cents`` the bank's tariff the retorno reported (0 when none or unknown):
    the bank credits ``net_cents`` (tariff kept back) or the gross and debits the tariff apart."""

    expected_id: str
    source: ExpectedSource
    amount_cents: int
    credit_on: date
    reference: str = ""  # nosso número (boleto) or the Asaas transfer id
    fee_cents: int = 0
    # What the bank credits together (boleto: the agreement and wallet, e.g. "341/109"): a daily
    # cobrança credit carries one key's settlements of one credit date. "" when unknown.
    batch_key: str = ""

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.fee_cents


@dataclass(frozen=True, slots=True)
class ConfirmedMatch:
    """A person's decision: these items are these lines (and these fee debits). Never changed."""

    expected_ids: tuple[str, ...]
    line_ids: tuple[str, ...]
    fee_line_ids: tuple[str, ...] = ()


class MatchReason(StrEnum):
    CONFIRMED = "confirmed"
    REFERENCE = "reference"
    AMOUNT_DATE = "amount_date"
    BATCH_DAY = "batch_day"
    BATCH_SUBSET = "batch_subset"
    BATCH_SPLIT = "batch_split"


REASONS_PT = {
    MatchReason.CONFIRMED: "Confirmado por uma pessoa.",
    MatchReason.REFERENCE: "A referência (nosso número ou id da transferência) aparece no lançamento e o "
    "valor confere.",
    MatchReason.AMOUNT_DATE: "Único lançamento com este valor na janela de datas.",
    MatchReason.BATCH_DAY: "Crédito único de todas as liquidações da data de crédito.",
    MatchReason.BATCH_SUBSET: "Único conjunto de liquidações da janela cuja soma é o valor do crédito.",
    MatchReason.BATCH_SPLIT: "As liquidações da data de crédito foram creditadas em mais de um lançamento, "
    "cuja soma confere.",
}


@dataclass(frozen=True, slots=True)
class Match:
    expected_ids: tuple[str, ...]
    line_ids: tuple[str, ...]  # the credit line(s)
    fee_line_ids: tuple[str, ...]  # tariff debits accounted to these settlements
    reason: MatchReason
    confidence: int  # 0-100
    expected_cents: int  # sum of the items' amounts (gross)
    fees_cents: int  # sum of the items' declared tariffs
    line_cents: int  # sum of the credit lines
    fee_lines_cents: int  # sum of the tariff debits, as a positive number
    confirmed: bool = False
    # Unmatched items that could stand in for same-date, same-amount items of this match (a person
    # may swap them; the books read the same either way)
    alternatives: tuple[str, ...] = ()

    @property
    def difference_cents(self) -> int:
        """What reached the account minus what was expected to (0: the money adds up)."""
        return (self.line_cents - self.fee_lines_cents) - (self.expected_cents - self.fees_cents)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate for a person: these items might be these lines. ``score`` 0-100."""

    expected_ids: tuple[str, ...]
    line_ids: tuple[str, ...]
    score: int
    reason: str  # "same_amount", "reference", "near_amount", "subset_sum", "swap"
    difference_cents: int  # lines minus the items' net


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    days_before: int = 1
    days_after: int = 2
    reference_days_after: int = 5  # a reference is strong evidence: a longer lag is accepted
    min_reference_length: int = 6
    max_subset_candidates: int = 40
    max_subset_steps: int = 200_000
    max_subset_solutions: int = 8  # past this many, the subsets are not all known: a person decides
    suggestions_per_item: int = 3
    optional_holidays: bool = True


@dataclass(frozen=True)
class Reconciliation:
    matches: tuple[Match, ...]  # confirmed first (as given), then automatic, in canonical order
    unmatched_expected: tuple[ExpectedCredit, ...]
    unmatched_lines: tuple[StatementLine, ...]  # credits and tariff debits nothing explains
    suggestions_for_expected: Mapping[str, tuple[Suggestion, ...]]
    suggestions_for_line: Mapping[str, tuple[Suggestion, ...]]
    expected_by_id: Mapping[str, ExpectedCredit] = field(repr=False)
    lines_by_id: Mapping[str, StatementLine] = field(repr=False)

    @property
    def automatic(self) -> tuple[Match, ...]:
        return tuple(m for m in self.matches if not m.confirmed)


# --- business days --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def is_business_day(day: date, optional: bool = True) -> bool:
    return day.weekday() < 5 and is_holiday(day, optional=optional) is None


@lru_cache(maxsize=16384)
def add_business_days(day: date, count: int, *, optional: bool = True) -> date:
    """``day`` moved ``count`` business days (negative: back). Day 0 of a weekend is that day."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_business_day(day, optional):
            remaining -= 1
    return day


@lru_cache(maxsize=16384)
def business_days_between(start: date, end: date, optional: bool = True) -> int:
    """Signed count of business days from ``start`` to ``end`` (0 when the same day or only a
    weekend or holiday lies between)."""
    if end < start:
        return -business_days_between(end, start, optional)
    return sum(is_business_day(start + timedelta(days=n), optional) for n in range(1, (end - start).days + 1))


# --- references -----------------------------------------------------------------------------------

_ALNUM = re.compile(r"[A-Za-z0-9]+")


@lru_cache(maxsize=65536)
def _haystack(line: StatementLine) -> tuple[frozenset[str], str]:
    """The line's numeric tokens (leading zeros dropped) and its text squeezed to upper alnum."""
    text = " ".join(p for p in (line.description, line.document or "", line.fit_id or "") if p)
    tokens = _ALNUM.findall(text)
    digits = frozenset(t.lstrip("0") or "0" for t in tokens if t.isdigit())
    return digits, "".join(tokens).upper()


def reference_in(reference: str, line: StatementLine, *, min_length: int = 6) -> bool:
    """Whether ``reference`` (a nosso número or a transfer id) appears in the line. Numbers compare
    without leading zeros, and with or without a trailing check digit; other ids compare squeezed to
    their letters and digits. References shorter than ``min_length`` never match (too common)."""
    compact = "".join(_ALNUM.findall(reference)).upper()
    if compact.isdigit():
        compact = compact.lstrip("0")
    if len(compact) < min_length:
        return False
    digits, squeezed = _haystack(line)
    if compact.isdigit():
        return any(t == compact or (len(t) == len(compact) + 1 and t.startswith(compact)) for t in digits)
    return compact in squeezed


# --- what a line looks like -----------------------------------------------------------------------

_ASAAS_TEXT = re.compile(r"asaas", re.I)
_COBRANCA_TEXT = re.compile(r"cobr|liquid|boleto|titulo|bloqueto|\bcob\b", re.I)
_TRANSFER_TEXT = re.compile(r"\bpix\b|\bted\b|\bdoc\b|transf", re.I)


def line_family(line: StatementLine) -> str:
    """What the bank's text says the credit is: ``asaas`` (names Asaas), ``cobranca`` (a boleto
    settlement credit), ``transfer`` (someone else's Pix/TED/DOC) or ``unknown`` (no telling, e.g.
    an empty memo). A person reconciling reads it the same way: a customer's Pix is neither a boleto
    settlement nor an Asaas transfer, a cobrança credit is not an Asaas transfer."""
    text = line.description
    if _ASAAS_TEXT.search(text):
        return "asaas"
    if _COBRANCA_TEXT.search(text):
        return "cobranca"
    if _TRANSFER_TEXT.search(text):
        return "transfer"
    return "unknown"


_FAMILIES = {
    ExpectedSource.BOLETO: frozenset({"cobranca", "unknown"}),
    # Banks print the payer's name on a Pix or TED credit (and Asaas's starts with ASAAS): one that
    # names someone else is a customer paying directly, not an Asaas transfer
    ExpectedSource.ASAAS: frozenset({"asaas", "unknown"}),
}


def family_rank(item: ExpectedCredit, line: StatementLine) -> int:
    """0 when the line's text names the item's kind (ASAAS for a transfer, cobrança for a boleto),
    1 when the text does not tell (it could be), 2 when incompatible."""
    family = line_family(line)
    if family not in _FAMILIES[item.source]:
        return 2
    return 0 if family == ("asaas" if item.source is ExpectedSource.ASAAS else "cobranca") else 1


def compatible(item: ExpectedCredit, line: StatementLine) -> bool:
    """Whether the line may carry this kind of credit (automatic passes only; a person may pair
    anything, and suggestions still show incompatible candidates, scored lower)."""
    return line_family(line) in _FAMILIES[item.source]


# --- the matcher ----------------------------------------------------------------------------------


@dataclass
class _State:
    policy: MatchPolicy
    expected: dict[str, ExpectedCredit]
    lines: dict[str, StatementLine]
    free_expected: set[str]
    free_lines: set[str]
    matches: list[Match] = field(default_factory=list)
    ambiguous: list[Suggestion] = field(default_factory=list)

    def window(self, item: ExpectedCredit, after: int | None = None) -> tuple[date, date]:
        opt = self.policy.optional_holidays
        days_after = self.policy.days_after if after is None else after
        return (
            add_business_days(item.credit_on, -self.policy.days_before, optional=opt),
            add_business_days(item.credit_on, days_after, optional=opt),
        )

    def in_window(self, item: ExpectedCredit, line: StatementLine, after: int | None = None) -> bool:
        low, high = self.window(item, after)
        return low <= line.posted_on <= high

    def lag(self, item: ExpectedCredit, line: StatementLine) -> int:
        return business_days_between(item.credit_on, line.posted_on, self.policy.optional_holidays)

    def free_credit_lines(self) -> list[StatementLine]:
        return sorted(
            (self.lines[i] for i in self.free_lines if self.lines[i].amount_cents > 0), key=_line_order
        )

    def free_items(self) -> list[ExpectedCredit]:
        return sorted((self.expected[i] for i in self.free_expected), key=_expected_order)

    def fee_lines_for(self, credit: StatementLine, fees_cents: int) -> tuple[StatementLine, ...] | None:
        """The tariff debits (kind FEE) that add up to ``fees_cents``: on the credit's day first,
        else on the next business day; one line (the first of equal ones), or the only subset of
        that day's. None when not found or not unique."""
        if fees_cents <= 0:
            return ()
        next_day = add_business_days(credit.posted_on, 1, optional=self.policy.optional_holidays)
        for day in (credit.posted_on, next_day):
            candidates = sorted(
                (
                    line
                    for i in self.free_lines
                    if (line := self.lines[i]).kind is LineKind.FEE and line.posted_on == day
                ),
                key=_line_order,
            )
            singles = [line for line in candidates if -line.amount_cents == fees_cents]
            if singles:
                # equal tariffs on one day are indistinguishable: the books read the same whichever
                return (singles[0],)
            found, complete = _subsets(
                [-line.amount_cents for line in candidates], fees_cents, 2, self.policy.max_subset_steps
            )
            if len(found) > 1 or (found and not complete):
                return None
            if found:
                return tuple(candidates[i] for i in found[0])
        return None

    def take(
        self,
        items: Sequence[ExpectedCredit],
        credit: StatementLine | Sequence[StatementLine],
        reason: MatchReason,
        confidence: int,
        alternatives: tuple[str, ...] = (),
    ) -> bool:
        """Record the match when its money adds up (net, or gross with the tariff debits found);
        a gross match whose tariff debit is missing is recorded with the difference shown."""
        credits = sorted([credit] if isinstance(credit, StatementLine) else credit, key=_line_order)
        amount = sum(line.amount_cents for line in credits)
        gross = sum(i.amount_cents for i in items)
        fees = sum(i.fee_cents for i in items)
        fee_lines: tuple[StatementLine, ...] = ()
        if amount == gross - fees:
            pass
        elif amount == gross and fees:
            fee_lines = self.fee_lines_for(credits[0], fees) or ()
            if not fee_lines:
                confidence -= 10
        else:
            return False
        self.matches.append(
            Match(
                expected_ids=tuple(i.expected_id for i in items),
                line_ids=tuple(line.line_id for line in credits),
                fee_line_ids=tuple(f.line_id for f in fee_lines),
                reason=reason,
                confidence=max(0, min(100, confidence)),
                expected_cents=gross,
                fees_cents=fees,
                line_cents=amount,
                fee_lines_cents=-sum(f.amount_cents for f in fee_lines),
                alternatives=alternatives,
            )
        )
        self.free_expected.difference_update(i.expected_id for i in items)
        self.free_lines.difference_update(line.line_id for line in credits)
        self.free_lines.difference_update(f.line_id for f in fee_lines)
        return True


def _line_order(line: StatementLine) -> tuple[date, int, str]:
    return (line.posted_on, line.amount_cents, line.line_id)


def _expected_order(item: ExpectedCredit) -> tuple[date, int, str]:
    return (item.credit_on, item.amount_cents, item.expected_id)


def _fits(item: ExpectedCredit, line: StatementLine) -> bool:
    return line.amount_cents in (item.net_cents, item.amount_cents)


def _subsets(
    amounts: Sequence[int], target: int, limit: int, budget: int
) -> tuple[list[tuple[int, ...]], bool]:
    """Up to ``limit`` index sets of ``amounts`` (all positive) summing to ``target``, by a depth-first
    search with sum pruning; and whether they are all there are (the search ran to its end: neither
    the ``limit`` nor the step ``budget`` cut it)."""
    order = sorted(range(len(amounts)), key=lambda i: (-amounts[i], i))
    values = [amounts[i] for i in order]
    suffix = [0] * (len(values) + 1)
    for k in range(len(values) - 1, -1, -1):
        suffix[k] = suffix[k + 1] + values[k]
    found: list[tuple[int, ...]] = []
    steps = 0
    chosen: list[int] = []

    def walk(k: int, remaining: int) -> bool:  # False: stop (limit reached or budget spent)
        nonlocal steps
        steps += 1
        if steps > budget:
            return False
        if remaining == 0:
            found.append(tuple(sorted(order[c] for c in chosen)))
            return len(found) < limit
        if k == len(values) or suffix[k] < remaining:
            return True
        if values[k] <= remaining:
            chosen.append(k)
            going = walk(k + 1, remaining - values[k])
            chosen.pop()
            if not going:
                return False
        return walk(k + 1, remaining)

    finished = walk(0, target) if target > 0 and all(a > 0 for a in amounts) else True
    return found, finished and steps <= budget


def _reference_pass(state: _State) -> None:
    min_len = state.policy.min_reference_length
    credits = state.free_credit_lines()
    hits: dict[str, list[StatementLine]] = {}
    for item in state.free_items():
        if not item.reference:
            continue
        lines = [
            line
            for line in credits
            if state.in_window(item, line, state.policy.reference_days_after)
            and reference_in(item.reference, line, min_length=min_len)
        ]
        if len(lines) > 1:
            lines = [line for line in lines if _fits(item, line)]
        if len(lines) == 1:
            hits[item.expected_id] = lines
    by_line: dict[str, list[ExpectedCredit]] = defaultdict(list)
    for expected_id, lines in hits.items():
        by_line[lines[0].line_id].append(state.expected[expected_id])
    for line in credits:
        items = sorted(by_line.get(line.line_id, []), key=_expected_order)
        if not items or state.take(items, line, MatchReason.REFERENCE, 99):
            continue
        # Several references in one line that do not add up: the one whose amount is the line's
        fitting = [item for item in items if _fits(item, line)]
        if len(fitting) == 1:
            state.take(fitting, line, MatchReason.REFERENCE, 97)
        # else the reference is there but the money is not: a person looks (a suggestion)


def _one_to_one_pass(state: _State) -> None:
    """Pairs of one item and one line of its amount, in its window: first the pairs where each is
    the other's only candidate; when none is left, the pairs where one side has no other candidate
    and the other side's alternatives are all further in business days (the credit on the very
    date the retorno says beats one two days off). Equal candidates at equal distance stay for a
    person."""
    while True:
        credits = state.free_credit_lines()
        by_amount: dict[int, list[ExpectedCredit]] = defaultdict(list)
        for item in state.free_items():
            by_amount[item.net_cents].append(item)
            if item.fee_cents:
                by_amount[item.amount_cents].append(item)
        pairs = [
            (item, line)
            for line in credits
            for item in by_amount.get(line.amount_cents, [])
            if state.in_window(item, line) and compatible(item, line)
        ]
        # A line whose text names the item's kind (ASAAS, COBRANÇA) beats one that could be anything
        best = {item.expected_id: 9 for item, _ in pairs}
        for item, line in pairs:
            best[item.expected_id] = min(best[item.expected_id], family_rank(item, line))
        pairs = [(item, line) for item, line in pairs if family_rank(item, line) == best[item.expected_id]]
        line_candidates: dict[str, list[ExpectedCredit]] = {line.line_id: [] for line in credits}
        item_candidates: dict[str, list[StatementLine]] = defaultdict(list)
        for item, line in pairs:
            line_candidates[line.line_id].append(item)
            item_candidates[item.expected_id].append(line)
        progressed = False
        for line in credits:
            candidates = line_candidates[line.line_id]
            if len(candidates) != 1 or len(item_candidates[candidates[0].expected_id]) != 1:
                continue
            item = candidates[0]
            confidence = 90 - 5 * abs(state.lag(item, line))
            progressed |= state.take([item], line, MatchReason.AMOUNT_DATE, confidence)
        if progressed:
            continue
        for line in credits:
            for item in line_candidates[line.line_id]:
                distance = abs(state.lag(item, line))
                other_items = [i for i in line_candidates[line.line_id] if i is not item]
                other_lines = [x for x in item_candidates[item.expected_id] if x is not line]
                if other_items and other_lines:
                    continue
                rivals = [abs(state.lag(i, line)) for i in other_items] + [
                    abs(state.lag(item, x)) for x in other_lines
                ]
                if all(distance < rival for rival in rivals):
                    progressed = state.take([item], line, MatchReason.AMOUNT_DATE, 80 - 5 * distance)
                    break
            if progressed:
                break
        if not progressed:
            return


def _batch_pool(state: _State, line: StatementLine) -> list[ExpectedCredit]:
    return [
        item
        for item in state.free_items()
        if item.source is ExpectedSource.BOLETO and state.in_window(item, line) and compatible(item, line)
    ]


def _day_groups(items: Iterable[ExpectedCredit]) -> dict[tuple[date, str], list[ExpectedCredit]]:
    groups: dict[tuple[date, str], list[ExpectedCredit]] = defaultdict(list)
    for item in items:
        groups[(item.credit_on, item.batch_key)].append(item)
    return groups


def _split_distance(state: _State, group: Sequence[ExpectedCredit]) -> int | None:
    """When two or three free lines in the group's window add up to its sum (net or gross), the
    farthest of them in business days: that split is a rival explanation of the day."""
    sample = group[0]
    lines = [
        line
        for line in state.free_credit_lines()
        if state.in_window(sample, line) and compatible(sample, line)
    ]
    best: int | None = None
    for total in {sum(i.net_cents for i in group), sum(i.amount_cents for i in group)}:
        found, _ = _subsets([line.amount_cents for line in lines], total, 8, state.policy.max_subset_steps)
        for indexes in found:
            if 2 <= len(indexes) <= 3:
                distance = max(abs(state.lag(sample, lines[k])) for k in indexes)
                best = distance if best is None else min(best, distance)
    return best


def _batch_day_pass(state: _State) -> None:
    """One credit for all the settlements of one credit date (and batch key): the usual daily
    cobrança credit. Like the one-to-one rule: a line and a day that are each other's only
    explanation first (a split of the day over several lines counts as another explanation); then a
    pair whose rivals (other days for the line, other lines or splits for the day) are all further
    away in business days; else the split rule or a person decides."""
    while True:
        pairs: list[tuple[StatementLine, tuple[date, str], list[ExpectedCredit]]] = []
        for line in state.free_credit_lines():
            for key, group in sorted(_day_groups(_batch_pool(state, line)).items()):
                sums = (sum(i.net_cents for i in group), sum(i.amount_cents for i in group))
                if len(group) >= 2 and line.amount_cents in sums:
                    pairs.append((line, key, group))
        days_of: dict[str, list[tuple[date, str]]] = defaultdict(list)
        lines_of: dict[tuple[date, str], list[StatementLine]] = defaultdict(list)
        splits: dict[tuple[date, str], int | None] = {}
        for line, key, group in pairs:
            days_of[line.line_id].append(key)
            lines_of[key].append(line)
            if key not in splits:
                splits[key] = _split_distance(state, group)
        progressed = False
        for line, key, group in pairs:
            alone = days_of[line.line_id] == [key] and lines_of[key] == [line] and splits[key] is None
            if alone:
                lag = abs(state.lag(group[0], line))
                progressed |= state.take(group, line, MatchReason.BATCH_DAY, 95 - 5 * lag)
        if progressed:
            continue
        for line, key, group in pairs:
            distance = abs(state.lag(group[0], line))
            rivals = [
                abs(business_days_between(day, line.posted_on, state.policy.optional_holidays))
                for day, batch in days_of[line.line_id]
                if (day, batch) != key
            ]
            rivals += [abs(state.lag(group[0], other)) for other in lines_of[key] if other is not line]
            split = splits[key]
            if split is not None:
                rivals.append(split)
            if all(distance < rival for rival in rivals):
                progressed = state.take(group, line, MatchReason.BATCH_DAY, 85 - 5 * distance)
                break
        if not progressed:
            return


def _batch_split_pass(state: _State) -> None:
    """All the settlements of one credit date (and batch key) credited in two or three lines (a
    settlement credited later on its own, wallets the retorno did not tell apart): automatic when
    exactly one set of the window's cobrança credits adds up to the day's sum. Which settlement went
    in which of those lines is not claimed: the match is the day to the lines."""
    groups = sorted(_day_groups(i for i in state.free_items() if i.source is ExpectedSource.BOLETO).items())
    for _, group in groups:
        if not set(i.expected_id for i in group) <= state.free_expected:
            continue
        sample = group[0]
        lines = [
            line
            for line in state.free_credit_lines()
            if state.in_window(sample, line) and compatible(sample, line)
        ]
        totals = {sum(i.net_cents for i in group), sum(i.amount_cents for i in group)}
        solutions: set[tuple[str, ...]] = set()
        exhaustive = True
        for total in sorted(totals):
            found, finished = _subsets(
                [line.amount_cents for line in lines], total, 2, state.policy.max_subset_steps
            )
            exhaustive &= finished
            solutions.update(
                tuple(lines[k].line_id for k in indexes) for indexes in found if 2 <= len(indexes) <= 3
            )
        if len(solutions) == 1 and exhaustive:
            chosen = [state.lines[i] for i in solutions.pop()]
            lag = max(abs(state.lag(sample, line)) for line in chosen)
            state.take(sorted(group, key=_expected_order), chosen, MatchReason.BATCH_SPLIT, 85 - 5 * lag)


def _subset_solutions(
    state: _State, line: StatementLine, pool: Sequence[ExpectedCredit]
) -> tuple[list[tuple[ExpectedCredit, ...]], bool]:
    """The groups of two or more of ``pool`` whose net (or gross) sum is the line's amount, and
    whether they are all of them."""
    ordered = sorted(pool, key=_expected_order)[: state.policy.max_subset_candidates]
    net = [i.net_cents for i in ordered]
    gross = [i.amount_cents for i in ordered]
    solutions: list[tuple[ExpectedCredit, ...]] = []
    exhaustive = len(ordered) == len(pool)
    for amounts in (net, gross) if net != gross else (net,):
        found, finished = _subsets(
            amounts, line.amount_cents, state.policy.max_subset_solutions, state.policy.max_subset_steps
        )
        exhaustive &= finished
        for indexes in found:
            group = tuple(sorted((ordered[k] for k in indexes), key=_expected_order))
            if len(group) >= 2 and group not in solutions:
                solutions.append(group)
    return solutions, exhaustive


def _signature(group: Sequence[ExpectedCredit]) -> list[tuple[str, date, int, int]]:
    return sorted((i.source.value, i.credit_on, i.amount_cents, i.fee_cents) for i in group)


def _batch_subset_pass(state: _State) -> None:
    """One credit for some of the window's settlements (a wallet's share of the day, a settlement
    the bank left for later). The bank credits per credit date, so the subsets of each credit date
    are searched first (small and complete), the whole window only when no date has one.

    Automatic when the search ran to its end and found one subset, or subsets that differ only by
    settlements nothing tells apart (same credit date, amount and tariff: the books read the same
    whichever is named; the lowest ids are named, the others listed as ``alternatives`` and left for
    a person). Never when a single settlement has the line's amount (the one-to-one rule's, or a
    person's)."""
    for line in state.free_credit_lines():
        pool = _batch_pool(state, line)
        if len(pool) < 2 or any(_fits(item, line) for item in pool):
            continue
        by_day = _day_groups(pool)
        solutions: list[tuple[ExpectedCredit, ...]] = []
        exhaustive = True
        for _, day_items in sorted(by_day.items()):
            if len(day_items) >= 2:
                found, finished = _subset_solutions(state, line, day_items)
                solutions += found
                exhaustive &= finished
        confidence = 85
        if not solutions and len(by_day) > 1:
            pool.sort(key=lambda i: (abs(state.lag(i, line)), _expected_order(i)))
            solutions, exhaustive = _subset_solutions(state, line, pool[: state.policy.max_subset_candidates])
            confidence = 75
        signatures = [_signature(group) for group in solutions]
        if solutions and exhaustive and all(sig == signatures[0] for sig in signatures):
            group = min(solutions, key=lambda g: [i.expected_id for i in g])
            others = sorted({i.expected_id for g in solutions for i in g} - {i.expected_id for i in group})
            lag = max(abs(state.lag(i, line)) for i in group)
            penalty = 15 if others else 0
            state.take(group, line, MatchReason.BATCH_SUBSET, confidence - 5 * lag - penalty, tuple(others))
            continue
        for group in solutions:
            state.ambiguous.append(
                Suggestion(
                    expected_ids=tuple(i.expected_id for i in group),
                    line_ids=(line.line_id,),
                    score=60 if exhaustive else 50,
                    reason="subset_sum",
                    difference_cents=line.amount_cents - sum(i.net_cents for i in group),
                )
            )


def _score(state: _State, item: ExpectedCredit, line: StatementLine) -> tuple[int, str]:
    difference = line.amount_cents - item.net_cents
    score, reason = 0, "near_amount"
    if _fits(item, line):
        score, reason = 50, "same_amount"
    elif item.net_cents and abs(difference) * 100 <= item.net_cents:  # within 1%
        score = 30
    if item.reference and reference_in(item.reference, line, min_length=state.policy.min_reference_length):
        score, reason = score + 40, "reference"
    if not compatible(item, line):
        score -= 20
    lag = state.lag(item, line)
    if state.in_window(item, line):
        score += 10 - 2 * abs(lag)
    elif abs(lag) <= 5:
        score += 2
    else:
        score -= 30
    return max(0, min(100, score)), reason


SuggestionsById = dict[str, tuple[Suggestion, ...]]


def _suggestions(state: _State) -> tuple[SuggestionsById, SuggestionsById]:
    per_item: dict[str, list[Suggestion]] = defaultdict(list)
    per_line: dict[str, list[Suggestion]] = defaultdict(list)
    credits = state.free_credit_lines()
    for item in state.free_items():
        for line in credits:
            score, reason = _score(state, item, line)
            if score >= 30:
                suggestion = Suggestion(
                    (item.expected_id,), (line.line_id,), score, reason, line.amount_cents - item.net_cents
                )
                per_item[item.expected_id].append(suggestion)
                per_line[line.line_id].append(suggestion)
    for match in state.matches:
        for expected_id in match.alternatives:
            if expected_id in state.free_expected:
                # "this one, not its twin in that match?": the swap keeps the books the same
                per_item[expected_id].append(Suggestion((expected_id,), match.line_ids, 50, "swap", 0))
    for suggestion in state.ambiguous:
        still_free = set(suggestion.expected_ids) <= state.free_expected
        if still_free and set(suggestion.line_ids) <= state.free_lines:
            for expected_id in suggestion.expected_ids:
                per_item[expected_id].append(suggestion)
            per_line[suggestion.line_ids[0]].append(suggestion)
    limit = state.policy.suggestions_per_item

    def best(found: list[Suggestion]) -> tuple[Suggestion, ...]:
        ranked = sorted(found, key=lambda s: (-s.score, abs(s.difference_cents), s.line_ids, s.expected_ids))
        return tuple(dict.fromkeys(ranked))[:limit]

    return (
        {key: best(found) for key, found in sorted(per_item.items())},
        {key: best(found) for key, found in sorted(per_line.items())},
    )


def _confirmed(
    confirmed: ConfirmedMatch, expected: Mapping[str, ExpectedCredit], lines: Mapping[str, StatementLine]
) -> Match:
    items = [expected[i] for i in confirmed.expected_ids if i in expected]
    return Match(
        expected_ids=confirmed.expected_ids,
        line_ids=confirmed.line_ids,
        fee_line_ids=confirmed.fee_line_ids,
        reason=MatchReason.CONFIRMED,
        confidence=100,
        expected_cents=sum(i.amount_cents for i in items),
        fees_cents=sum(i.fee_cents for i in items),
        line_cents=sum(lines[i].amount_cents for i in confirmed.line_ids if i in lines),
        fee_lines_cents=-sum(lines[i].amount_cents for i in confirmed.fee_line_ids if i in lines),
        confirmed=True,
    )


def reconcile(
    expected: Iterable[ExpectedCredit],
    lines: Iterable[StatementLine],
    confirmed: Iterable[ConfirmedMatch] = (),
    policy: MatchPolicy | None = None,
) -> Reconciliation:
    """Match ``expected`` credits against statement ``lines``, keeping ``confirmed`` matches as they
    are. Ids must be unique on each side (ValueError otherwise)."""
    policy = policy or MatchPolicy()
    expected_list, line_list = list(expected), list(lines)
    by_expected = {item.expected_id: item for item in expected_list}
    by_line = {line.line_id: line for line in line_list}
    if len(by_expected) != len(expected_list) or len(by_line) != len(line_list):
        raise ValueError("expected_id and line_id must be unique")
    if any(not 0 <= item.fee_cents < item.amount_cents for item in expected_list):
        raise ValueError("an expected credit needs a positive amount and a tariff below it")
    fixed = [_confirmed(c, by_expected, by_line) for c in confirmed]
    taken_expected = {i for m in fixed for i in m.expected_ids}
    taken_lines = {i for m in fixed for i in (*m.line_ids, *m.fee_line_ids)}
    state = _State(
        policy=policy,
        expected=by_expected,
        lines=by_line,
        free_expected=set(by_expected) - taken_expected,
        free_lines={i for i, line in by_line.items() if line.kind is not LineKind.DEBIT} - taken_lines,
    )
    _reference_pass(state)
    _batch_day_pass(state)
    _batch_split_pass(state)
    _batch_subset_pass(state)
    _one_to_one_pass(state)
    _batch_subset_pass(state)  # a single settlement taken may leave one subset behind
    _one_to_one_pass(state)
    for_expected, for_line = _suggestions(state)
    automatic = sorted(
        state.matches, key=lambda m: (min(by_expected[i].credit_on for i in m.expected_ids), m.line_ids)
    )
    return Reconciliation(
        matches=(*fixed, *automatic),
        unmatched_expected=tuple(state.free_items()),
        unmatched_lines=tuple(sorted((by_line[i] for i in state.free_lines), key=_line_order)),
        suggestions_for_expected=for_expected,
        suggestions_for_line=for_line,
        expected_by_id=by_expected,
        lines_by_id=by_line,
    )


# --- the period's report --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    start: date
    end: date
    expected_count: int
    expected_cents: int
    matched_count: int  # expected items matched (automatically or by a person)
    matched_cents: int
    auto_matched_count: int
    confirmed_count: int
    unmatched_expected_count: int
    unmatched_expected_cents: int
    unmatched_line_count: int  # credit lines nothing explains
    unmatched_line_cents: int
    fees_cents: int  # tariffs: kept back from credits, debited apart, and tariff debits unexplained
    differences_cents: int  # sum of the matches' differences (0 when every match adds up)
    auto_match_rate_bp: int  # automatic matches per expected item, in basis points (10000 = 100%)


def build_report(result: Reconciliation, start: date, end: date) -> ReconciliationReport:
    """The period's figures: items by their credit date, lines by their posting date, a match by its
    earliest item's credit date (or its first line's date when its items are unknown)."""

    def in_period(day: date) -> bool:
        return start <= day <= end

    def match_day(match: Match) -> date:
        known = result.expected_by_id
        days = [known[i].credit_on for i in match.expected_ids if i in known]
        if not days:
            days = [result.lines_by_id[i].posted_on for i in match.line_ids if i in result.lines_by_id]
        return min(days, default=start)

    expected = [i for i in result.expected_by_id.values() if in_period(i.credit_on)]
    matches = [m for m in result.matches if in_period(match_day(m))]
    matched_ids = {i for m in matches for i in m.expected_ids if i in result.expected_by_id}
    auto_ids = {i for m in matches if not m.confirmed for i in m.expected_ids}
    unmatched = [i for i in result.unmatched_expected if in_period(i.credit_on)]
    unmatched_lines = [line for line in result.unmatched_lines if in_period(line.posted_on)]
    loose_credits = [line for line in unmatched_lines if line.amount_cents > 0]
    loose_fees = [line for line in unmatched_lines if line.kind is LineKind.FEE]
    fees = sum(m.fees_cents if m.fee_lines_cents == 0 else m.fee_lines_cents for m in matches)
    fees += -sum(line.amount_cents for line in loose_fees)
    count = len(expected)
    in_scope_auto = len([i for i in expected if i.expected_id in auto_ids])
    return ReconciliationReport(
        start=start,
        end=end,
        expected_count=count,
        expected_cents=sum(i.amount_cents for i in expected),
        matched_count=len(matched_ids),
        matched_cents=sum(result.expected_by_id[i].amount_cents for i in matched_ids),
        auto_matched_count=in_scope_auto,
        confirmed_count=len([i for m in matches if m.confirmed for i in m.expected_ids]),
        unmatched_expected_count=len(unmatched),
        unmatched_expected_cents=sum(i.amount_cents for i in unmatched),
        unmatched_line_count=len(loose_credits),
        unmatched_line_cents=sum(line.amount_cents for line in loose_credits),
        fees_cents=fees,
        differences_cents=sum(m.difference_cents for m in matches),
        auto_match_rate_bp=in_scope_auto * 10_000 // count if count else 10_000,
    )
