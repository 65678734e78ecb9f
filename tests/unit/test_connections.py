"""The management API's client (integrations/connections.py): the request it signs is the one boto3's
``apigatewaymanagementapi`` client sends for the same PostToConnection, so API Gateway accepts it as
it accepts boto3's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from assistec.integrations.connections import Credentials, SigV4


class _Empty:
    """An answer's body with nothing in it."""

    def stream(self, **_: Any) -> Any:
        return iter([b""])


NOW = dt.datetime(2026, 11, 30, 0, 53, 20, tzinfo=dt.UTC).replace(tzinfo=None)  # botocore: naive UTC


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEXAMPLE//token+with/odd=chars"])
@pytest.mark.parametrize(
    ("endpoint", "connection_id"),
    [
        ("https://abc123.execute-api.sa-east-1.amazonaws.com/v1", "L0SM9cOFvHcCIhw="),
        ("https://abc123.execute-api.sa-east-1.amazonaws.com/v1", "a+b/c=d~e_f-g.h"),
        ("http://127.0.0.1:4596/v1", "Zx1-Connection.id"),
    ],
)
def test_the_signed_request_is_boto3s_post_to_connection(
    monkeypatch: pytest.MonkeyPatch, token: str | None, endpoint: str, connection_id: str
) -> None:
    import boto3
    import botocore.auth
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW)  # one instant for both
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    body = '{"type":"order.status_changed","order_id":"9f0c…"}'.encode()

    # What boto3's client sends (caught before it leaves)
    sent: dict[str, Any] = {}

    def catch(request: Any, **_: Any) -> AWSResponse:
        sent["url"] = request.url
        sent["headers"] = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        return AWSResponse(request.url, 200, HTTPHeaders(), _Empty())

    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="sa-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=secret,
        aws_session_token=token,
    )
    client.meta.events.register("before-send", catch)
    client.post_to_connection(ConnectionId=connection_id, Data=body)

    # What ours signs for the same post
    from urllib.parse import quote, urlsplit

    url = urlsplit(endpoint)
    path = f"{url.path}/@connections/{quote(connection_id, safe='~')}"
    ours = SigV4("sa-east-1").headers(
        "POST", url.netloc, path, body, Credentials("AKIDEXAMPLE", secret, token)
    )

    assert sent["url"] == f"{endpoint}/@connections/{quote(connection_id, safe='~')}"
    assert ours["X-Amz-Date"] == sent["headers"]["X-Amz-Date"] == "20261130T005320Z"
    assert ours["Authorization"] == sent["headers"]["Authorization"]
    assert ours.get("X-Amz-Security-Token") == sent["headers"].get("X-Amz-Security-Token")
