"""Schemathesis hooks for the e2e run (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import requests
import schemathesis

# LocalStack's API Gateway emulator answers some malformed requests itself with a 500 whose body
# starts like this (non-UTF-8 bodies, multipart without a boundary) before our Lambda is reached.
# In AWS those requests reach the function, whose answers (415, 422) the integration tests check.
LOCALSTACK_EMULATOR_ERROR = "Error in apigateway invocation"

# API Gateway (REST) refuses a request whose request line and header values together exceed
# 10,240 bytes before any function sees it. The fuzzer draws such requests now and then (a query
# string of percent-encoded 3-byte characters grows ninefold); LocalStack's server (twisted) drops the
# connection on a request line over 16 KB, which schemathesis reports as a network error: a failure
# of the emulator, not of our code. Those inputs are not sent; hypothesis draws others in their place.
API_GATEWAY_REQUEST_LINE_AND_HEADERS_BYTES = 10_240


@schemathesis.check
def no_server_error_from_our_code(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500 and not response.text.startswith(LOCALSTACK_EMULATOR_ERROR):
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code}: {response.text[:300]}"
        )


def request_line_and_headers_bytes(case: Any) -> int:
    """The size API Gateway limits: the request line (method, path and query as sent) and the headers."""
    kwargs = case.as_transport_kwargs(base_url="http://gateway.invalid")
    prepared = requests.Request(
        kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=kwargs.get("headers")
    ).prepare()
    line = f"{prepared.method} {prepared.path_url} HTTP/1.1"
    return len(line.encode("utf-8", "surrogateescape")) + sum(
        len(str(name).encode("utf-8", "surrogateescape")) + len(str(value).encode("utf-8", "surrogateescape"))
        for name, value in prepared.headers.items()
    )


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    try:
        size = request_line_and_headers_bytes(case)
    except Exception:  # what requests cannot prepare, schemathesis sends (or reports) its own way
        return True
    return size <= API_GATEWAY_REQUEST_LINE_AND_HEADERS_BYTES
