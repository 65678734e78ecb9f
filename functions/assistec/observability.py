"""The single Logger and Metrics of the package, and a Tracer created only when asked for.

Powertools' Tracer imports aws_xray_sdk (~0.5 s) even when disabled, so it is never built at import
time; handlers that want it call ``tracer()``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="assistec")
metrics = Metrics(service="assistec")


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service="assistec")


def correlation_id() -> str | None:
    """The correlation id of the request (or flow) being served: audit rows and errors carry it."""
    return logger.get_correlation_id()
