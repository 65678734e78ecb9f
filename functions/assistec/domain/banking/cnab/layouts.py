"""A bank variant as data: its records, its occurrence codes and how its trailers count."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistec.domain.banking.cnab import febraban240 as fb
from assistec.domain.banking.cnab.engine import Record
from assistec.domain.banking.cnab.model import OccurrenceKind

# The nosso número as the bank writes it, without the padding (a C method: no Python call per line).
strip: Callable[[str], str] = str.strip


@dataclass(frozen=True)
class Remessa240:
    """How a bank wants its CNAB 240 remessa: its records (when they differ from the retorno's) and
    the fixed values it asks for (carteira code, species, acceptance, protest and write-off codes,
    ...). ``constants`` are per record name; computed values (the title's own) win over them."""

    file_header: Record | None = None
    lot_header: Record | None = None
    seg_p: Record | None = None
    seg_q: Record | None = None
    seg_r: Record | None = None
    lot_trailer: Record | None = None
    file_trailer: Record | None = None
    constants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    segments: tuple[str, ...] = ("P", "Q", "R")
    # Codes the bank uses when the title has no interest / no discount / no fine.
    no_interest_code: int = 3
    interest_code: int = 1  # 1 = valor por dia
    no_discount_code: int = 0
    no_fine_code: int = 0
    # Whether the lot trailer carries the lot's title count and sum (Sicoob, Itaú).
    lot_totals: bool = False
    # Where the document number is repeated for the company (P 196-220 "uso da empresa").
    company_use: str = "document_number"  # or "" (left blank)
    # Whether the bank needs the agreement's carteira variation in the file (Banco do Brasil's headers).
    wallet_variation_required: bool = False


@dataclass(frozen=True)
class Cnab240Bank:
    slug: str
    code: str
    name: str
    occurrences: Mapping[str, tuple[OccurrenceKind, str]] = field(default_factory=lambda: fb.OCCURRENCES)
    file_header: Record = fb.FILE_HEADER
    lot_header: Record = fb.LOT_HEADER
    seg_t: Record = fb.SEG_T
    seg_u: Record = fb.SEG_U
    lot_trailer: Record = fb.LOT_TRAILER
    file_trailer: Record = fb.FILE_TRAILER
    seg_p: Record = fb.SEG_P
    seg_q: Record = fb.SEG_Q
    seg_r: Record = fb.SEG_R
    # What the lot trailer's record count counts: "all" (FEBRABAN: header + details + trailer) or
    # "details" (Santander: the T/U lines only).
    lot_count: str = "all"
    # Whether the lot trailer's "títulos em cobrança simples" count/sum are this file's T segments
    # (Itaú, Sicredi) or the whole portfolio (Santander's "títulos em carteira"), which a file
    # cannot be checked against. Zeros mean "not informed" everywhere (BB, Caixa, Sicoob, Ailos).
    lot_totals_are_file: bool = True
    nosso_numero: Callable[[str], str] = strip
    layout_version: int = 0
    lot_layout_version: int = 0
    remessa: Remessa240 | None = None


@dataclass(frozen=True)
class TrailerCheck:
    """A CNAB 400 trailer's (count, amount) pair the file's details must add up to: the details
    with one of ``codes`` (all when empty), their ``value`` (title or paid) summed."""

    count_field: str
    amount_field: str | None = None
    codes: frozenset[str] = frozenset()
    value: str = "title_cents"


@dataclass(frozen=True)
class Remessa400:
    """A bank's CNAB 400 remessa: its three records and the fixed values it asks for."""

    header: Record
    detail: Record
    trailer: Record
    constants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Whether the bank needs the agreement's carteira variation in the detail (Banco do Brasil's CBR641).
    wallet_variation_required: bool = False


@dataclass(frozen=True)
class Cnab400Bank:
    slug: str
    code: str
    name: str
    header: Record
    details: Mapping[str, Record]  # by record type (column 1): "1", and "7" for BB's 7-digit convênio
    trailer: Record
    occurrences: Mapping[str, tuple[OccurrenceKind, str]]
    nosso_numero: Callable[[str], str] = strip
    # The trailer's totals that add up this file's details (never the portfolio's "títulos em
    # carteira", which a file cannot be checked against): () when the layout has none.
    trailer_checks: tuple[TrailerCheck, ...] = ()
    # Records of other types the layout defines and this parser skips (reported), e.g.
    # Santander's type 2 (PIX data of the previous title).
    extra_records: frozenset[str] = frozenset()
    remessa: Remessa400 | None = None
    # The detail's 254-266 is the amount credited to the account, net of the bank's fee (Itaú's
    # "valor principal"), not what the payer paid: a settlement's is read as ``credited_cents``, and
    # the payer's payment as that plus the fee.
    paid_is_net: bool = False
