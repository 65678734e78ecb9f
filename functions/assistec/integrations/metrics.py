"""CloudWatch, read-only: a dashboard's body (GetDashboard) and metrics' values over a window
(GetMetricData), for the reports to ops.

Every failure is a ``MetricsUnavailable`` with a short reason (the API's error code and message):
the reports show it in the section that needed the numbers. Reads only, so retrying is free (the
client's standard retries). boto3 loads, and the client is built, on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from assistec.domain.ops_reports import MetricQuery

# GetMetricData's limit of queries per request.
QUERIES_PER_REQUEST = 500
_REASON_MAX = 300


class MetricsUnavailable(Exception):
    """CloudWatch did not answer what was asked; ``reason`` says why (for ops, never a credential)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:_REASON_MAX]


class MetricsReader(Protocol):
    def dashboard_body(self, name: str) -> str:
        """The dashboard's body (its JSON text)."""
        ...

    def fetch(
        self, queries: Sequence[MetricQuery], *, start: datetime, end: datetime, period_s: int
    ) -> list[list[float]]:
        """Each query's data points in [start, end) at ``period_s``, in the queries' order."""
        ...


class CloudWatchMetrics:
    """The reader on boto3's CloudWatch client (the function's region; LocalStack's endpoint
    locally, from the environment)."""

    def __init__(self) -> None:
        self._client: Any = None

    def _cloudwatch(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "cloudwatch",
                config=Config(
                    connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
                ),
            )
        return self._client

    def dashboard_body(self, name: str) -> str:
        answer = self._call("get_dashboard", DashboardName=name)
        body = answer.get("DashboardBody")
        if not isinstance(body, str):
            raise MetricsUnavailable(f"GetDashboard: o painel {name} veio sem corpo")
        return body

    def fetch(
        self, queries: Sequence[MetricQuery], *, start: datetime, end: datetime, period_s: int
    ) -> list[list[float]]:
        values: list[list[float]] = [[] for _ in queries]
        for first in range(0, len(queries), QUERIES_PER_REQUEST):
            chunk = queries[first : first + QUERIES_PER_REQUEST]
            request: dict[str, Any] = {
                "MetricDataQueries": [
                    {
                        "Id": f"m{first + n}",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": q.namespace,
                                "MetricName": q.metric,
                                "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions],
                            },
                            "Period": period_s,
                            "Stat": q.stat,
                        },
                        "ReturnData": True,
                    }
                    for n, q in enumerate(chunk)
                ],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            while True:
                answer = self._call("get_metric_data", **request)
                for result in answer.get("MetricDataResults", []):
                    if result.get("StatusCode") in ("InternalError", "Forbidden"):
                        messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
                        raise MetricsUnavailable(
                            f"GetMetricData: {result['StatusCode']} em {result.get('Label') or result['Id']}"
                            + (f" ({messages})" if messages else "")
                        )
                    values[int(str(result["Id"])[1:])].extend(float(v) for v in result.get("Values", []))
                token = answer.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        return values

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._cloudwatch(), operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise MetricsUnavailable(
                f"{exc.operation_name}: {error.get('Code', 'erro')}: {error.get('Message', '')}".rstrip(": ")
            ) from exc
        except BotoCoreError as exc:
            raise MetricsUnavailable(f"{type(exc).__name__}: {exc}") from exc
