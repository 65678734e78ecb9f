"""The reports to ops (issue 13 §4), handler → service → the real PostgreSQL, with the dashboard's
metrics from a fake CloudWatch and the platform's mail caught by the fake SES sender: what ops read in
the daily backup status, the weekly performance summary and the monthly capacity report; the
capacity snapshot taken once a day; the busiest shops ranked; and every part that could not be read
said so in the report rather than left out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from assistec.domain.ops_reports import MetricQuery
from assistec.integrations.metrics import MetricsUnavailable
from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import Client, signup
from tests.integration.shop_helpers import open_order
from tests.support_ops_reports import small_dashboard

OPS = "ops@assistec.com.br"
DASHBOARD = "assistec-test"
CONTEXT = LambdaContext(function_name="assistec-ops-reports")
FUNCTIONS = {"API": "fn-api", "Payments consumer": "fn-consumer"}


@dataclass
class FakeMetrics:
    """CloudWatch's contract (``MetricsReader``): the dashboard's body, and each query's value by
    (metric, label); a metric named in ``failing`` fails its whole request, as GetMetricData does."""

    body: dict[str, Any] | None
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    fetches: list[tuple[list[MetricQuery], datetime, datetime, int]] = field(default_factory=list)

    def dashboard_body(self, name: str) -> str:
        if self.body is None:
            raise MetricsUnavailable(f"GetDashboard: ResourceNotFound: Dashboard {name} does not exist")
        return json.dumps(self.body)

    def fetch(self, queries: Any, *, start: datetime, end: datetime, period_s: int) -> list[list[float]]:
        self.fetches.append((list(queries), start, end, period_s))
        if failed := [q for q in queries if q.metric in self.failing]:
            raise MetricsUnavailable(f"GetMetricData: InternalError: {failed[0].stat}")
        return [
            [self.values[(q.metric, q.label)]] if (q.metric, q.label) in self.values else [] for q in queries
        ]


def dashboard() -> dict[str, Any]:
    return small_dashboard(api=DASHBOARD, functions=FUNCTIONS, queue="q-events", dlq="q-events-dlq")


@dataclass
class Reports:
    root: Any
    mailer: FakeMailer
    metrics: FakeMetrics

    def run(self, report: str, at: datetime) -> dict[str, Any]:
        from assistec.handlers import ops_reports

        # As EventBridge invokes it: the rule's input names the report and carries the event's time
        return ops_reports.handler({"report": report, "time": at.isoformat().replace("+00:00", "Z")}, CONTEXT)

    def mail(self) -> tuple[str, str, str]:
        assert len(self.mailer.sent) == 1, self.mailer.sent
        return self.mailer.sent[0]


def _install(database: PgDatabase, *, recipient: str | None, metrics: FakeMetrics) -> Reports:
    from assistec.settings import OpsReportSettings
    from assistec.wiring import ops_reports as wiring

    settings = OpsReportSettings(
        database_url=database.app_url,
        db_sslmode="disable",
        stage="test",
        dashboard_name=DASHBOARD,
        ops_report_email=recipient,
    )
    root = wiring.OpsReportsRoot(settings)
    root.mailer = FakeMailer()  # type: ignore[assignment]
    root.metrics = metrics  # type: ignore[assignment]
    wiring.install(root)
    return Reports(root, root.mailer, metrics)  # type: ignore[arg-type]


@pytest.fixture
def reports(database: PgDatabase) -> Iterator[Reports]:
    from assistec.wiring import ops_reports as wiring

    yield _install(database, recipient=OPS, metrics=FakeMetrics(dashboard()))
    wiring.install(None)


def _rows(output: dict[str, Any], heading: str) -> list[str]:
    found = [rows for h, rows in output["sections"] if h == heading]
    assert len(found) == 1, (heading, [h for h, _ in output["sections"]])
    return list(found[0])


def _text_lines(output: dict[str, Any]) -> list[str]:
    return [row for _, rows in output["sections"] for row in rows]


# --- weekly -----------------------------------------------------------------------------------------
MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # the rule's Monday, 09:00 in Brasília


def test_the_weekly_report_mails_ops_the_weeks_numbers_from_the_dashboards_metrics(reports: Reports) -> None:
    # Given the dashboard's metrics over the last week
    reports.metrics.values.update(
        {
            ("Latency", "Latency p99"): 812.0,
            ("Count", "Requests"): 250_000.0,
            ("4XXError", "4XX"): 2_500.0,
            ("5XXError", "5XX"): 25.0,
            ("Errors", "Payments consumer"): 4.0,
            ("Errors", "API"): 0.0,
            ("ApproximateAgeOfOldestMessage", "Payments/Events"): 200.0,
            ("ApproximateNumberOfMessagesVisible", "Payments/EventsDlq"): 3.0,
            ("WhatsappSendFailures", "Evolution: sends failed or unknown"): 17.0,
        }
    )
    # When Monday's rule runs the weekly report
    output = reports.run("weekly", MONDAY)
    # Then ops get one e-mail with the last whole week's numbers
    to, subject, text = reports.mail()
    assert to == OPS
    assert subject == "[assistec] Desempenho da semana de 23/11/2026 a 29/11/2026 (test)"
    assert output["mailed_to"] == OPS
    assert output["provider_message_id"] == "fake-0001@ses"
    assert _rows(output, "API (semana)") == [
        "Latency p99: 812 ms",
        "Requests: 250.000",
        "4XX: 2.500 (1,00% dos pedidos)",
        "5XX: 25 (0,01% dos pedidos)",
    ]
    assert _rows(output, "Funções: erros (semana)") == ["Payments consumer: 4", "demais 1: 0"]
    assert _rows(output, "Fluxos: execuções com falha, expiradas ou abortadas (semana)") == ["nenhuma"]
    assert _rows(output, "Filas: mensagem mais antiga (máximo da semana)") == ["Payments/Events: 3 min 20 s"]
    assert _rows(output, "Filas de falhas (DLQ): mensagens esperando (máximo da semana)") == [
        "Payments/EventsDlq: 3"
    ]
    assert _rows(output, "Provedores: erros (semana)") == [
        "Evolution: sends failed or unknown: 17",
        "demais 1: 0",
    ]
    # (the e-mail's text holds every line the handler returned)
    for line in _text_lines(output):
        assert line in text
    # And the metrics were read over the week, Monday 00:00 to Monday 00:00 in Brasília, one request
    # per section, the week as one period
    assert len(reports.metrics.fetches) == 7
    for _, start, end, period in reports.metrics.fetches:
        assert (start, end, period) == (
            datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
            datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
            7 * 86400,
        )
    fetched = {q.label for queries, *_ in reports.metrics.fetches for q in queries}
    assert "Latency p50" not in fetched  # the p99 the report shows, not the dashboard's p50


def test_a_metric_that_cannot_be_read_is_a_line_of_the_report_and_the_rest_stands(reports: Reports) -> None:
    # Given CloudWatch refusing the API's percentile (LocalStack does), the rest readable
    reports.metrics.failing.add("Latency")
    reports.metrics.values[("Count", "Requests")] = 10.0
    # When the weekly report runs
    output = reports.run("weekly", MONDAY)
    # Then the API's latency says why it is missing, and the requests are there
    assert _rows(output, "API (semana)")[:2] == [
        "latência p99: indisponível: GetMetricData: InternalError: p99",
        "Requests: 10",
    ]
    assert reports.mail()[0] == OPS


def test_without_the_dashboard_every_metric_section_says_so_and_the_report_still_goes(
    database: PgDatabase,
) -> None:
    from assistec.wiring import ops_reports as wiring

    # Given a stage whose dashboard does not exist (LocalStack's CloudFormation does not create it)
    reports = _install(database, recipient=OPS, metrics=FakeMetrics(None))
    try:
        # When the weekly report runs
        output = reports.run("weekly", MONDAY)
    finally:
        wiring.install(None)
    # Then every section says the dashboard could not be read, and why, and ops still get the e-mail
    missing = "GetDashboard: ResourceNotFound: Dashboard assistec-test does not exist"
    reason = f"painel assistec-test não lido: {missing}"
    lines = _text_lines(output)
    assert len(output["sections"]) == 6
    assert all(reason in line for line in lines), lines
    assert reason in reports.mail()[2]


def test_without_a_recipient_the_report_is_logged_not_mailed(
    database: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    from assistec.wiring import ops_reports as wiring

    # Given a stage with no alarm e-mail (OPS_REPORT_EMAIL unset)
    reports = _install(database, recipient=None, metrics=FakeMetrics(dashboard()))
    try:
        output = reports.run("weekly", MONDAY)
    finally:
        wiring.install(None)
    # Then nothing is sent, the handler says so, and the report's text is in the function's log
    assert reports.mailer.sent == []
    assert output["mailed_to"] is None
    [entry] = [r for r in caplog.records if r.getMessage() == "ops report"]
    assert entry.text.startswith("Desempenho da semana de 23/11/2026 a 29/11/2026 (test)\n")
    assert "== Provedores: erros (semana) ==" in entry.text
    assert any("OPS_REPORT_EMAIL is not set" in r.getMessage() for r in caplog.records)


def test_an_unknown_report_is_refused(reports: Reports) -> None:
    from assistec.handlers import ops_reports

    with pytest.raises(ValueError, match="unknown report"):
        ops_reports.handler({"report": "hourly"}, CONTEXT)
    assert reports.mailer.sent == []


# --- daily ------------------------------------------------------------------------------------------
def _snapshots(database: PgDatabase, *days: date) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(
            "select taken_on, database_bytes, shops, orders from capacity_snapshots "
            "where taken_on = any(%s) order by taken_on",
            (list(days),),
        ).fetchall()


def test_the_daily_run_takes_one_capacity_snapshot_a_day(
    reports: Reports, client: Client, database: PgDatabase
) -> None:
    # Given a day (in the past, so no other test's run took it)
    day = date(2025, 2, 10) + timedelta(days=uuid.uuid4().int % 1000)
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    # When the daily report runs, a shop signs up, and the run is repeated the same day
    first = reports.run("daily", at)
    signup(client)
    reports.run("daily", at + timedelta(minutes=5))
    # Then the day has one snapshot, the first run's
    [(taken_on, size, shops, orders)] = _snapshots(database, day)
    assert taken_on == day
    assert size > 0
    assert _rows(first, "Retrato de capacidade do dia") == [
        f"{day:%d/%m/%Y}: banco {_bytes(size)}, {shops} lojas, {_thousands(orders)} ordens de serviço"
    ]
    # And the next day's run takes the next day's, which counts the new shop
    reports.run("daily", at + timedelta(days=1))
    rows = _snapshots(database, day, day + timedelta(days=1))
    assert [r[0] for r in rows] == [day, day + timedelta(days=1)]
    assert rows[1][2] == shops + 1
    # And ops got the backup status each time, the day in its title
    assert [subject for _, subject, _ in reports.mailer.sent] == [
        f"[assistec] Backups em {d:%d/%m/%Y} (test)" for d in (day, day, day + timedelta(days=1))
    ]


def _bytes(size: int) -> str:
    from assistec.domain.ops_reports import fmt_bytes

    return fmt_bytes(size)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _backups_table_exists() -> bool:
    """Whether a migration creates backup_runs (the backup capability's, merged beside this one)."""
    from assistec.db.migrate import load_migrations

    return any("create table backup_runs" in m.sql for m in load_migrations())


@pytest.mark.skipif(
    not _backups_table_exists(),
    reason="backup_runs comes with the backup capability's migration (another branch); "
    "ops_backup_status (migration 0032) reads it once both are merged",
)
def test_the_daily_backup_status_lists_every_shop_failures_first(
    reports: Reports, client: Client, database: PgDatabase
) -> None:
    # Given shops whose latest backups stand differently on the report's day
    today = date(2026, 11, 24)
    good, failed, never, late = (signup(client, name=f"Loja {n} {uuid.uuid4().hex[:6]}") for n in "ABCD")
    cancelled = signup(client, name=f"Loja Cancelada {uuid.uuid4().hex[:6]}")
    ok_at = datetime(2026, 11, 22, 6, 10, tzinfo=UTC)

    def run(conn: psycopg.Connection[Any], shop: Any, day: date, status: str, **more: Any) -> None:
        finished = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6, minutes=10)
        ok = status == "ok"
        conn.execute(
            "insert into backup_runs (tenant_id, run_date, status, bundle_id, s3_key, bytes, rows, "
            "manifest_sha256, error, started_at, finished_at) "
            "values (%s, %s, %s, %s, %s, %s, 10, %s, %s, %s, %s)",
            (
                shop.tenant_id,
                day,
                status,
                uuid.uuid4() if ok else None,
                f"{shop.tenant_id}/{day}.tar" if ok else None,
                5 * 1024 * 1024 if ok else None,
                bytes(32) if ok else None,
                more.get("error"),
                finished - timedelta(minutes=1),
                finished,
            ),
        )

    with psycopg.connect(database.superuser_url) as conn:
        run(conn, good, today, "ok")
        run(conn, failed, date(2026, 11, 22), "ok")
        run(conn, failed, today, "failed", error="S3 indisponível")
        run(conn, late, date(2026, 11, 20), "ok")
        run(conn, cancelled, date(2026, 9, 1), "ok")
        conn.execute("update tenants set billing_status = 'cancelled' where id = %s", (cancelled.tenant_id,))
        conn.execute(
            "update tenant_subscriptions set cancelled_at = %s where tenant_id = %s",
            (datetime.now(UTC) - timedelta(days=40), cancelled.tenant_id),
        )
    # When the daily report runs that day
    output = reports.run("daily", datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    # Then each shop's latest backup is there, failures first, and the shop cancelled long ago is not
    problems = _rows(output, "Com problema")
    in_order = _rows(output, "Em dia")

    def line(rows: list[str], shop: Any) -> int:
        [index] = [i for i, r in enumerate(rows) if shop.tenant_id in r or _name(database, shop) in r]
        return index

    assert problems[line(problems, failed)] == (
        f"FALHOU — {_name(database, failed)} ({failed.tenant_id}) — 24/11/2026: S3 indisponível — "
        f"último backup bom: {ok_at.astimezone(_sp()):%d/%m/%Y %H:%M}"
    )
    assert line(problems, failed) < line(problems, never) < line(problems, late)
    assert problems[line(problems, never)].endswith("nenhum backup registrado")
    assert problems[line(problems, late)].startswith(f"ATRASADO — {_name(database, late)}")
    assert in_order[line(in_order, good)] == f"ok — {_name(database, good)} — 24/11/2026, 5,0 MB"
    text = reports.mail()[2]
    assert _name(database, cancelled) not in text
    assert text.index("FALHOU") < text.index(f"ok — {_name(database, good)}")


def _name(database: PgDatabase, shop: Any) -> str:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select name from tenants where id = %s", (shop.tenant_id,)).fetchone()
    assert row is not None
    return str(row[0])


def _sp() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Sao_Paulo")


# --- monthly ----------------------------------------------------------------------------------------
def _orders_in(database: PgDatabase, shop: Any, count: int, at: datetime) -> None:
    """``count`` orders of the shop created at ``at`` (copies of one opened through the API)."""
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "insert into service_orders (tenant_id, number, customer_id, device_id, reported_problem, "
            "tracking_token, created_at) "
            "select o.tenant_id, (select max(number) from service_orders where tenant_id = o.tenant_id) + g, "
            "o.customer_id, o.device_id, o.reported_problem, o.tracking_token || '-' || g || '-' || %s, %s "
            "from service_orders o, generate_series(1, %s) g "
            "where o.tenant_id = %s and o.number = 1",
            (uuid.uuid4().hex[:8], at, count, shop.tenant_id),
        )
        conn.execute("update order_counters set last_number = last_number + %s where tenant_id = %s",
                     (count, shop.tenant_id))  # fmt: skip


def _messages_in(database: PgDatabase, shop: Any, count: int, at: datetime) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        [(conversation,)] = conn.execute(
            "insert into wa_conversations (tenant_id, phone) values (%s, '5511955554444') returning id",
            (shop.tenant_id,),
        ).fetchall()
        conn.execute(
            "insert into wa_messages (tenant_id, conversation_id, direction, author, kind, body, status, "
            "created_at) "
            "select %s, %s, 'in', 'customer', 'text', 'oi', 'received', %s from generate_series(1, %s)",
            (shop.tenant_id, conversation, at, count),
        )


def test_the_monthly_report_shows_growth_busiest_shops_and_concurrency_peaks(
    reports: Reports, client: Client, database: PgDatabase
) -> None:
    # Given a month long past (no other test's activity in it): shops with orders and WhatsApp
    # messages in it, and one order just after it
    year = 2000 + uuid.uuid4().int % 20
    run_at = datetime(year, 4, 1, 12, 0, tzinfo=UTC)
    in_march = datetime(year, 3, 15, 15, 0, tzinfo=UTC)
    shops = {n: signup(client, name=f"Loja {n} {uuid.uuid4().hex[:6]}") for n in ("Alfa", "Beta", "Gama")}
    for shop in shops.values():
        open_order(client, shop)  # order 1, created today: outside the month
    _orders_in(database, shops["Alfa"], 3, in_march)
    _orders_in(database, shops["Beta"], 1, in_march)
    _orders_in(database, shops["Gama"], 2, in_march)
    _orders_in(database, shops["Gama"], 5, datetime(year, 4, 1, 3, 0, tzinfo=UTC))  # April in Brasília
    _messages_in(database, shops["Beta"], 6, in_march)
    _messages_in(database, shops["Alfa"], 1, datetime(year, 3, 1, 2, 59, tzinfo=UTC))  # Feb in Brasília
    # And a snapshot of 30 days before, and the month's concurrency peaks on the dashboard
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "insert into capacity_snapshots (taken_on, database_bytes, shops, orders) values (%s, %s, 0, 0)",
            (date(year, 3, 2), 10 * 1024**2),
        )
    reports.metrics.values.update(
        {
            ("ConcurrentExecutions", "Conta (todas as funções)"): 87.0,
            ("ConcurrentExecutions", "API"): 45.0,
            ("ConcurrentExecutions", "Payments consumer"): 60.0,
        }
    )
    # When the monthly rule runs on April 1st
    output = reports.run("monthly", run_at)
    # Then ops read March's capacity
    assert reports.mail()[1] == f"[assistec] Capacidade: março de {year} (test)"
    database_rows = _rows(output, "Banco de dados")
    [(_, size, shop_count, orders)] = _snapshots(database, date(year, 4, 1))
    assert database_rows[0] == f"tamanho em 01/04/{year}: {_bytes(size)}"
    assert database_rows[2] == f"há 30 dias (02/03/{year}): 10,0 MB"
    assert database_rows[3].startswith(f"crescimento: +{_bytes(size - 10 * 1024**2)} (+")
    assert database_rows[4] == f"lojas: +{shop_count}; ordens de serviço: +{_thousands(orders)}"
    # And the busiest shops of March, by orders and by messages
    by_orders = _rows(output, "Lojas com mais ordens de serviço no mês")
    assert [r.split(" (")[0] for r in by_orders] == [
        f"1. {_name(database, shops['Alfa'])}",
        f"2. {_name(database, shops['Gama'])}",
        f"3. {_name(database, shops['Beta'])}",
    ]
    assert by_orders[0].endswith(": 3 OS, 0 mensagens")  # the message of February does not count
    by_messages = _rows(output, "Lojas com mais mensagens de WhatsApp no mês")
    assert by_messages == [
        f"1. {_name(database, shops['Beta'])} ({shops['Beta'].tenant_id}): 1 OS, 6 mensagens"
    ]
    # And the concurrency peaks of the account and of each function the dashboard draws, over March
    assert _rows(output, "Lambda: pico de execuções simultâneas no mês") == [
        "Conta (todas as funções): 87",
        "Payments consumer: 60",
        "API: 45",
    ]
    [(queries, start, end, _)] = reports.metrics.fetches
    assert {q.metric for q in queries} == {"ConcurrentExecutions"}
    assert (start, end) == (datetime(year, 3, 1, 3, 0, tzinfo=UTC), datetime(year, 4, 1, 3, 0, tzinfo=UTC))


def test_without_a_snapshot_30_days_old_the_growth_says_there_is_no_history_yet(reports: Reports) -> None:
    output = reports.run("monthly", datetime(1990 + uuid.uuid4().int % 9, 7, 1, 12, 0, tzinfo=UTC))
    assert _rows(output, "Banco de dados")[-1] == (
        "crescimento: sem histórico ainda (nenhum retrato de 30 dias atrás)"
    )


# --- least privilege --------------------------------------------------------------------------------
def test_the_app_role_reaches_the_reports_data_only_through_the_definer_functions(
    database: PgDatabase, client: Client
) -> None:
    # Given a shop with an order
    shop = signup(client)
    open_order(client, shop)
    with psycopg.connect(database.app_url, autocommit=True, prepare_threshold=None) as conn:
        # The app role may neither read nor write the snapshots itself
        for statement in (
            "select count(*) from capacity_snapshots",
            "insert into capacity_snapshots (taken_on, database_bytes, shops, orders) "
            "values ('1970-01-01', 1, 1, 1)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # Nor count the shops' orders outside a shop's transaction (row-level security shows none)
        assert conn.execute("select count(*) from service_orders").fetchone() == (0,)
        # Through the definer function it reads counts per shop, nothing else of them
        rows = conn.execute(
            "select * from ops_busiest_shops(now() - interval '1 hour', now() + interval '1 hour', 1000)"
        ).fetchall()
    assert any(str(r[0]) == shop.tenant_id and r[2] >= 1 for r in rows)
