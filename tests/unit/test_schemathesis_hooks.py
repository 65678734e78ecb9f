"""The fuzzer's hooks (tests/e2e/schemathesis_hooks.py): requests API Gateway would refuse for their
size are not sent; every other request is, whatever it holds."""

from __future__ import annotations

from pathlib import Path

import schemathesis

from tests.e2e import schemathesis_hooks as hooks

OPENAPI = Path(__file__).resolve().parents[2] / "functions" / "assistec" / "api" / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(str(OPENAPI))
LIMIT = hooks.API_GATEWAY_REQUEST_LINE_AND_HEADERS_BYTES


def test_a_query_over_the_gateways_limit_is_not_sent() -> None:
    callback = SCHEMA["/integrations/google/callback"]["GET"]
    # U+0800 is three bytes in UTF-8, nine once percent-encoded: 1,200 of them are 10,800 bytes
    case = callback.Case(query={"code": "\u0800" * 1200})
    assert hooks.request_line_and_headers_bytes(case) > LIMIT
    assert hooks.filter_case(None, case) is False


def test_a_path_parameter_over_the_gateways_limit_is_not_sent() -> None:
    customer = SCHEMA["/customers/{customer_id}"]["GET"]
    case = customer.Case(path_parameters={"customer_id": "x" * (LIMIT + 1)})
    assert hooks.filter_case(None, case) is False


def test_headers_count_toward_the_limit() -> None:
    customer = SCHEMA["/customers/{customer_id}"]["GET"]
    small = customer.Case(path_parameters={"customer_id": "c"}, headers={"X-Padding": "p" * 100})
    large = customer.Case(path_parameters={"customer_id": "c"}, headers={"X-Padding": "p" * LIMIT})
    assert hooks.filter_case(None, small) is True
    assert hooks.filter_case(None, large) is False


def test_requests_within_the_limit_are_sent_as_drawn() -> None:
    callback = SCHEMA["/integrations/google/callback"]["GET"]
    near = callback.Case(query={"code": "a" * (LIMIT - 200)})
    assert hooks.request_line_and_headers_bytes(near) <= LIMIT
    assert hooks.filter_case(None, near) is True
    assert hooks.filter_case(None, callback.Case(query={"code": "\u0800"})) is True
