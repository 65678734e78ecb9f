"""GET /health over HTTP: LocalStack's API Gateway → our Lambda (host executor) → PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from assistec import __version__


def test_health_answers_through_api_gateway_lambda_and_postgres(http: httpx.Client) -> None:
    # Given the local stage deployed by `make up`
    # When ops call GET /health through API Gateway
    response = http.get("/health")
    # Then the Lambda reached PostgreSQL through the Secrets Manager secret and reports the version
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"] == __version__
    assert body["stage"] == "local"
    assert body["schema_version"] >= 1
    assert response.headers["x-correlation-id"]


def test_unknown_route_is_a_clear_404(http: httpx.Client) -> None:
    response = http.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["code"] == "route_not_found"


@pytest.fixture
def broken_api_function(stack: dict[str, Any], aws: Callable[[str], Any]) -> Iterator[None]:
    """Point the deployed API function at a handler that does not exist, then restore it."""
    lam = aws("lambda")
    name = stack["api_function_name"]
    original = lam.get_function_configuration(FunctionName=name)["Handler"]

    def set_handler(handler: str) -> None:
        lam.update_function_configuration(FunctionName=name, Handler=handler)
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)

    set_handler("assistec.handlers.api.no_such_handler")
    try:
        yield
    finally:
        set_handler(original)


def test_a_lambda_failure_is_a_fast_5xx_with_a_correlation_id(
    http: httpx.Client, broken_api_function: None
) -> None:
    # Given an API function that fails before it can answer (a broken deploy)
    started = time.monotonic()
    # When a client calls the API
    response = http.get("/health")
    # Then API Gateway answers a 5xx promptly, not a hang, with an id to find the failure in the logs
    assert response.status_code >= 500
    assert time.monotonic() - started < 25
    assert response.headers.get("x-correlation-id") or response.headers.get("x-amzn-requestid")


def test_the_deployed_schema_function_brought_the_database_up_to_date(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    # LocalStack accepts Custom::AssistecSchema without running it; `make up` invokes the deployed
    # function with CloudFormation's event shape instead. Its log shows it did the work.
    resources = aws("cloudformation").describe_stack_resources(StackName=stack["stack_name"])[
        "StackResources"
    ]
    [schema] = [r for r in resources if r["ResourceType"] == "Custom::AssistecSchema"]
    assert schema["ResourceStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    [function] = [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function"
        and r["LogicalResourceId"].startswith("SchemaMigrateFunction")
    ]
    logs = aws("logs")
    messages: list[str] = []
    for _ in range(20):
        try:
            messages = [
                e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
            ]
        except logs.exceptions.ResourceNotFoundException:
            messages = []
        if any("schema up to date" in m for m in messages):
            break
        time.sleep(0.5)
    assert any("schema up to date" in m for m in messages), messages[-5:]
