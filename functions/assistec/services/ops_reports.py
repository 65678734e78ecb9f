"""The reports to ops (issue 13 §4), e-mailed through the mail module (template ``ops_report``):

- daily: every shop's latest backup, failures first (the database, ``ops_backup_status``), with the
  dashboard's ``BackupAgeHours``; and the day's capacity snapshot, taken once a day;
- weekly: the last week's performance (API p99 latency and errors, the functions' errors, the flows'
  failures, queue ages and dead-letter queues, the providers' errors);
- monthly: the last month's capacity (the database's size and growth over 30 days, the busiest shops,
  Lambda's concurrency peaks).

The metrics are the ones the stage's dashboard draws: the dashboard is read (GetDashboard) and each
section fetches the metrics it needs (GetMetricData) over the report's window, one request per
section, so one section's failure leaves the others whole. Nothing fails silently: what could not be
read (the dashboard, a metric, the database) is the section's line ``indisponível: <reason>``. With
no recipient configured the report is logged, not mailed. A mail that cannot be sent raises (the
function's error alarm; EventBridge's invocation is retried by Lambda).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from assistec.db import ops_reports as reports_db
from assistec.domain import ops_reports as rules
from assistec.domain.ops_reports import MetricQuery, Readings, Report, ReportKind, Selection, Unavailable
from assistec.integrations.metrics import MetricsUnavailable
from assistec.observability import logger

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.metrics import MetricsReader
    from assistec.services.email.service import Mail

T = TypeVar("T")
_REASON_MAX = 300


@dataclass(frozen=True, slots=True)
class Delivered:
    """A report and where it went (``mailed_to`` None: logged only, no recipient configured)."""

    report: Report
    mailed_to: str | None
    provider_message_id: str | None

    def output(self) -> dict[str, Any]:
        """The handler's answer."""
        return {
            "report": self.report.kind,
            "title": self.report.title,
            "generated_at": self.report.generated_at.isoformat(),
            "sections": [[s.heading, list(s.rows)] for s in self.report.sections],
            "mailed_to": self.mailed_to,
            "provider_message_id": self.provider_message_id,
        }


class OpsReports:
    """Builds the three reports from the database and the dashboard's metrics, and sends them."""

    def __init__(
        self,
        database: Database,
        metrics: Callable[[], MetricsReader],
        mail: Callable[[], Mail],
        *,
        dashboard_name: str,
        stage: str,
        recipient: str | None,
    ) -> None:
        self._database = database
        self._metrics = metrics
        self._mail = mail
        self._dashboard_name = dashboard_name
        self._stage = stage
        self._recipient = recipient

    def run(self, kind: ReportKind, now: datetime) -> Delivered:
        """Build the report of ``kind`` for the run at ``now`` and mail it (or log it)."""
        builders = {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}
        return self.deliver(builders[kind](now))

    # --- the reports --------------------------------------------------------------------------------
    def daily(self, now: datetime) -> Report:
        """Every shop's latest backup, failures first; the day's capacity snapshot (taken once)."""
        day = rules.local_day(now)
        snapshot = self._guard("capacity snapshot", lambda: self._snapshot(day))
        backups = self._guard("backup status", self._backups)
        dashboard = self._dashboard()
        age = self._read(dashboard, rules.BACKUP_AGE, rules.daily_window(now))
        if isinstance(backups, Unavailable):
            sections = rules.backup_sections(backups, day=day, total=0, backup_age=age)
        else:
            shops, total = backups
            sections = rules.backup_sections(shops, day=day, total=total, backup_age=age)
        return Report(
            "daily",
            f"Backups em {rules.fmt_date(day)} ({self._stage})",
            now,
            (*sections, rules.snapshot_section(snapshot)),
        )

    def weekly(self, now: datetime) -> Report:
        """The last week's performance, from the dashboard's metrics."""
        window = rules.weekly_window(now)
        dashboard = self._dashboard()
        readings = {s.name: self._read(dashboard, s, window) for s in rules.WEEKLY_SELECTIONS}
        return Report(
            "weekly",
            f"Desempenho da semana de {window.label} ({self._stage})",
            now,
            rules.weekly_sections(readings),
        )

    def monthly(self, now: datetime) -> Report:
        """The last month's capacity: the database and its growth, the busiest shops, Lambda's peaks."""
        window = rules.monthly_window(now)
        day = rules.local_day(now)
        today = self._guard("capacity snapshot", lambda: self._snapshot(day))
        before = self._guard(
            "capacity history", lambda: self._capacity_before(day - timedelta(days=rules.GROWTH_DAYS))
        )
        busiest = self._guard("busiest shops", lambda: self._busiest(window))
        dashboard = self._dashboard()
        concurrency: Readings
        if isinstance(dashboard, Unavailable):
            concurrency = dashboard
        else:
            concurrency = self._fetch(rules.concurrency_queries(dashboard), window)
        return Report(
            "monthly",
            f"Capacidade: {window.label} ({self._stage})",
            now,
            (
                rules.database_section(today, before),
                *rules.busiest_sections(busiest),
                rules.concurrency_section(concurrency),
            ),
        )

    def deliver(self, report: Report) -> Delivered:
        """Mail the report to ops, or log it when no recipient is configured."""
        logger.info("ops report", extra={"report": report.kind, "title": report.title, "text": report.text()})
        if not self._recipient:
            logger.info("ops report not mailed: OPS_REPORT_EMAIL is not set", extra={"report": report.kind})
            return Delivered(report, None, None)
        message_id = self._mail().send_platform(
            template="ops_report", to=self._recipient, context=report.context()
        )
        return Delivered(report, self._recipient, message_id)

    # --- the database -------------------------------------------------------------------------------
    def _snapshot(self, day: date) -> rules.CapacitySnapshot:
        with self._database.transaction() as conn:
            return reports_db.take_capacity_snapshot(conn, day)

    def _capacity_before(self, day: date) -> rules.CapacitySnapshot | None:
        with self._database.transaction() as conn:
            return reports_db.capacity_on_or_before(conn, day)

    def _backups(self) -> tuple[list[rules.BackupStatus], int]:
        with self._database.transaction() as conn:
            return reports_db.backup_status(conn, limit=rules.BACKUP_LIST_LIMIT)

    def _busiest(self, window: rules.Window) -> list[rules.ShopActivity]:
        with self._database.transaction() as conn:
            return reports_db.busiest_shops(conn, window.start, window.end, limit=rules.BUSIEST_SHOPS)

    # --- the dashboard's metrics --------------------------------------------------------------------
    def _dashboard(self) -> list[MetricQuery] | Unavailable:
        """The metrics the stage's dashboard draws, or why they could not be read."""
        try:
            return rules.parse_dashboard(self._metrics().dashboard_body(self._dashboard_name))
        except MetricsUnavailable as exc:
            reason = exc.reason
        except rules.DashboardUnreadable as exc:
            reason = str(exc)
        except Exception as exc:  # an unexpected failure is a line of the report, not a lost report
            logger.exception("dashboard not read")
            reason = _short(exc)
        return Unavailable(f"painel {self._dashboard_name} não lido: {reason}")

    def _read(
        self, dashboard: list[MetricQuery] | Unavailable, selection: Selection, window: rules.Window
    ) -> Readings:
        if isinstance(dashboard, Unavailable):
            return dashboard
        return self._fetch(selection.pick(dashboard), window)

    def _fetch(self, queries: Sequence[MetricQuery], window: rules.Window) -> Readings:
        """Each query's value over the window, in one request (a failure: the reason)."""
        if not queries:
            return {}
        try:
            points = self._metrics().fetch(
                queries, start=window.start, end=window.end, period_s=window.seconds
            )
        except MetricsUnavailable as exc:
            return Unavailable(exc.reason)
        except Exception as exc:  # as above: shown, never a lost report
            logger.exception("metrics not read")
            return Unavailable(_short(exc))
        return {q: rules.aggregate(q.stat, values) for q, values in zip(queries, points, strict=True)}

    def _guard(self, what: str, read: Callable[[], T]) -> T | Unavailable:
        """A database read whose failure becomes the section's reason (the other sections still go)."""
        try:
            return read()
        except Exception as exc:
            logger.exception("ops report: %s not read", what)
            return Unavailable(_short(exc))


def _short(exc: BaseException) -> str:
    """The exception's kind and first line (a database error's next lines quote the statement)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip().rstrip(":")[:_REASON_MAX]
