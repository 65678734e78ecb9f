"""The panel's local edge over real HTTP: started in-process on a temporary web/dist, in front of a
small upstream standing in for the local API (a real HTTP server on 127.0.0.1 that records what it
was asked and answers as told)."""

from __future__ import annotations

import html
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from panel_edge.headers import security_headers
from panel_edge.server import BUILD_HINT, EdgeConfig, RunningEdge, start

from tests.integration.panel_edge.conftest import BASE_PATH, INDEX, Upstream


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "index-3f9a1c.js").write_text("console.log('painel');")
    (folder / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (folder / "config.json").write_text('{"apiBase": "/outro"}')  # a stray one: the edge's wins
    (tmp_path / "segredo.txt").write_text("fora do dist")
    return folder


def _edge(dist: Path, api_url: str, ws_url: str | None = "ws://127.0.0.1:4595/v1") -> Iterator[RunningEdge]:
    running = start(
        EdgeConfig(dist=dist, api_url=api_url, ws_url=ws_url, storage_sources=["http://s3.local"])
    )
    yield running
    running.stop()


@pytest.fixture
def edge(dist: Path, upstream: Upstream) -> Iterator[RunningEdge]:
    yield from _edge(dist, upstream.url)


@pytest.fixture
def client(edge: RunningEdge) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=edge.url, timeout=10) as http:
        yield http


EXPECTED_HEADERS = security_headers(websocket=["ws://127.0.0.1:4595"], storage=["http://s3.local"])


def _has_security_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get_list(name) == [value], name


# --- the panel's files --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/orders/123", "/clientes/42/aparelhos?aba=fotos", "/api"])
def test_the_spas_routes_are_served_index_html(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    _has_security_headers(response)


def test_hashed_assets_are_served_as_they_are_and_kept_for_good(client: httpx.Client) -> None:
    response = client.get("/assets/index-3f9a1c.js")
    assert response.status_code == 200
    assert response.text == "console.log('painel');"
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    _has_security_headers(response)
    head = client.head("/assets/index-3f9a1c.js")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len("console.log('painel');"))


@pytest.mark.parametrize(
    "path", ["/assets/nao-existe.js", "/%2e%2e/segredo.txt", "/assets/..%2f..%2fsegredo.txt"]
)
def test_a_file_path_that_is_not_in_dist_is_404_not_the_panel(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"fora do dist" not in response.content
    assert response.content != INDEX
    _has_security_headers(response)


def test_config_json_is_generated_with_the_api_prefix_and_websocket_url(client: httpx.Client) -> None:
    response = client.get("/config.json")
    assert response.status_code == 200
    assert response.json() == {"apiBase": "/api", "wsUrl": "ws://127.0.0.1:4595/v1"}
    assert response.headers["cache-control"] == "no-cache"
    _has_security_headers(response)


def test_config_json_without_a_websocket_api(dist: Path, upstream: Upstream) -> None:
    for running in _edge(dist, upstream.url, ws_url=None):
        config = httpx.get(f"{running.url}/config.json", timeout=10)
        assert config.json() == {"apiBase": "/api", "wsUrl": None}
        assert "connect-src 'self' http://s3.local;" in config.headers["content-security-policy"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_the_panels_behavior_takes_only_get_and_head(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/orders/123", content=b"{}")
    assert response.status_code == 403


def test_without_a_build_every_page_says_so_in_portuguese_and_the_api_still_answers(
    tmp_path: Path, upstream: Upstream
) -> None:
    for running in _edge(tmp_path / "nao-existe", upstream.url):
        with httpx.Client(base_url=running.url, timeout=10) as http:
            page = http.get("/orders/1")
            assert page.status_code == 503
            assert page.headers["content-type"].startswith("text/html")
            assert 'lang="pt-BR"' in page.text
            assert "O painel ainda não foi compilado" in page.text
            assert html.escape(BUILD_HINT) in page.text
            _has_security_headers(page)
            assert http.get("/config.json").json()["apiBase"] == "/api"
            assert http.get("/api/health").json() == {"echo": 0}


# --- the API at /api/* --------------------------------------------------------------------------


def test_api_requests_reach_the_api_without_the_prefix(client: httpx.Client, upstream: Upstream) -> None:
    # Given a call the panel makes
    body = json.dumps({"status": "ready", "note": "tela trocada"}).encode()
    response = client.post(
        "/api/orders/7/transitions?x=1&y=a%20b",
        content=body,
        headers={"Authorization": "Bearer tok", "Content-Type": "application/json", "X-Custom": "1"},
    )
    # Then the API got it at its stage's path, without /api, with its query string, headers and body
    assert response.status_code == 200
    assert response.json() == {"echo": len(body)}
    [seen] = upstream.seen
    assert seen["method"] == "POST"
    assert seen["path"] == f"{BASE_PATH}/orders/7/transitions?x=1&y=a%20b"
    assert seen["body"] == body
    assert seen["headers"]["authorization"] == "Bearer tok"
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["x-custom"] == "1"
    # Host is the API's (AllViewerExceptHostHeader), the viewer's address is forwarded
    assert seen["headers"]["host"] == f"127.0.0.1:{upstream.server.server_address[1]}"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    # And the answer kept the API's headers, with the edge's security headers over its own
    assert response.headers["x-correlation-id"] == "corr-1"
    _has_security_headers(response)


@pytest.mark.parametrize(
    ("path", "status", "code"), [("/missing/1", 404, "not_found"), ("/forbidden", 403, "forbidden")]
)
def test_the_apis_403_and_404_reach_the_panel_as_they_are(
    client: httpx.Client, path: str, status: int, code: str
) -> None:
    response = client.get(f"/api{path}")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "HEAD"])
def test_every_method_reaches_the_api(client: httpx.Client, upstream: Upstream, method: str) -> None:
    response = client.request(method, "/api/users/3", content=b"{}" if method in ("PUT", "PATCH") else None)
    assert response.status_code == 200
    assert upstream.seen[-1]["method"] == method
    assert upstream.seen[-1]["path"] == f"{BASE_PATH}/users/3"


def test_a_chunked_upload_reaches_the_api_whole(client: httpx.Client, upstream: Upstream) -> None:
    pieces = [b"a" * 70_000, b"b" * 3, b"c" * 100_000]
    response = client.post("/api/upload", content=iter(pieces))  # an iterator: sent chunked
    assert response.status_code == 200
    assert upstream.seen[-1]["body"] == b"".join(pieces)


def test_answers_are_streamed_not_buffered(edge: RunningEdge, upstream: Upstream) -> None:
    # Given an API answer whose second piece is sent only after the client has read the first
    with httpx.Client(base_url=edge.url, timeout=10) as http, http.stream("GET", "/api/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        pieces = response.iter_raw()
        # Then the first piece arrives while the upstream is still holding the second
        assert next(pieces) == b"primeiro\n"
        assert not upstream.stream_finished.is_set()  # a buffering edge would have waited for the end
        upstream.first_piece_read.set()
        assert b"".join(pieces) == b"segundo\n"


def test_an_api_that_does_not_answer_is_a_502_in_the_apis_error_shape(dist: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    for running in _edge(dist, f"http://127.0.0.1:{free_port}{BASE_PATH}"):
        response = httpx.get(f"{running.url}/api/health", timeout=10)
        assert response.status_code == 502
        assert response.json()["code"] == "upstream_error"
        assert "API" in response.json()["message"]
        _has_security_headers(response)


def test_the_edge_binds_to_loopback_only(edge: RunningEdge) -> None:
    assert edge.server.server_address[0] == "127.0.0.1"
