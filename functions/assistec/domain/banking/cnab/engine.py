"""A small declarative engine for fixed-width CNAB records.

A layout is data: each :class:`Field` has a name, its first and last column (1-based, inclusive, as
the banks' manuals print them), a kind (``num``, ``alpha``, ``date``, ``money``), a format and a
default. A :class:`Record` checks its fields fit and do not overlap, and compiles them once:

* ``reader(*names)`` returns a function that decodes only those fields of a line (``bytes``) with
  one ``struct`` unpack (skipped columns cost nothing) and one ``map`` of converters, no per-field
  Python loop: that is what makes retorno parsing fast;
* ``encode(values)`` writes a whole line (gaps are blanks, defaults fill what is not given).

Money is integer centavos (the files carry implied decimals: ``000000000001990`` is R$ 19,90).
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistec.domain.banking.cnab.errors import CnabError

NUM = "num"
ALPHA = "alpha"
DATE = "date"
MONEY = "money"
KINDS = frozenset({NUM, ALPHA, DATE, MONEY})
DATE_FORMATS = frozenset({"DDMMAAAA", "DDMMAA", "AAAAMMDD"})


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    start: int
    end: int
    kind: str = ALPHA
    format: str = ""
    default: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if not 1 <= self.start <= self.end:
            raise ValueError(f"{self.name}: bad columns {self.start}-{self.end}")
        if self.kind == DATE:
            fmt = self.format or "DDMMAAAA"
            if fmt not in DATE_FORMATS or len(fmt) != self.width:
                raise ValueError(f"{self.name}: date format {fmt!r} does not fit {self.width} columns")

    @property
    def width(self) -> int:
        return self.end - self.start + 1


def num(name: str, start: int, end: int, default: Any = None) -> Field:
    return Field(name, start, end, NUM, default=default)


def alpha(name: str, start: int, end: int, default: Any = None) -> Field:
    return Field(name, start, end, ALPHA, default=default)


def money(name: str, start: int, end: int) -> Field:
    return Field(name, start, end, MONEY, "2")


def day(name: str, start: int, end: int, fmt: str = "") -> Field:
    return Field(name, start, end, DATE, fmt or ("DDMMAAAA" if end - start == 7 else "DDMMAA"))


# -- converters (bytes -> value) ------------------------------------------------------------------


def _to_int(raw: bytes) -> int:
    if raw.isdigit():
        return int(raw)
    if not raw.strip():
        return 0  # a blank numeric field: not informed
    stripped = raw.strip()
    if stripped.isdigit():
        return int(stripped)  # right-stripped damage inside a numeric field ("000123  ")
    raise ValueError(raw)


def _to_alpha(raw: bytes) -> str:
    return raw.decode("latin-1").rstrip()


# Parsed dates by their raw bytes, one cache per format (a retorno repeats a few dates many times);
# only values that converted cleanly are cached, so a hit is always a checked value.
_DATE_CACHES: dict[str, dict[bytes, date | None]] = {"DDMMAAAA": {}, "DDMMAA": {}, "AAAAMMDD": {}}
_CACHE_LIMIT = 100_000


def _parse_date(raw: bytes, fmt: str) -> date | None:
    if not raw.strip(b" 0"):
        return None
    if not raw.isdigit():
        raise ValueError(raw)
    if fmt == "AAAAMMDD":
        return date(int(raw[0:4]), int(raw[4:6]), int(raw[6:8]))
    if fmt == "DDMMAAAA":
        return date(int(raw[4:8]), int(raw[2:4]), int(raw[0:2]))
    # DDMMAA: the CNAB 400 manuals' century window (70-99 -> 19xx).
    yy = int(raw[4:6])
    return date((1900 if yy >= 70 else 2000) + yy, int(raw[2:4]), int(raw[0:2]))


def _date_converter(fmt: str) -> Callable[[bytes], date | None]:
    cache = _DATE_CACHES[fmt]

    def convert(raw: bytes) -> date | None:
        try:
            return cache[raw]
        except KeyError:
            pass
        value = _parse_date(raw, fmt)
        if len(cache) < _CACHE_LIMIT:
            cache[raw] = value
        return value

    return convert


_DATE_CONVERTERS = {fmt: _date_converter(fmt) for fmt in _DATE_CACHES}


def _converter(field: Field) -> Callable[[bytes], Any]:
    if field.kind == DATE:
        return _DATE_CONVERTERS[field.format or "DDMMAAAA"]
    if field.kind == ALPHA:
        return _to_alpha
    return _to_int


# -- encoders (value -> text) ---------------------------------------------------------------------


def fold(text: str) -> str:
    """What a bank's remessa accepts: no accents (``ção`` -> ``cao``), latin-1 printable only."""
    decomposed = unicodedata.normalize("NFKD", text)
    out = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else "?" for c in out)


def _encode(field: Field, value: Any, record: str) -> str:
    w = field.width
    if field.kind == ALPHA:
        text = "" if value is None else fold(str(value))
        return text[:w].ljust(w)
    if field.kind == DATE:
        if value is None or value == 0:
            return "0" * w
        if not isinstance(value, date):
            raise CnabError("invalid_value", f"{record}.{field.name}: data inválida ({value!r}).")
        pattern = {"AAAAMMDD": "%Y%m%d", "DDMMAA": "%d%m%y"}.get(field.format, "%d%m%Y")
        return value.strftime(pattern)
    if value is None:
        return "0" * w
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CnabError("invalid_value", f"{record}.{field.name}: valor não numérico ({value!r}).")
    text = str(value)
    if not text.isdigit():
        raise CnabError("invalid_value", f"{record}.{field.name}: valor não numérico ({value!r}).")
    if len(text) > w:
        raise CnabError(
            "field_overflow",
            f"{record}.{field.name}: {text} não cabe em {w} posições.",
            details={"field": field.name},
        )
    return text.rjust(w, "0")


class Record:
    """One record layout (a line of ``width`` columns)."""

    def __init__(self, name: str, fields: Iterable[Field], *, width: int = 240) -> None:
        self.name = name
        self.width = width
        ordered = tuple(sorted(fields, key=lambda f: f.start))
        by_name: dict[str, Field] = {}
        end = 0
        for f in ordered:
            if f.start <= end:
                raise ValueError(f"{name}: {f.name} ({f.start}-{f.end}) overlaps the field before it")
            if f.end > width:
                raise ValueError(f"{name}: {f.name} ends at {f.end}, past {width}")
            if f.name in by_name:
                raise ValueError(f"{name}: field {f.name} twice")
            by_name[f.name] = f
            end = f.end
        self.fields = ordered
        self.by_name = by_name
        self._all = self.reader(*by_name)
        self._names = tuple(by_name)

    def __repr__(self) -> str:
        return f"Record({self.name!r}, {len(self.fields)} fields, width={self.width})"

    def field(self, name: str) -> Field:
        return self.by_name[name]

    def replace(
        self, name: str | None = None, *, add: Sequence[Field] = (), drop: Sequence[str] = ()
    ) -> Record:
        """A variant: this record without ``drop`` (and any field ``add`` overlaps), plus ``add``."""
        kept = [
            f
            for f in self.fields
            if f.name not in drop
            and f.name not in {a.name for a in add}
            and not any(a.start <= f.end and f.start <= a.end for a in add)
        ]
        return Record(name or self.name, [*kept, *add], width=self.width)

    def reader(
        self, *names: str, defaults: Mapping[str, Any] | None = None
    ) -> Callable[[bytes], tuple[Any, ...]]:
        """A decoder of ``names`` (in that order) from a line of at least ``width`` bytes; a name
        this record does not have reads as its constant in ``defaults`` (a layout without that column)."""
        missing = [n for n in names if n not in self.by_name]
        if missing and (defaults is None or any(n not in defaults for n in missing)):
            raise KeyError(f"{self.name}: no field(s) {missing}")
        constants = {n: defaults[n] for n in missing} if defaults else {}
        present = [n for n in names if n in self.by_name]
        fields = [self.by_name[n] for n in present]
        order = sorted(range(len(fields)), key=lambda i: fields[i].start)
        fmt, pos = "", 0
        for i in order:
            f = fields[i]
            if f.start - 1 > pos:
                fmt += f"{f.start - 1 - pos}x"
            fmt += f"{f.width}s"
            pos = f.end
        unpack = struct.Struct(fmt).unpack_from
        ordered = [fields[i] for i in order]
        convs = [_converter(f) for f in ordered]
        back = [order.index(i) for i in range(len(fields))]  # requested position -> unpacked position
        # The result, name by name: ("v", unpacked position) or ("c", constant).
        plan = [("c", constants[n]) if n in constants else ("v", back[present.index(n)]) for n in names]
        record = self.name

        def exact(line: bytes) -> tuple[Any, ...]:
            """Every field through its converter: blank numbers read 0, errors name the field."""
            out: list[Any] = []
            for f, conv, raw in zip(ordered, convs, unpack(line), strict=True):
                try:
                    out.append(conv(raw))
                except ValueError:
                    text = raw.decode("latin-1")
                    raise CnabError(
                        "invalid_field",
                        f"Campo {f.name} ({f.start}-{f.end}) do registro {record} inválido: {text!r}.",
                        details={"record": record, "field": f.name, "value": text},
                    ) from None
            return tuple(out[x] if kind == "v" else x for kind, x in plan)

        # The fast path, generated once per reader (as namedtuple does): one unpack, one digit check
        # over all numeric fields together, then builtins only, no call per field. Anything it
        # does not handle (a blank or odd numeric field, a date not seen yet) goes the exact way.
        slots = [f"v{k}" for k in range(len(ordered))]
        numeric = [slots[k] for k, f in enumerate(ordered) if f.kind in (NUM, MONEY)]
        exprs: list[str] = []
        for k, f in enumerate(ordered):
            if f.kind in (NUM, MONEY):
                exprs.append(f"_int({slots[k]})")
            elif f.kind == ALPHA:
                exprs.append(f"{slots[k]}.decode('latin-1').rstrip()")
            else:
                exprs.append(f"_dates_{f.format or 'DDMMAAAA'}[{slots[k]}]")
        check = (
            f"        if not _join(({', '.join(numeric)},)).isdigit():\n            return _exact(line)\n"
            if numeric
            else ""
        )
        results = [
            exprs[x] if kind == "v" else f"_c[{n!r}]" for (kind, x), n in zip(plan, names, strict=True)
        ]
        source = (
            "def read(line):\n"
            "    try:\n"
            f"        {', '.join(slots)}, = _unpack(line)\n"
            f"{check}"
            f"        return ({', '.join(results)},)\n"
            "    except KeyError:\n"
            "        return _exact(line)\n"
        )
        namespace: dict[str, Any] = {
            "_unpack": unpack,
            "_int": int,
            "_exact": exact,
            "_c": constants,
            "_join": b"".join,
        }
        namespace.update({f"_dates_{fmt}": cache for fmt, cache in _DATE_CACHES.items()})
        exec(source, namespace)  # noqa: S102 - code generated from the layout's own field list
        read: Callable[[bytes], tuple[Any, ...]] = namespace["read"]
        return read

    def decode(self, line: bytes | str) -> dict[str, Any]:
        raw = line.encode("latin-1") if isinstance(line, str) else line
        if len(raw) < self.width:
            raw = raw.ljust(self.width)
        return dict(zip(self._names, self._all(raw), strict=True))

    def decode_lenient(self, line: bytes) -> tuple[dict[str, Any], list[str]]:
        """Every field that reads as its kind, and the names of those that do not (left ``None``)."""
        raw = line.ljust(self.width)
        out: dict[str, Any] = {}
        bad: list[str] = []
        for f in self.fields:
            try:
                out[f.name] = _converter(f)(raw[f.start - 1 : f.end])
            except ValueError:
                out[f.name] = None
                bad.append(f.name)
        return out, bad

    def encode(self, values: Mapping[str, Any]) -> str:
        unknown = set(values) - set(self.by_name)
        if unknown:
            raise ValueError(f"{self.name}: no field(s) {sorted(unknown)}")
        parts: list[str] = []
        pos = 0
        for f in self.fields:
            if f.start - 1 > pos:
                parts.append(" " * (f.start - 1 - pos))
            value = values.get(f.name, f.default)
            parts.append(_encode(f, value, self.name))
            pos = f.end
        if pos < self.width:
            parts.append(" " * (self.width - pos))
        return "".join(parts)
