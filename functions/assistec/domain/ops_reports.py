"""The reports to ops (issue 13 §4), as pure rules: which metrics of the stage's dashboard each report
reads, the report's window, and its sections (pt-BR text lines) built from numbers.

The metrics are the dashboard's own: ``parse_dashboard`` turns the dashboard's body (CloudWatch's
JSON: ``widgets[].properties.metrics`` rows ``[namespace, name, dim1, value1, ..., {options}]``, with
the console's shorthands ``"."``, the previous row's item at that position, and a leading ``"..."``,
the previous row's items up to the ones given) into ``MetricQuery``s, and a ``Selection`` picks those
a section needs by namespace, metric and statistic (or by the widget they are drawn in). What was not
read is never left out: a section whose numbers could not be fetched says ``indisponível: <reason>``,
one whose metrics are not on the dashboard says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ReportKind = Literal["daily", "weekly", "monthly"]
REPORT_KINDS: tuple[ReportKind, ...] = ("daily", "weekly", "monthly")

# The daily backup status lists at most this many shops (those with a problem first).
BACKUP_LIST_LIMIT = 1000
# The monthly capacity report's top shops, per ranking.
BUSIEST_SHOPS = 10
# Growth is measured against the snapshot of this many days before (or the newest older one).
GROWTH_DAYS = 30
# A shop's latest backup older than this many days before the report's day is late (the daily run
# may not have reached it yet today, so yesterday's still counts as on time).
LATE_AFTER_DAYS = 1


class DashboardUnreadable(ValueError):
    """The dashboard's body is not the JSON a CloudWatch dashboard holds."""


# --- the dashboard's metrics ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metric drawn on the dashboard: what to ask GetMetricData for, and the label it is drawn with."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    label: str
    widget: str = ""

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...], str]:
        """Which data this is (two widgets may draw the same metric under different labels)."""
        return (self.namespace, self.metric, self.dimensions, self.stat)

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


def parse_dashboard(body: str | Mapping[str, Any]) -> list[MetricQuery]:
    """Every metric the dashboard's graphs draw, in the order they are drawn (math expressions and
    other widgets aside)."""
    try:
        document = json.loads(body) if isinstance(body, str) else body
        widgets = document["widgets"]
    except (ValueError, TypeError, KeyError) as exc:
        raise DashboardUnreadable(f"corpo do painel ilegível ({type(exc).__name__})") from exc
    if not isinstance(widgets, list):
        raise DashboardUnreadable("corpo do painel sem lista de widgets")
    found: list[MetricQuery] = []
    for widget in widgets:
        if not isinstance(widget, Mapping) or widget.get("type", "metric") != "metric":
            continue
        properties = widget.get("properties")
        if not isinstance(properties, Mapping):
            continue
        found.extend(_widget_metrics(properties))
    return found


def _widget_metrics(properties: Mapping[str, Any]) -> Iterable[MetricQuery]:
    title = str(properties.get("title") or "")
    default_stat = str(properties.get("stat") or "Average")  # CloudWatch's default for a graph
    previous: list[str] = []
    for row in properties.get("metrics") or []:
        if not isinstance(row, list) or not row:
            continue
        options = row[-1] if isinstance(row[-1], Mapping) else {}
        items = row[:-1] if options else row
        if not items or "expression" in options:  # a math expression: drawn from other rows
            continue
        if not all(isinstance(item, str) for item in items):
            raise DashboardUnreadable(f"métrica ilegível no widget {title!r}: {row!r}")
        resolved = _expand(list(items), previous)
        previous = resolved
        if len(resolved) < 2 or len(resolved) % 2:
            raise DashboardUnreadable(f"métrica ilegível no widget {title!r}: {row!r}")
        namespace, metric, *dimensions = resolved
        pairs = tuple(zip(dimensions[::2], dimensions[1::2], strict=True))
        yield MetricQuery(
            namespace=namespace,
            metric=metric,
            dimensions=pairs,
            stat=str(options.get("stat") or default_stat),
            label=str(options.get("label") or " ".join([metric, *(v for _, v in pairs)])),
            widget=title,
        )


def _expand(items: list[str], previous: list[str]) -> list[str]:
    """The console's shorthands: a leading "..." is the previous row's items up to those given,
    a "." the previous row's item at its position."""
    if items[0] == "...":
        rest = items[1:]
        items = previous[: max(len(previous) - len(rest), 0)] + rest
    resolved = []
    for position, item in enumerate(items):
        if item == ".":
            if position >= len(previous):
                raise DashboardUnreadable("'.' sem métrica anterior na mesma posição")
            item = previous[position]
        resolved.append(item)
    return resolved


@dataclass(frozen=True, slots=True)
class Selection:
    """The dashboard's metrics one section reads: by namespace, metric names and statistic, or all
    those drawn in the widget whose title starts with ``widget``."""

    name: str
    namespace: str | None = None
    metrics: tuple[str, ...] = ()
    stat: str | None = None
    widget: str | None = None

    def pick(self, queries: Iterable[MetricQuery]) -> list[MetricQuery]:
        """The matching queries, each piece of data once, in the dashboard's order."""
        picked: dict[tuple[Any, ...], MetricQuery] = {}
        for q in queries:
            if self.namespace is not None and q.namespace != self.namespace:
                continue
            if self.metrics and q.metric not in self.metrics:
                continue
            if self.stat is not None and q.stat != self.stat:
                continue
            if self.widget is not None and not q.widget.startswith(self.widget):
                continue
            picked.setdefault(q.key, q)
        return list(picked.values())

    def describe(self) -> str:
        if self.widget is not None:
            return f"do gráfico {self.widget!r}"
        return f"{self.namespace} {'/'.join(self.metrics)} ({self.stat})"


# What each report reads from the dashboard. The widget title is dashboard.py's (the CDK app and the
# functions share no code: tests/infra/test_ops_reports.py checks every selection finds its metrics).
PROVIDERS_WIDGET = "Providers' errors"
BACKUP_AGE = Selection("backup_age", namespace="Assistec", metrics=("BackupAgeHours",), stat="Maximum")
API_LATENCY = Selection(
    "api_latency", namespace="AWS/ApiGateway", metrics=("Latency", "IntegrationLatency"), stat="p99"
)
API_TRAFFIC = Selection(
    "api_traffic", namespace="AWS/ApiGateway", metrics=("Count", "4XXError", "5XXError"), stat="Sum"
)
FUNCTION_ERRORS = Selection("function_errors", namespace="AWS/Lambda", metrics=("Errors",), stat="Sum")
FLOW_FAILURES = Selection(
    "flow_failures",
    namespace="AWS/States",
    metrics=("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"),
    stat="Sum",
)
QUEUE_AGES = Selection(
    "queue_ages", namespace="AWS/SQS", metrics=("ApproximateAgeOfOldestMessage",), stat="Maximum"
)
DLQ_DEPTHS = Selection(
    "dlq_depths", namespace="AWS/SQS", metrics=("ApproximateNumberOfMessagesVisible",), stat="Maximum"
)
PROVIDER_ERRORS = Selection("provider_errors", widget=PROVIDERS_WIDGET)
WEEKLY_SELECTIONS = (API_LATENCY, API_TRAFFIC, FUNCTION_ERRORS, FLOW_FAILURES, QUEUE_AGES, DLQ_DEPTHS,
                     PROVIDER_ERRORS)  # fmt: skip
ACCOUNT_CONCURRENCY_LABEL = "Conta (todas as funções)"


def concurrency_queries(queries: Iterable[MetricQuery]) -> list[MetricQuery]:
    """Lambda's concurrency peak (``ConcurrentExecutions``, Maximum) of the account and of every
    function the dashboard draws (by the label it draws the function with)."""
    found = [MetricQuery("AWS/Lambda", "ConcurrentExecutions", (), "Maximum", ACCOUNT_CONCURRENCY_LABEL)]
    seen: set[str] = set()
    for q in queries:
        name = q.dimension("FunctionName")
        if q.namespace != "AWS/Lambda" or name is None or name in seen:
            continue
        seen.add(name)
        found.append(
            MetricQuery("AWS/Lambda", "ConcurrentExecutions", (("FunctionName", name),), "Maximum", q.label)
        )
    return found


# --- what was read ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Unavailable:
    """Numbers that could not be read, and why (shown as the section's line)."""

    reason: str


# Each query's value over the window (None: no data point in it), or why none could be read.
Readings = Mapping[MetricQuery, float | None] | Unavailable


def aggregate(stat: str, values: Sequence[float]) -> float | None:
    """One number for the window from the data points GetMetricData returned (one, normally: the
    period is the window; more when CloudWatch split it). A percentile or an average over several
    points is approximated by the highest."""
    if not values:
        return None
    if stat in ("Sum", "SampleCount"):
        return float(sum(values))
    if stat == "Minimum":
        return float(min(values))
    return float(max(values))


# --- the window -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Window:
    """[start, end), both midnights in São Paulo (whole days), and how the report names it."""

    start: datetime
    end: datetime
    label: str

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


def local_day(moment: datetime) -> date:
    """The report's day: the date in São Paulo."""
    return moment.astimezone(SAO_PAULO).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SAO_PAULO).astimezone(UTC)


def daily_window(now: datetime) -> Window:
    """The 24 hours before the run (the backup's age over the last day)."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Window(end - timedelta(days=1), end, f"24 h até {fmt_datetime(end)}")


def weekly_window(now: datetime) -> Window:
    """The last whole week, Monday to Sunday, in São Paulo."""
    today = local_day(now)
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(days=7)
    last = monday - timedelta(days=1)
    return Window(_midnight(first), _midnight(monday), f"{fmt_date(first)} a {fmt_date(last)}")


MONTHS = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
          "outubro", "novembro", "dezembro")  # fmt: skip


def monthly_window(now: datetime) -> Window:
    """The last whole calendar month, in São Paulo."""
    first_of_this = local_day(now).replace(day=1)
    first_of_last = (first_of_this - timedelta(days=1)).replace(day=1)
    label = f"{MONTHS[first_of_last.month - 1]} de {first_of_last.year}"
    return Window(_midnight(first_of_last), _midnight(first_of_this), label)


# --- pt-BR numbers ----------------------------------------------------------------------------------
def fmt_int(value: float) -> str:
    """1234567 → "1.234.567" (rounded)."""
    return f"{round(value):,}".replace(",", ".")


def fmt_decimal(value: float, places: int = 1) -> str:
    """1234.5 → "1.234,5"."""
    text = f"{value:,.{places}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_percent(part: float, whole: float) -> str:
    """A share of a whole, two decimals: "0,25%"; "-" of nothing."""
    if whole <= 0:
        return "-"
    return f"{fmt_decimal(100 * part / whole, 2)}%"


_BYTE_UNITS = ("bytes", "kB", "MB", "GB", "TB")


def fmt_bytes(size: float) -> str:
    """In the largest unit of 1024 that keeps it at least 1 (PostgreSQL's pg_size_pretty's units):
    "512 bytes", "1,5 MB", "12,4 GB"."""
    amount, unit = float(abs(size)), 0
    while amount >= 1024 and unit < len(_BYTE_UNITS) - 1:
        amount /= 1024
        unit += 1
    sign = "-" if size < 0 else ""
    if unit == 0:
        return f"{sign}{fmt_int(amount)} bytes"
    return f"{sign}{fmt_decimal(amount, 1)} {_BYTE_UNITS[unit]}"


def fmt_duration(seconds: float) -> str:
    """45 → "45 s"; 200 → "3 min 20 s"; 7500 → "2 h 05 min"; 100000 → "1 d 03 h"."""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"


def fmt_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def fmt_datetime(moment: datetime) -> str:
    """In São Paulo: "24/11/2026 09:00"."""
    return f"{moment.astimezone(SAO_PAULO):%d/%m/%Y %H:%M}"


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value >= 0 else text


# --- the report -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    rows: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """What the ``ops_report`` e-mail shows: a title, when it was made, and sections of text lines."""

    kind: ReportKind
    title: str
    generated_at: datetime
    sections: tuple[Section, ...] = field(default=())

    def context(self) -> dict[str, Any]:
        """The ``ops_report`` template's context."""
        return {
            "title": self.title,
            "generated_at": self.generated_at,
            "sections": [(s.heading, list(s.rows)) for s in self.sections],
        }

    def text(self) -> str:
        """The report as plain text (the log's copy when no one is to be e-mailed)."""
        lines = [self.title, f"Gerado em {fmt_datetime(self.generated_at)}."]
        for section in self.sections:
            lines += ["", f"== {section.heading} ==", *section.rows]
        return "\n".join(lines)


def unavailable(reason: str) -> str:
    return f"indisponível: {reason}"


def _not_on_dashboard(selection: Selection) -> str:
    return f"nenhuma métrica {selection.describe()} no painel"


# --- daily: backups ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BackupStatus:
    """One shop's backups, as ``ops_backup_status`` reads them (``status`` None: no run yet)."""

    tenant_id: UUID
    shop_name: str
    run_date: date | None
    status: str | None
    bytes: int | None
    error: str | None
    last_ok_at: datetime | None
    restore_checked_at: datetime | None = None
    restore_error: str | None = None


BackupState = Literal["failed", "missing", "late", "restore_failed", "ok"]
# The order a report lists them in: problems first, the worst first.
BACKUP_STATES: tuple[BackupState, ...] = ("failed", "missing", "late", "restore_failed", "ok")
_STATE_TAGS: Mapping[BackupState, str] = {
    "failed": "FALHOU",
    "missing": "SEM BACKUP",
    "late": "ATRASADO",
    "restore_failed": "RESTAURAÇÃO FALHOU",
    "ok": "ok",
}


def backup_state(shop: BackupStatus, day: date) -> BackupState:
    """Where a shop's backups stand on the report's day."""
    if shop.status is None or shop.run_date is None:
        return "missing"
    if shop.status != "ok":
        return "failed"
    if shop.run_date < day - timedelta(days=LATE_AFTER_DAYS):
        return "late"
    if shop.restore_error:
        return "restore_failed"
    return "ok"


def order_backups(shops: Iterable[BackupStatus], day: date) -> list[tuple[BackupState, BackupStatus]]:
    """Failures first (then no backup yet, late, restore test failed, good); within each the longest
    without a good bundle first, then by name."""
    never = datetime.min.replace(tzinfo=UTC)

    def key(item: tuple[BackupState, BackupStatus]) -> tuple[int, datetime, date, str, str]:
        state, shop = item
        return (
            BACKUP_STATES.index(state),
            shop.last_ok_at or never,
            shop.run_date or date.min,
            shop.shop_name.casefold(),
            str(shop.tenant_id),
        )

    return sorted(((backup_state(s, day), s) for s in shops), key=key)


def _backup_row(state: BackupState, shop: BackupStatus) -> str:
    tag = _STATE_TAGS[state]
    if state == "ok":
        size = f", {fmt_bytes(shop.bytes)}" if shop.bytes is not None else ""
        return f"ok — {shop.shop_name} — {fmt_date(shop.run_date or date.min)}{size}"
    who = f"{shop.shop_name} ({shop.tenant_id})"
    last_good = (
        f"último backup bom: {fmt_datetime(shop.last_ok_at)}"
        if shop.last_ok_at
        else "nenhum backup bom ainda"
    )
    if state == "missing":
        return f"{tag} — {who} — nenhum backup registrado"
    if state == "failed":
        error = shop.error or "sem detalhe"
        return f"{tag} — {who} — {fmt_date(shop.run_date or date.min)}: {error} — {last_good}"
    if state == "late":
        return f"{tag} — {who} — último backup: {fmt_date(shop.run_date or date.min)} — {last_good}"
    checked = fmt_datetime(shop.restore_checked_at) if shop.restore_checked_at else "?"
    return f"{tag} — {who} — teste de {checked}: {shop.restore_error}"


def backup_sections(
    shops: Sequence[BackupStatus] | Unavailable,
    *,
    day: date,
    total: int,
    backup_age: Readings,
) -> tuple[Section, ...]:
    """The daily backup status: a summary (with the dashboard's ``BackupAgeHours``), the shops with
    a problem, then those in order."""
    age_rows = _backup_age_rows(backup_age)
    if isinstance(shops, Unavailable):
        return (Section("Resumo", (unavailable(shops.reason), *age_rows)),)
    ordered = order_backups(shops, day)
    counts = {state: sum(1 for s, _ in ordered if s == state) for state in BACKUP_STATES}
    summary = [
        f"lojas: {fmt_int(total)}",
        f"com falha: {fmt_int(counts['failed'])}",
        f"sem backup ainda: {fmt_int(counts['missing'])}",
        f"atrasadas (último backup antes de {fmt_date(day - timedelta(days=LATE_AFTER_DAYS))}): "
        f"{fmt_int(counts['late'])}",
        f"teste de restauração com erro: {fmt_int(counts['restore_failed'])}",
        f"em dia: {fmt_int(counts['ok'])}",
    ]
    if total > len(ordered):
        summary.append(
            f"mostrando {fmt_int(len(ordered))} de {fmt_int(total)} lojas (as com problema primeiro)"
        )
    problems = [_backup_row(state, shop) for state, shop in ordered if state != "ok"]
    good = [_backup_row(state, shop) for state, shop in ordered if state == "ok"]
    return (
        Section("Resumo", (*summary, *age_rows)),
        Section("Com problema", tuple(problems) or ("nenhuma loja",)),
        Section("Em dia", tuple(good) or ("nenhuma loja",)),
    )


def _backup_age_rows(readings: Readings) -> tuple[str, ...]:
    label = "BackupAgeHours no painel (máximo em 24 h)"
    if isinstance(readings, Unavailable):
        return (f"{label}: {unavailable(readings.reason)}",)
    if not readings:
        return (f"{label}: {_not_on_dashboard(BACKUP_AGE)}",)
    values = [v for v in readings.values() if v is not None]
    if not values:
        return (f"{label}: sem dados",)
    return (f"{label}: {fmt_decimal(max(values), 1)} h",)


# --- daily: the capacity snapshot -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CapacitySnapshot:
    taken_on: date
    database_bytes: int
    shops: int
    orders: int


def snapshot_section(snapshot: CapacitySnapshot | Unavailable) -> Section:
    heading = "Retrato de capacidade do dia"
    if isinstance(snapshot, Unavailable):
        return Section(heading, (unavailable(snapshot.reason),))
    return Section(
        heading,
        (
            f"{fmt_date(snapshot.taken_on)}: banco {fmt_bytes(snapshot.database_bytes)}, "
            f"{fmt_int(snapshot.shops)} lojas, {fmt_int(snapshot.orders)} ordens de serviço",
        ),
    )


# --- weekly: performance ----------------------------------------------------------------------------
def _value(readings: Mapping[MetricQuery, float | None], query: MetricQuery) -> float:
    return readings.get(query) or 0.0


def _numbers(selection: Selection, readings: Readings) -> Mapping[MetricQuery, float | None] | str:
    """The readings, or the one line a section shows when they are missing."""
    if isinstance(readings, Unavailable):
        return unavailable(readings.reason)
    if not readings:
        return _not_on_dashboard(selection)
    return readings


def api_section(latency: Readings, traffic: Readings) -> Section:
    """The API: p99 latencies over the week, requests, 4XX and 5XX (and their share of requests)."""
    rows: list[str] = []
    latencies = _numbers(API_LATENCY, latency)
    if isinstance(latencies, str):
        rows.append(f"latência p99: {latencies}")
    else:
        rows += [
            f"{q.label}: {fmt_int(v)} ms" if v is not None else f"{q.label}: sem dados"
            for q, v in latencies.items()
        ]
    counts = _numbers(API_TRAFFIC, traffic)
    if isinstance(counts, str):
        rows.append(f"pedidos e erros: {counts}")
    else:
        requests = sum(_value(counts, q) for q in counts if q.metric == "Count")
        for query in counts:
            value = _value(counts, query)
            if query.metric == "Count":
                rows.append(f"{query.label}: {fmt_int(value)}")
            elif requests > 0:
                rows.append(f"{query.label}: {fmt_int(value)} ({fmt_percent(value, requests)} dos pedidos)")
            else:
                rows.append(f"{query.label}: {fmt_int(value)}")
    return Section("API (semana)", tuple(rows))


def _counts_section(heading: str, selection: Selection, readings: Readings, *, nothing: str) -> Section:
    """Counts per query: the non-zero ones, largest first, then how many were zero."""
    counts = _numbers(selection, readings)
    if isinstance(counts, str):
        return Section(heading, (counts,))
    nonzero = sorted(((q, _value(counts, q)) for q in counts if _value(counts, q) > 0), key=lambda i: -i[1])
    rows = [f"{q.label}: {fmt_int(v)}" for q, v in nonzero]
    zero = len(counts) - len(nonzero)
    if not nonzero:
        rows.append(nothing)
    elif zero:
        rows.append(f"demais {fmt_int(zero)}: 0")
    return Section(heading, tuple(rows))


def function_errors_section(readings: Readings) -> Section:
    return _counts_section(
        "Funções: erros (semana)", FUNCTION_ERRORS, readings, nothing="nenhuma função com erros"
    )


def flow_failures_section(readings: Readings) -> Section:
    return _counts_section(
        "Fluxos: execuções com falha, expiradas ou abortadas (semana)",
        FLOW_FAILURES,
        readings,
        nothing="nenhuma",
    )


def queue_ages_section(readings: Readings) -> Section:
    """Every main queue's oldest message over the week, oldest first."""
    heading = "Filas: mensagem mais antiga (máximo da semana)"
    ages = _numbers(QUEUE_AGES, readings)
    if isinstance(ages, str):
        return Section(heading, (ages,))
    ordered = sorted(ages.items(), key=lambda item: -(item[1] or 0))
    return Section(
        heading,
        tuple(
            f"{q.label}: {fmt_duration(v)}" if v is not None else f"{q.label}: sem dados" for q, v in ordered
        ),
    )


def dlq_section(readings: Readings) -> Section:
    return _counts_section(
        "Filas de falhas (DLQ): mensagens esperando (máximo da semana)",
        DLQ_DEPTHS,
        readings,
        nothing="todas vazias",
    )


def provider_errors_section(readings: Readings) -> Section:
    return _counts_section(
        "Provedores: erros (semana)", PROVIDER_ERRORS, readings, nothing="nenhum erro de provedor"
    )


def weekly_sections(readings: Mapping[str, Readings]) -> tuple[Section, ...]:
    """The weekly performance summary from each selection's readings (by ``Selection.name``)."""
    return (
        api_section(readings[API_LATENCY.name], readings[API_TRAFFIC.name]),
        function_errors_section(readings[FUNCTION_ERRORS.name]),
        flow_failures_section(readings[FLOW_FAILURES.name]),
        queue_ages_section(readings[QUEUE_AGES.name]),
        dlq_section(readings[DLQ_DEPTHS.name]),
        provider_errors_section(readings[PROVIDER_ERRORS.name]),
    )


# --- monthly: capacity ------------------------------------------------------------------------------
def database_section(
    today: CapacitySnapshot | Unavailable, before: CapacitySnapshot | Unavailable | None
) -> Section:
    """The database's size now and its growth since the snapshot of GROWTH_DAYS before."""
    heading = "Banco de dados"
    if isinstance(today, Unavailable):
        return Section(heading, (unavailable(today.reason),))
    rows = [
        f"tamanho em {fmt_date(today.taken_on)}: {fmt_bytes(today.database_bytes)}",
        f"lojas: {fmt_int(today.shops)}; ordens de serviço: {fmt_int(today.orders)}",
    ]
    if isinstance(before, Unavailable):
        rows.append(f"crescimento: {unavailable(before.reason)}")
    elif before is None or before.taken_on >= today.taken_on:
        rows.append(f"crescimento: sem histórico ainda (nenhum retrato de {GROWTH_DAYS} dias atrás)")
    else:
        days = (today.taken_on - before.taken_on).days
        grown = today.database_bytes - before.database_bytes
        per_day = grown / days
        shops, orders = today.shops - before.shops, today.orders - before.orders
        rows += [
            f"há {days} dias ({fmt_date(before.taken_on)}): {fmt_bytes(before.database_bytes)}",
            f"crescimento: {_signed(fmt_bytes(grown), grown)} "
            f"({_signed(fmt_percent(grown, before.database_bytes), grown)}) em {days} dias, "
            f"{_signed(fmt_bytes(per_day), per_day)} por dia",
            f"lojas: {_signed(fmt_int(shops), shops)}; ordens de serviço: {_signed(fmt_int(orders), orders)}",
        ]
    return Section(heading, tuple(rows))


@dataclass(frozen=True, slots=True)
class ShopActivity:
    """One shop's month, as ``ops_busiest_shops`` counts it."""

    tenant_id: UUID
    shop_name: str
    orders: int
    whatsapp_messages: int


def busiest_sections(
    shops: Sequence[ShopActivity] | Unavailable, *, limit: int = BUSIEST_SHOPS
) -> tuple[Section, ...]:
    """The top shops by orders created, and by WhatsApp messages."""
    by_orders = "Lojas com mais ordens de serviço no mês"
    by_messages = "Lojas com mais mensagens de WhatsApp no mês"
    if isinstance(shops, Unavailable):
        return (Section(f"{by_orders} e mensagens", (unavailable(shops.reason),)),)

    def ranking(key: str) -> tuple[str, ...]:
        ranked = sorted(
            (s for s in shops if getattr(s, key) > 0),
            key=lambda s: (-getattr(s, key), s.shop_name.casefold(), str(s.tenant_id)),
        )[:limit]
        return tuple(
            f"{n}. {s.shop_name} ({s.tenant_id}): {fmt_int(s.orders)} OS, "
            f"{fmt_int(s.whatsapp_messages)} mensagens"
            for n, s in enumerate(ranked, start=1)
        ) or ("nenhuma atividade no mês",)

    return Section(by_orders, ranking("orders")), Section(by_messages, ranking("whatsapp_messages"))


def concurrency_section(readings: Readings) -> Section:
    """Lambda's concurrency peaks over the month: the account's, then each function's, highest first."""
    heading = "Lambda: pico de execuções simultâneas no mês"
    if isinstance(readings, Unavailable):
        return Section(heading, (unavailable(readings.reason),))
    account = [q for q in readings if not q.dimensions]
    functions = sorted((q for q in readings if q.dimensions), key=lambda q: -(readings[q] or 0))
    if not functions:
        return Section(heading, ("nenhuma função Lambda no painel",))
    rows = []
    for q in [*account, *functions]:
        value = readings[q]
        rows.append(f"{q.label}: {fmt_int(value)}" if value is not None else f"{q.label}: sem dados")
    return Section(heading, tuple(rows))
