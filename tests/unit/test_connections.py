"""The management API's client (integrations/connections.py): its SigV4 signature is botocore's for
the same request, so API Gateway accepts it as it accepts boto3's."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from assistec.integrations.connections import Credentials, SigV4

NOW = 1_796_000_000.25  # 2026-11-30


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEXAMPLE//token+with/odd=chars"])
@pytest.mark.parametrize(
    ("host", "connection_id"),
    [
        ("abc123.execute-api.sa-east-1.amazonaws.com", "L0SM9cOFvHcCIhw="),
        ("abc123.execute-api.sa-east-1.amazonaws.com", "a+b/c=d~e_f-g.h"),
        ("127.0.0.1:4596", "Zx1-Connection.id"),
    ],
)
def test_the_signature_is_botocores_for_the_same_request(
    monkeypatch: pytest.MonkeyPatch, token: str | None, host: str, connection_id: str
) -> None:
    from urllib.parse import quote

    path = f"/v1/@connections/{quote(connection_id, safe='~')}"
    body = '{"type":"order.status_changed","order_id":"9f0c…"}'.encode()
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    ours = SigV4("sa-east-1").headers("POST", host, path, body, credentials, NOW)

    # botocore signs the same request (its clock pinned to the same instant)
    request = AWSRequest(method="POST", url=f"https://{host}{path}", data=body)
    request.headers["Host"] = host
    import botocore.auth

    pinned = dt.datetime.fromtimestamp(NOW, dt.UTC).replace(tzinfo=None)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: pinned)
    SigV4Auth(
        BotoCredentials("AKIDEXAMPLE", credentials.secret_key, token), "execute-api", "sa-east-1"
    ).add_auth(request)
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"] == "20261130T005320Z"
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")
    # the connection id's reserved characters are encoded in the path as sent
    assert "=" not in path
    assert "+" not in path


def test_the_days_key_is_derived_once_and_a_new_day_or_secret_gets_its_own() -> None:
    signer = SigV4("us-east-1")
    first = Credentials("AK", "secret-1", None)
    a = signer.headers("POST", "h", "/v1/@connections/x", b"", first, NOW)
    b = signer.headers("POST", "h", "/v1/@connections/x", b"", first, NOW + 1)
    assert a["Authorization"] != b["Authorization"]  # another second, another signature
    assert len(signer._keys) == 1
    c = signer.headers("POST", "h", "/v1/@connections/x", b"", Credentials("AK", "secret-2", None), NOW)
    assert c["Authorization"] != a["Authorization"]
    d = signer.headers("POST", "h", "/v1/@connections/x", b"", first, NOW + 86_400)
    assert "20261201/us-east-1/execute-api/aws4_request" in d["Authorization"]
    assert len(signer._keys) == 1
