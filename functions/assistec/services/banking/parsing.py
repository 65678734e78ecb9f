"""The seam between the file intake and the bank-file parsers.

The intake (``intake.BankFileIntake``) stores a file once per content and records what a parser
makes of it; the parsers themselves are pure (``domain/banking``: CNAB 240/400 retorno, OFX and CSV
statements). They meet here: a ``Parser`` is ``parse(kind, data) -> ParsedFile | None``, where
``None`` says "no parser for this content" and the file is kept as ``pending_parser`` (nothing is
guessed), and ``ParseRefused`` says "this is not a file we can trust" with a stable code and a pt-BR
reason (kept on the file's row, shown to the shop).

The composition root chooses the parser (``wiring``: ``readers.read_bank_file``, the CNAB and
OFX/CSV parsers adapted to ``ParsedFile``). Files stored as ``pending_parser`` before it was wired
are read again by ``BankFileIntake.reprocess_pending``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

FileKind = Literal["retorno", "statement"]
FileFormat = Literal["cnab240", "cnab400", "ofx", "csv"]
OccurrenceKind = Literal[
    "entry_confirmed", "settled", "written_off", "rejected", "fee", "due_date_changed", "other"
]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One retorno line's occurrence, values in centavos. ``idempotency_key``: the same occurrence in
    another file (the bank sends a retorno again) has the same key — e.g. bank, agreement, nosso
    número, occurrence code, date and value — and is recorded once."""

    line_number: int
    idempotency_key: str
    kind: OccurrenceKind
    occurrence_code: str | None = None
    # The boleto's sequence, when the parser knows it; else the bank's column as the file has it
    # (``nosso_numero_text``), which the intake reads with the agreement's rules
    # (``domain.banking.nosso_numero.sequence_from_retorno``: check digit, convênio prefix...).
    nosso_numero: int | None = None
    nosso_numero_text: str | None = None
    # The title's due date as the bank states it (a due-date change's new date), and the bank's
    # reason codes (motivos: why an entry was rejected...).
    due_date: date | None = None
    reasons: str | None = None
    amount_cents: int = 0
    paid_cents: int = 0
    fee_cents: int = 0
    interest_cents: int = 0
    discount_cents: int = 0
    occurred_on: date | None = None
    credited_on: date | None = None


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One statement line: signed centavos (credits positive), never zero."""

    line_number: int
    idempotency_key: str
    posted_on: date
    amount_cents: int
    description: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What a parser read in a file. A retorno names its bank and agreement code (the intake finds the
    shop's agreement by them, and refuses a file of an agreement the shop does not have)."""

    format: FileFormat
    line_count: int
    bank_code: str | None = None
    agreement_code: str | None = None
    # Where the file has no agreement code (some CNAB 400 layouts), its branch and account identify
    # the agreement. Digits without zero padding, as ``agreement_code``.
    branch: str | None = None
    account: str | None = None
    occurrences: tuple[Occurrence, ...] = field(default_factory=tuple)
    statement_lines: tuple[StatementEntry, ...] = field(default_factory=tuple)
    # Damage the parser tolerated and repaired (stable codes): audited with the file's receipt.
    defects: tuple[str, ...] = field(default_factory=tuple)


class ParseRefused(Exception):
    """The content is not a file we can trust: not CNAB, totals that do not match the trailer, another
    bank's layout... ``code`` is stable (stored on the file), ``message`` is for the shop (pt-BR)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class Parser(Protocol):
    def __call__(self, kind: FileKind, data: bytes) -> ParsedFile | None:
        """The file read, ``None`` when there is no parser for it (yet); raises ``ParseRefused``."""
        ...


def no_parser(kind: FileKind, data: bytes) -> ParsedFile | None:
    """No parser is wired: every file is stored as ``pending_parser`` for a later pass."""
    return None


NO_PARSER: Parser = no_parser
