"""The reports to ops as pure rules (domain/ops_reports.py): the dashboard's body read into metric
queries, which metrics each section reads, the reports' windows, pt-BR numbers, and the sections built
from numbers (failures first, honest when something could not be read). The body parsed here is rows
of the real dashboard's, as CDK writes them; tests/infra/test_ops_reports.py parses the synthesized
dashboard itself."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.domain import ops_reports as rules
from assistec.domain.ops_reports import BackupStatus, CapacitySnapshot, MetricQuery, ShopActivity, Unavailable


def row(
    namespace: str, metric: str, dimension: str, value: str, label: str, stat: str, **more: Any
) -> list[Any]:
    """A graph's metric row as CDK writes it: the dimension, then the options."""
    return [namespace, metric, dimension, value, {"label": label, "stat": stat, **more}]


def graph(title: str, *rows: list[Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {"title": title, "region": "sa-east-1", "metrics": list(rows), **more},
    }


API = ("AWS/ApiGateway", "Latency", "ApiName", "assistec-prod")
# Rows as dashboard.py's graphs emit them (copied from the synthesized prod template, references as
# placeholder names), plus the text and alarm widgets the parser must pass over.
BODY: dict[str, Any] = {
    "widgets": [
        {"type": "text", "properties": {"markdown": "# assistec prod"}},
        {"type": "alarm", "properties": {"title": "Alarms", "alarms": ["arn:alarm"]}},
        graph("API latency (ms)", row(*API, "Latency p50", "p50"), row(*API, "Latency p99", "p99")),
        graph(
            "API errors",
            row("AWS/ApiGateway", "4XXError", "ApiName", "assistec-prod", "4XX", "Sum"),
            row("AWS/ApiGateway", "5XXError", "ApiName", "assistec-prod", "5XX", "Sum"),
        ),
        graph(
            "Functions: errors",
            row("AWS/Lambda", "Errors", "FunctionName", "fn-api", "API", "Sum"),
            row("AWS/Lambda", "Errors", "FunctionName", "fn-relay", "Outbox relay", "Sum"),
        ),
        graph(
            "Functions: duration p99 (ms)",
            row("AWS/Lambda", "Duration", "FunctionName", "fn-api", "API", "p99"),
        ),
        graph(
            "Providers' errors (Asaas, Evolution, Google)",
            row(
                "Assistec",
                "ReconciliationErrors",
                "service",
                "assistec",
                "Asaas: reconciliation failed",
                "Sum",
            ),
            row("Assistec", "WhatsappSendFailures", "service", "assistec", "Evolution: sends failed", "Sum"),
        ),
        graph(
            "Reconciliation (hourly)",
            row(
                "Assistec", "ReconciliationErrors", "service", "assistec", "Shops failed", "Sum", period=3600
            ),
            start="-P14D",
        ),
        graph(
            "Backup age (hours)",
            row("Assistec", "BackupAgeHours", "service", "assistec", "Backup age", "Maximum", period=3600),
        ),
    ]
}


def test_the_dashboards_graphs_become_metric_queries_in_their_order() -> None:
    # Given the dashboard's body, as GetDashboard returns it (JSON text)
    # When it is parsed
    queries = rules.parse_dashboard(json.dumps(BODY))
    # Then every graphed metric is a query, text and alarm widgets aside, with its statistic and label
    assert len(queries) == 11
    p99 = queries[1]
    assert (p99.namespace, p99.metric, p99.dimensions, p99.stat, p99.label, p99.widget) == (
        "AWS/ApiGateway",
        "Latency",
        (("ApiName", "assistec-prod"),),
        "p99",
        "Latency p99",
        "API latency (ms)",
    )
    assert queries[5].dimension("FunctionName") == "fn-relay"


def test_the_consoles_shorthands_and_the_widgets_defaults_are_understood() -> None:
    # Given a graph written in the console: "." repeats the previous row's item, a leading "..." the
    # previous row's items up to those given; no options: the widget's stat; an expression row
    body = {
        "widgets": [
            {
                "type": "metric",
                "properties": {
                    "title": "Queues",
                    "stat": "Maximum",
                    "metrics": [
                        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "q-one"],
                        [".", ".", ".", "q-two", {"label": "Two"}],
                        ["...", "q-three"],
                        [".", "ApproximateNumberOfMessagesVisible", ".", "."],
                        [{"expression": "m1+m2", "label": "sum"}],
                    ],
                },
            }
        ]
    }
    # When it is parsed
    queries = rules.parse_dashboard(body)
    # Then each row is a whole metric
    assert [(q.metric, q.dimension("QueueName"), q.stat, q.label) for q in queries] == [
        ("ApproximateAgeOfOldestMessage", "q-one", "Maximum", "ApproximateAgeOfOldestMessage q-one"),
        ("ApproximateAgeOfOldestMessage", "q-two", "Maximum", "Two"),
        ("ApproximateAgeOfOldestMessage", "q-three", "Maximum", "ApproximateAgeOfOldestMessage q-three"),
        (
            "ApproximateNumberOfMessagesVisible",
            "q-three",
            "Maximum",
            "ApproximateNumberOfMessagesVisible q-three",
        ),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        '{"widgets": {}}',
        {"widgets": [{"type": "metric", "properties": {"metrics": [["AWS/SQS", "Age", "QueueName"]]}}]},
        {"widgets": [{"type": "metric", "properties": {"metrics": [[".", "Age"]]}}]},
        {"widgets": [{"type": "metric", "properties": {"metrics": [["AWS/SQS", 3]]}}]},
    ],
)
def test_a_body_that_is_no_dashboards_is_refused_not_read_as_empty(body: Any) -> None:
    with pytest.raises(rules.DashboardUnreadable):
        rules.parse_dashboard(body)


def test_each_section_picks_its_metrics_once() -> None:
    queries = rules.parse_dashboard(BODY)
    # The API's p99 (not its p50), the functions' errors (not their durations)
    assert [q.label for q in rules.API_LATENCY.pick(queries)] == ["Latency p99"]
    assert [q.label for q in rules.FUNCTION_ERRORS.pick(queries)] == ["API", "Outbox relay"]
    # The providers' errors: the widget's, though ReconciliationErrors is drawn again elsewhere
    assert [q.metric for q in rules.PROVIDER_ERRORS.pick(queries)] == [
        "ReconciliationErrors",
        "WhatsappSendFailures",
    ]
    assert [q.label for q in rules.BACKUP_AGE.pick(queries)] == ["Backup age"]
    # The same data drawn twice is fetched once
    assert len(rules.API_TRAFFIC.pick([*queries, *queries])) == 2


def test_concurrency_peaks_are_asked_for_the_account_and_every_function_drawn() -> None:
    found = rules.concurrency_queries(rules.parse_dashboard(BODY))
    assert [(q.metric, q.dimensions, q.stat, q.label) for q in found] == [
        ("ConcurrentExecutions", (), "Maximum", rules.ACCOUNT_CONCURRENCY_LABEL),
        ("ConcurrentExecutions", (("FunctionName", "fn-api"),), "Maximum", "API"),
        ("ConcurrentExecutions", (("FunctionName", "fn-relay"),), "Maximum", "Outbox relay"),
    ]


@pytest.mark.parametrize(
    ("stat", "values", "expected"),
    [
        ("Sum", [1.0, 2.0, 3.0], 6.0),
        ("Maximum", [5.0, 9.0], 9.0),
        ("Minimum", [5.0, 9.0], 5.0),
        ("p99", [120.0, 480.0], 480.0),
        ("Sum", [], None),
    ],
)
def test_one_number_per_window(stat: str, values: list[float], expected: float | None) -> None:
    assert rules.aggregate(stat, values) == expected


# --- windows --------------------------------------------------------------------------------------
def test_the_weekly_window_is_last_monday_to_sunday_in_sao_paulo() -> None:
    # The rule runs on Mondays at 12:00 UTC (09:00 in Brasília)
    window = rules.weekly_window(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert window.start == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert window.label == "23/11/2026 a 29/11/2026"
    assert window.seconds == 7 * 86400


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 (hypothesis's bounds are naive; the values get UTC)
        max_value=datetime(2035, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_every_window_is_whole_days_and_ends_before_the_run(now: datetime) -> None:
    for window in (rules.weekly_window(now), rules.monthly_window(now)):
        assert window.start < window.end <= now
        assert window.seconds % 86400 == 0  # Brazil keeps no daylight saving time since 2019
        assert window.start.astimezone(rules.SAO_PAULO).hour == 0
    # A run on any day of a week reports the same (previous) week
    weekly = rules.weekly_window(now)
    assert weekly.start.astimezone(rules.SAO_PAULO).weekday() == 0
    assert now - weekly.end < timedelta(days=7)


def test_the_monthly_window_is_last_calendar_month_across_the_year() -> None:
    window = rules.monthly_window(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    assert (window.start, window.end) == (
        datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 3, 0, tzinfo=UTC),
    )
    assert window.label == "dezembro de 2026"
    # Just after midnight UTC on the 1st it is still the last day of the month in Brasília
    assert rules.monthly_window(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)).label == "outubro de 2026"


def test_the_daily_window_is_the_24_hours_before_the_run() -> None:
    window = rules.daily_window(datetime(2026, 11, 24, 12, 0, 41, tzinfo=UTC))
    assert (window.start, window.end) == (
        datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
    )


# --- pt-BR numbers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (rules.fmt_int(0), "0"),
        (rules.fmt_int(1234567), "1.234.567"),
        (rules.fmt_int(999.6), "1.000"),
        (rules.fmt_decimal(1234.56, 1), "1.234,6"),
        (rules.fmt_decimal(0.5, 2), "0,50"),
        (rules.fmt_percent(1, 400), "0,25%"),
        (rules.fmt_percent(3, 0), "-"),
        (rules.fmt_bytes(512), "512 bytes"),
        (rules.fmt_bytes(1536 * 1024), "1,5 MB"),
        (rules.fmt_bytes(12.4 * 1024**3), "12,4 GB"),
        (rules.fmt_bytes(-2048), "-2,0 kB"),
        (rules.fmt_duration(45), "45 s"),
        (rules.fmt_duration(200), "3 min 20 s"),
        (rules.fmt_duration(7500), "2 h 05 min"),
        (rules.fmt_duration(100000), "1 d 03 h"),
        (rules.fmt_date(date(2026, 3, 5)), "05/03/2026"),
        (rules.fmt_datetime(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)), "24/11/2026 09:00"),
    ],
)
def test_numbers_read_as_in_brazil(text: str, expected: str) -> None:
    assert text == expected


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_thousands_are_dots_and_nothing_else_changes(n: int) -> None:
    text = rules.fmt_int(n)
    assert int(text.replace(".", "")) == n
    assert all(len(group) == 3 for group in text.lstrip("-").split(".")[1:])


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(min_value=1, max_value=3))
def test_decimals_take_a_comma(value: float, places: int) -> None:
    text = rules.fmt_decimal(value, places)
    whole, decimals = text.rsplit(",", 1)
    assert len(decimals) == places
    assert abs(float(f"{whole.replace('.', '')}.{decimals}") - value) <= 10**-places


# --- daily: backups -------------------------------------------------------------------------------
DAY = date(2026, 11, 24)


def shop(name: str, **kwargs: Any) -> BackupStatus:
    values: dict[str, Any] = {
        "tenant_id": uuid.uuid4(),
        "shop_name": name,
        "run_date": DAY,
        "status": "ok",
        "bytes": 12 * 1024 * 1024,
        "error": None,
        "last_ok_at": datetime(2026, 11, 24, 6, 12, tzinfo=UTC),
    }
    values.update(kwargs)
    return BackupStatus(**values)


ROWS = [
    shop("Zeta Celulares"),
    shop("Alfa Consertos", run_date=DAY - timedelta(days=1)),  # yesterday's: still on time
    shop("Beta Eletrônicos", status="failed", error="S3 indisponível", last_ok_at=datetime(2026, 11, 22, 6, tzinfo=UTC)),  # noqa: E501
    shop("Gama Info", run_date=DAY - timedelta(days=3), last_ok_at=datetime(2026, 11, 21, 6, tzinfo=UTC)),
    shop("Delta Cell", run_date=None, status=None, bytes=None, last_ok_at=None),
    shop("Épsilon", status="failed", error="tempo esgotado", last_ok_at=None),
    shop("Eta", restore_checked_at=datetime(2026, 11, 23, 5, tzinfo=UTC), restore_error="manifesto difere"),
]  # fmt: skip


def test_failures_come_first_then_missing_late_and_broken_restores() -> None:
    ordered = rules.order_backups(ROWS, DAY)
    assert [(state, s.shop_name) for state, s in ordered] == [
        ("failed", "Épsilon"),  # never had a good bundle: the longest without one
        ("failed", "Beta Eletrônicos"),
        ("missing", "Delta Cell"),
        ("late", "Gama Info"),
        ("restore_failed", "Eta"),
        ("ok", "Alfa Consertos"),
        ("ok", "Zeta Celulares"),
    ]


@given(
    st.lists(
        st.builds(
            shop,
            st.text(min_size=2, max_size=8),
            run_date=st.one_of(st.none(), st.dates(min_value=DAY - timedelta(days=10), max_value=DAY)),
            status=st.sampled_from([None, "ok", "failed"]),
            restore_error=st.sampled_from([None, "difere"]),
        ),
        max_size=12,
    )
)
def test_no_shop_with_a_problem_is_ever_listed_after_a_good_one(shops: list[BackupStatus]) -> None:
    states = [state for state, _ in rules.order_backups(shops, DAY)]
    ranks = [rules.BACKUP_STATES.index(s) for s in states]
    assert ranks == sorted(ranks)
    assert len(states) == len(shops)


def test_the_daily_status_summarizes_then_lists_problems_then_good_shops() -> None:
    # Given the shops' rows (of 9 shops, the list was cut at 7) and the dashboard's backup age
    age = {MetricQuery("Assistec", "BackupAgeHours", (), "Maximum", "age"): 27.25}
    sections = rules.backup_sections(ROWS, day=DAY, total=9, backup_age=age)
    # Then the summary counts each state and says the list was cut
    summary, problems, good = sections
    assert summary.heading == "Resumo"
    assert summary.rows == (
        "lojas: 9",
        "com falha: 2",
        "sem backup ainda: 1",
        "atrasadas (último backup antes de 23/11/2026): 1",
        "teste de restauração com erro: 1",
        "em dia: 2",
        "mostrando 7 de 9 lojas (as com problema primeiro)",
        "BackupAgeHours no painel (máximo em 24 h): 27,2 h",
    )
    # And a failure says when, why and the last good bundle, with the shop's id for ops to act on
    beta = next(s for s in ROWS if s.shop_name == "Beta Eletrônicos")
    assert problems.rows[1] == (
        f"FALHOU — Beta Eletrônicos ({beta.tenant_id}) — 24/11/2026: S3 indisponível — "
        "último backup bom: 22/11/2026 03:00"
    )
    assert problems.rows[0].endswith("tempo esgotado — nenhum backup bom ainda")
    assert problems.rows[2].endswith("nenhum backup registrado")
    assert problems.rows[3].startswith("ATRASADO — Gama Info")
    assert problems.rows[4].endswith("teste de 23/11/2026 02:00: manifesto difere")
    assert good.rows == (
        "ok — Alfa Consertos — 23/11/2026, 12,0 MB",
        "ok — Zeta Celulares — 24/11/2026, 12,0 MB",
    )


def test_the_daily_status_says_what_it_could_not_read() -> None:
    sections = rules.backup_sections(
        Unavailable('UndefinedTable: relation "backup_runs" does not exist'),
        day=DAY,
        total=0,
        backup_age=Unavailable("painel assistec-local não lido: ResourceNotFound"),
    )
    assert sections == (
        rules.Section(
            "Resumo",
            (
                'indisponível: UndefinedTable: relation "backup_runs" does not exist',
                "BackupAgeHours no painel (máximo em 24 h): indisponível: painel assistec-local não lido: "
                "ResourceNotFound",
            ),
        ),
    )
    # No metric on the dashboard, or no data point: said too
    [summary, *_] = rules.backup_sections([], day=DAY, total=0, backup_age={})
    assert summary.rows[-1] == (
        "BackupAgeHours no painel (máximo em 24 h): "
        "nenhuma métrica Assistec BackupAgeHours (Maximum) no painel"
    )
    [summary, problems, good] = rules.backup_sections(
        [], day=DAY, total=0, backup_age={MetricQuery("A", "BackupAgeHours", (), "Maximum", "x"): None}
    )
    assert summary.rows[-1].endswith(": sem dados")
    assert problems.rows == good.rows == ("nenhuma loja",)


# --- weekly -----------------------------------------------------------------------------------------
def q(metric: str, label: str, stat: str = "Sum", namespace: str = "AWS/ApiGateway") -> MetricQuery:
    return MetricQuery(namespace, metric, (("ApiName", "assistec-prod"),), stat, label)


def test_the_api_section_shows_p99_and_errors_as_a_share_of_requests() -> None:
    section = rules.api_section(
        {
            q("Latency", "Latency p99", "p99"): 412.4,
            q("IntegrationLatency", "Integration latency p99", "p99"): None,
        },
        {q("Count", "Requests"): 120000.0, q("4XXError", "4XX"): 1200.0, q("5XXError", "5XX"): 12.0},
    )
    assert section.rows == (
        "Latency p99: 412 ms",
        "Integration latency p99: sem dados",
        "Requests: 120.000",
        "4XX: 1.200 (1,00% dos pedidos)",
        "5XX: 12 (0,01% dos pedidos)",
    )


def test_a_weekly_section_that_could_not_be_read_says_why_and_the_others_stand() -> None:
    sections = rules.weekly_sections(
        {
            "api_latency": Unavailable("GetMetricData: InternalError: p99"),
            "api_traffic": {q("Count", "Requests"): 10.0, q("5XXError", "5XX"): 0.0},
            "function_errors": {
                q("Errors", "API", namespace="AWS/Lambda"): 3.0,
                q("Errors", "Relay", namespace="AWS/Lambda"): 0.0,
                q("Errors", "Consumer", namespace="AWS/Lambda"): 7.0,
            },
            "flow_failures": {q("ExecutionsFailed", "PaymentFlow failed", namespace="AWS/States"): None},
            "queue_ages": {
                q("ApproximateAgeOfOldestMessage", "Payments/Events", "Maximum", "AWS/SQS"): 200.0,
                q("ApproximateAgeOfOldestMessage", "Whatsapp/Send", "Maximum", "AWS/SQS"): 7500.0,
            },
            "dlq_depths": {
                q("ApproximateNumberOfMessagesVisible", "Payments/EventsDlq", "Maximum", "AWS/SQS"): 0.0
            },
            "provider_errors": {},
        }
    )
    by_heading = {s.heading: s.rows for s in sections}
    assert by_heading["API (semana)"] == (
        "latência p99: indisponível: GetMetricData: InternalError: p99",
        "Requests: 10",
        "5XX: 0 (0,00% dos pedidos)",
    )
    assert by_heading["Funções: erros (semana)"] == ("Consumer: 7", "API: 3", "demais 1: 0")
    assert by_heading["Fluxos: execuções com falha, expiradas ou abortadas (semana)"] == ("nenhuma",)
    assert by_heading["Filas: mensagem mais antiga (máximo da semana)"] == (
        "Whatsapp/Send: 2 h 05 min",
        "Payments/Events: 3 min 20 s",
    )
    assert by_heading["Filas de falhas (DLQ): mensagens esperando (máximo da semana)"] == ("todas vazias",)
    assert by_heading["Provedores: erros (semana)"] == (
        'nenhuma métrica do gráfico "Providers\' errors" no painel',
    )


# --- monthly ----------------------------------------------------------------------------------------
GB = 1024**3


def test_the_database_section_shows_size_and_growth_over_30_days() -> None:
    today = CapacitySnapshot(date(2026, 12, 1), int(12.5 * GB), 420, 123456)
    before = CapacitySnapshot(date(2026, 11, 1), int(11 * GB), 400, 110000)
    section = rules.database_section(today, before)
    assert section.rows == (
        "tamanho em 01/12/2026: 12,5 GB",
        "lojas: 420; ordens de serviço: 123.456",
        "há 30 dias (01/11/2026): 11,0 GB",
        "crescimento: +1,5 GB (+13,64%) em 30 dias, +51,2 MB por dia",
        "lojas: +20; ordens de serviço: +13.456",
    )


def test_without_an_old_enough_snapshot_the_growth_says_there_is_no_history_yet() -> None:
    today = CapacitySnapshot(date(2026, 12, 1), GB, 3, 10)
    assert rules.database_section(today, None).rows[-1] == (
        "crescimento: sem histórico ainda (nenhum retrato de 30 dias atrás)"
    )
    assert rules.database_section(Unavailable("DatabaseUnavailableError: timeout"), None).rows == (
        "indisponível: DatabaseUnavailableError: timeout",
    )


def test_the_busiest_shops_are_ranked_by_orders_and_by_messages() -> None:
    a, b, c = (ShopActivity(uuid.UUID(int=n), name, o, m) for n, name, o, m in (
        (1, "Alfa", 30, 5), (2, "Beta", 10, 900), (3, "Gama", 0, 40)))  # fmt: skip
    by_orders, by_messages = rules.busiest_sections([c, b, a], limit=2)
    assert by_orders.rows == (
        f"1. Alfa ({a.tenant_id}): 30 OS, 5 mensagens",
        f"2. Beta ({b.tenant_id}): 10 OS, 900 mensagens",
    )
    assert [row.split(" (")[0] for row in by_messages.rows] == ["1. Beta", "2. Gama"]
    assert rules.busiest_sections([])[0].rows == ("nenhuma atividade no mês",)


def test_concurrency_peaks_show_the_account_then_functions_busiest_first() -> None:
    account = MetricQuery("AWS/Lambda", "ConcurrentExecutions", (), "Maximum", "Conta (todas as funções)")
    api = MetricQuery("AWS/Lambda", "ConcurrentExecutions", (("FunctionName", "a"),), "Maximum", "API")
    relay = MetricQuery("AWS/Lambda", "ConcurrentExecutions", (("FunctionName", "r"),), "Maximum", "Relay")
    section = rules.concurrency_section({account: 87.0, relay: 2.0, api: 45.0})
    assert section.rows == ("Conta (todas as funções): 87", "API: 45", "Relay: 2")
    assert rules.concurrency_section(Unavailable("x")).rows == ("indisponível: x",)


def test_a_report_renders_through_the_ops_report_template() -> None:
    from assistec.services.email.templates import render

    # Given a report
    report = rules.Report(
        "daily",
        "Backups em 24/11/2026 (prod)",
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        rules.backup_sections(ROWS, day=DAY, total=7, backup_age=Unavailable("sem painel")),
    )
    # When it is rendered as the ops e-mail
    rendered = render("ops_report", report.context())
    # Then the subject is the title and the text holds every section's lines
    assert rendered.subject == "[assistec] Backups em 24/11/2026 (prod)"
    assert "Gerado em 24/11/2026 09:00." in rendered.text
    for section in report.sections:
        assert f"== {section.heading} ==" in rendered.text
        for row in section.rows:
            assert row in rendered.text
    assert rendered.text.index("FALHOU") < rendered.text.index("ok — Alfa Consertos")
    assert report.text().splitlines()[:2] == ["Backups em 24/11/2026 (prod)", "Gerado em 24/11/2026 09:00."]
