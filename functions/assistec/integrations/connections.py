"""API Gateway's management API of a WebSocket API's connections (``apigatewaymanagementapi``):
post a message to one connection. The endpoint is the stage's callback URL
(``https://{api}.execute-api.{region}.amazonaws.com/{stage}``; locally the gateway stand-in's,
localstack/ws_gateway), from the settings.

A push posts the same message to each of a shop's connections, in parallel: the request is small and
the service answers fast, so what a post costs is the client's own work. boto3's client spends
~1.5 ms of CPU per call (its handler chain, endpoint resolution, request and error parsing), which
over a shop's 50 connections is most of a push's time on a busy host; this client sends the same
request (``POST {stage}/@connections/{id}``, signed by botocore's SigV4 for ``execute-api`` with the
function's credentials: tests/unit/test_connections.py compares it with boto3's request) over pooled
keep-alive connections at a fifth of that, and answers as the service does: 410 Gone is a
connection to drop, 429 and 5xx are tried once more, anything else fails loudly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urlsplit


class Connections(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` to the connection; False when it is gone (410), so its row is dropped."""
        ...


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None


class ManagementApiError(Exception):
    """The management API refused a post (not 410): its HTTP status and error type."""

    def __init__(self, status: int, error_type: str | None) -> None:
        super().__init__(f"PostToConnection failed: {status} {error_type or ''}".strip())
        self.status = status
        self.error_type = error_type


_RETRIED = frozenset({429, 500, 502, 503, 504})
_SERVICE = "execute-api"


def _credentials_from_environment() -> Callable[[], Credentials]:
    """The function's credentials as botocore finds them (Lambda's environment), frozen per call
    so a refreshed set is picked up."""
    import botocore.session

    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise RuntimeError("no AWS credentials: the management API's requests must be signed")

    def current() -> Credentials:
        frozen = found.get_frozen_credentials()
        return Credentials(str(frozen.access_key), str(frozen.secret_key), frozen.token)

    return current


def _region_from_environment() -> str:
    import botocore.session

    return str(botocore.session.get_session().get_config_variable("region") or "us-east-1")


class SigV4:
    """The SigV4 headers of a request for one service and region, signed by botocore's ``SigV4Auth``
    (~0.1 ms a request: the cost of boto3's client is in its handler chain, not the signature)."""

    def __init__(self, region: str, service: str = _SERVICE) -> None:
        self._region = region
        self._service = service

    def headers(
        self, method: str, host: str, path: str, body: bytes, credentials: Credentials
    ) -> dict[str, str]:
        """The headers that sign ``method host path`` with ``body`` now: ``X-Amz-Date``,
        ``X-Amz-Security-Token`` (temporary credentials) and ``Authorization``. ``path`` is as sent
        (its segments already percent-encoded)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import ReadOnlyCredentials

        request = AWSRequest(method=method, url=f"https://{host}{path}", data=body, headers={"Host": host})
        SigV4Auth(
            ReadOnlyCredentials(credentials.access_key, credentials.secret_key, credentials.token),
            self._service,
            self._region,
        ).add_auth(request)
        wanted = ("X-Amz-Date", "X-Amz-Security-Token", "Authorization")
        return {name: str(request.headers[name]) for name in wanted if name in request.headers}


class ManagementApiConnections:
    """PostToConnection over up to ``max_pool`` keep-alive connections, shared by the threads that
    post in parallel; built on the first post (the sweep and $connect never post)."""

    def __init__(
        self,
        endpoint: str,
        *,
        max_pool: int = 16,
        region: str | None = None,
        credentials: Callable[[], Credentials] | None = None,
        connect_timeout_s: float = 2,
        read_timeout_s: float = 5,
    ) -> None:
        url = urlsplit(endpoint)
        self._endpoint = endpoint
        self._host = url.netloc
        self._base = url.path.rstrip("/")
        self._max_pool = max_pool
        self._region = region
        self._credentials = credentials
        self._timeouts = (connect_timeout_s, read_timeout_s)
        self._signer: SigV4 | None = None
        self._pool: Any = None
        self._lock = threading.Lock()

    def _ready(self) -> tuple[Any, SigV4, Callable[[], Credentials]]:
        with self._lock:
            if self._pool is None:
                import urllib3  # botocore's own HTTP client

                if self._credentials is None:
                    self._credentials = _credentials_from_environment()
                self._signer = SigV4(self._region or _region_from_environment())
                options: dict[str, Any] = {}
                if self._endpoint.startswith("https:"):
                    from botocore.httpsession import get_cert_path

                    options["ca_certs"] = get_cert_path(True)
                self._pool = urllib3.connection_from_url(
                    self._endpoint,
                    maxsize=self._max_pool,
                    block=False,
                    retries=False,
                    timeout=urllib3.Timeout(connect=self._timeouts[0], read=self._timeouts[1]),
                    **options,
                )
            assert self._signer is not None
            assert self._credentials is not None
            return self._pool, self._signer, self._credentials

    def post(self, connection_id: str, data: bytes) -> bool:
        pool, signer, credentials = self._ready()
        path = f"{self._base}/@connections/{quote(connection_id, safe='~')}"
        attempts = 2  # a second try at most, soon: a slow connection must not hold back the shop's others
        for attempt in range(1, attempts + 1):
            headers = signer.headers("POST", self._host, path, data, credentials())
            headers["Host"] = self._host  # as signed (http.client would drop an explicit default port)
            try:
                response = pool.urlopen(
                    "POST", path, body=data, headers=headers, redirect=False, preload_content=True
                )
            except Exception:
                if attempt == attempts:
                    raise
                continue  # the connection broke (a keep-alive the server closed): once more
            status = response.status
            if 200 <= status < 300:
                return True
            if status == 410:
                return False
            if status in _RETRIED and attempt < attempts:
                continue
            raise ManagementApiError(status, response.headers.get("x-amzn-ErrorType"))
        raise AssertionError("unreachable")  # pragma: no cover
