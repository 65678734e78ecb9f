"""A small dashboard shaped like the stage's (dashboard.py's titles, rows and options), for the reports
to ops' integration and e2e tests: the API's latency and errors, two functions, a flow, a queue and
its dead-letter queue, the providers' errors and the backup's age."""

from __future__ import annotations

from typing import Any

APP_NAMESPACE = "Assistec"
PROVIDERS_TITLE = "Providers' errors (Asaas, Evolution, Google)"


def row(namespace: str, metric: str, dims: dict[str, str], label: str, stat: str, **more: Any) -> list[Any]:
    """A graph's metric row as CDK writes it: namespace, name, dimensions, then the options."""
    return [
        namespace,
        metric,
        *(x for pair in dims.items() for x in pair),
        {"label": label, "stat": stat, **more},
    ]


def graph(title: str, *rows: list[Any]) -> dict[str, Any]:
    return {"type": "metric", "width": 8, "height": 6, "properties": {"title": title, "metrics": list(rows)}}


def small_dashboard(
    *, api: str, functions: dict[str, str], queue: str, dlq: str, app_namespace: str = APP_NAMESPACE
) -> dict[str, Any]:
    """``functions``: label → function name."""
    api_dims = {"ApiName": api}
    app = {"service": "assistec"}
    return {
        "widgets": [
            {"type": "text", "width": 24, "height": 2, "properties": {"markdown": "# assistec test"}},
            graph(
                "API latency (ms)",
                row("AWS/ApiGateway", "Latency", api_dims, "Latency p50", "p50"),
                row("AWS/ApiGateway", "Latency", api_dims, "Latency p99", "p99"),
            ),
            graph("API requests", row("AWS/ApiGateway", "Count", api_dims, "Requests", "Sum")),
            graph(
                "API errors",
                row("AWS/ApiGateway", "4XXError", api_dims, "4XX", "Sum"),
                row("AWS/ApiGateway", "5XXError", api_dims, "5XX", "Sum"),
            ),
            graph(
                "Functions: errors",
                *(
                    row("AWS/Lambda", "Errors", {"FunctionName": f}, label, "Sum")
                    for label, f in functions.items()
                ),
            ),
            graph(
                "Flows: executions failed, timed out, aborted",
                row(
                    "AWS/States",
                    "ExecutionsFailed",
                    {"StateMachineArn": "arn:flow"},
                    "PaymentFlow failed",
                    "Sum",
                ),
            ),
            graph(
                "Queues: oldest message (s)",
                row(
                    "AWS/SQS",
                    "ApproximateAgeOfOldestMessage",
                    {"QueueName": queue},
                    "Payments/Events",
                    "Maximum",
                ),
            ),
            graph(
                "Dead-letter queues: messages waiting",
                row(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    {"QueueName": dlq},
                    "Payments/EventsDlq",
                    "Maximum",
                ),
            ),
            graph(
                PROVIDERS_TITLE,
                row(
                    app_namespace,
                    "ReconciliationErrors",
                    app,
                    "Asaas or database: shops reconciliation failed",
                    "Sum",
                ),
                row(app_namespace, "WhatsappSendFailures", app, "Evolution: sends failed or unknown", "Sum"),
            ),
            graph(
                "Backup age (hours)",
                row(
                    app_namespace,
                    "BackupAgeHours",
                    app,
                    "Newest backup's age (hours)",
                    "Maximum",
                    period=3600,
                ),
            ),
        ]
    }
