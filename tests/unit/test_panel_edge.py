"""The panel's local edge (localstack/panel_edge): its routing rules against the table the CloudFront
Functions are checked against too, its headers against the file the CDK app reads, config.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from panel_edge import rules
from panel_edge.headers import edge_settings, render_header, security_headers
from panel_edge.server import EdgeConfig

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((ROOT / "tests" / "fixtures" / "panel_edge" / "routes.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['uri']}" for c in CASES])
def test_each_path_takes_the_behavior_and_origin_path_of_the_shared_table(case: dict[str, str]) -> None:
    assert rules.origin_uri(case["uri"]) == (case["behavior"], case["origin_uri"])


def test_the_rules_read_the_prefix_and_pattern_the_cdk_app_reads() -> None:
    settings = edge_settings()
    assert (settings["api_prefix"], settings["api_path_pattern"]) == ("/api", "/api/*")


def test_headers_fill_the_websocket_and_storage_sources_into_the_csp() -> None:
    # Given a WebSocket origin and two storage origins
    headers = security_headers(
        websocket=["ws://127.0.0.1:4595"], storage=["http://127.0.0.1:4566", "http://x.localstack:4566"]
    )
    csp = dict(d.split(" ", 1) for d in headers["Content-Security-Policy"].split("; "))
    # Then the API stays same-origin and only those origins are added where they are needed
    assert csp["connect-src"] == "'self' ws://127.0.0.1:4595 http://127.0.0.1:4566 http://x.localstack:4566"
    assert csp["img-src"] == "'self' data: blob: http://127.0.0.1:4566 http://x.localstack:4566"
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_without_a_websocket_api_the_csp_names_none() -> None:
    csp = security_headers(websocket=[], storage=[])["Content-Security-Policy"]
    assert "connect-src 'self';" in csp
    assert "  " not in csp
    assert "{" not in csp


def test_render_header_collapses_empty_placeholders() -> None:
    assert render_header("a {websocket} b;  c {storage} ;", websocket=[], storage=["s"]) == "a b; c s"


def test_config_json_names_the_api_prefix_and_the_websocket_url(tmp_path: Path) -> None:
    config = EdgeConfig(dist=tmp_path, api_url="http://127.0.0.1:1/x", ws_url="ws://127.0.0.1:4595/v1")
    assert config.panel_config() == {"apiBase": "/api", "wsUrl": "ws://127.0.0.1:4595/v1"}
    assert EdgeConfig(dist=tmp_path, api_url="http://127.0.0.1:1").panel_config() == {
        "apiBase": "/api",
        "wsUrl": None,
    }
    # The CSP allows the WebSocket API's origin (scheme, host, port), not a path
    assert "connect-src 'self' ws://127.0.0.1:4595;" in config.headers()["Content-Security-Policy"]


def test_the_config_file_written_by_devctl_loads(tmp_path: Path) -> None:
    from devctl import panel_edge_proc

    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(panel_edge_proc.edge_config("http://127.0.0.1:4566/_aws/execute-api/a/v1", None))
    )
    config = EdgeConfig.load(path)
    assert config.api_url.endswith("/v1")
    assert config.ws_url is None
    assert config.dist == ROOT / "web" / "dist"
    assert "http://127.0.0.1:4566" in config.storage_sources
