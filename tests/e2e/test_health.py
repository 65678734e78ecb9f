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
def broken_api(stack: dict[str, Any], aws: Callable[[str], Any]) -> Iterator[str]:
    """A REST API of its own on LocalStack, proxying to a function whose handler does not exist (a
    broken deploy): the shared API keeps serving the tests running beside this one. Its base URL."""
    import io
    import uuid
    import zipfile

    lam, apigw = aws("lambda"), aws("apigateway")
    name = f"e2e-broken-{uuid.uuid4().hex[:10]}"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.no_such_handler",
        Code={"ZipFile": archive.getvalue()},
        Timeout=5,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    api = apigw.create_rest_api(name=name)["id"]
    try:
        root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
        proxy = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
        apigw.put_method(restApiId=api, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
        apigw.put_integration(
            restApiId=api,
            resourceId=proxy,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations",
        )
        apigw.create_deployment(restApiId=api, stageName="v1")
        yield f"{stack['localstack_url']}/_aws/execute-api/{api}/v1"
    finally:
        apigw.delete_rest_api(restApiId=api)
        lam.delete_function(FunctionName=name)


def test_a_lambda_failure_is_a_fast_5xx_with_a_request_id(broken_api: str) -> None:
    # Given an API whose function fails before it can answer (a broken deploy)
    started = time.monotonic()
    # When a client calls it
    response = httpx.get(f"{broken_api}/health", timeout=30)
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
