"""The panel edge's headers in a real browser (Debian's headless Chromium, as the public pages' tests):
a page served on an SPA route runs its own script, calls the API same-origin through /api, may open
the WebSocket API, and Chromium enforces the CSP: no inline script, no call to another origin, no
framing by another origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from panel_edge.server import EdgeConfig, RunningEdge, start

from tests.integration.panel_edge.conftest import Upstream

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WS_URL = "ws://127.0.0.1:4595/v1"
INDEX = """<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>painel</title>
<script type="module" src="/assets/app-1a2b.js"></script>
<script>document.documentElement.dataset.inline = "ran";</script>
</head><body><div id="root"></div></body></html>
"""
# The panel's script: what it may do (its API through /api, its config) and what the CSP refuses.
APP = """
const out = {violations: []};
document.addEventListener("securitypolicyviolation", (e) => out.violations.push(e.violatedDirective));
const config = await (await fetch("/config.json")).json();
out.config = config;
const api = await fetch(config.apiBase + "/orders?status=ready", {headers: {Authorization: "Bearer t"}});
out.api = {status: api.status, body: await api.json()};
try { await fetch("http://127.0.0.2:9/elsewhere"); out.elsewhere = "reached"; }
catch (e) { out.elsewhere = "refused"; }
await new Promise((resolve) => setTimeout(resolve, 200));
window.__result = out;
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make deps` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def edge(tmp_path: Path, upstream: Upstream) -> Iterator[RunningEdge]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-1a2b.js").write_text(APP)
    running = start(EdgeConfig(dist=dist, api_url=upstream.url, ws_url=WS_URL))
    yield running
    running.stop()


def test_the_panel_calls_its_api_same_origin_and_the_csp_holds(
    browser: Any, edge: RunningEdge, upstream: Upstream
) -> None:
    page = browser.new_page()
    try:
        # When a browser opens an SPA route
        page.goto(f"{edge.url}/orders/7")
        page.wait_for_function("() => window.__result !== undefined", timeout=10_000)  # no eval: CSP
        result = page.evaluate("window.__result")
        # Then its script ran, the inline one did not
        assert page.evaluate("document.documentElement.dataset.inline") is None
        # It read its config and called the API through /api, which got the call without the prefix
        assert result["config"] == {"apiBase": "/api", "wsUrl": WS_URL}
        assert result["api"] == {"status": 200, "body": {"echo": 0}}
        assert upstream.seen[-1]["path"].endswith("/orders?status=ready")
        assert upstream.seen[-1]["headers"]["authorization"] == "Bearer t"
        # And a call to any other origin was refused by the CSP
        assert result["elsewhere"] == "refused"
        assert "connect-src" in result["violations"]
    finally:
        page.close()


def test_another_origin_cannot_frame_the_panel(browser: Any, edge: RunningEdge) -> None:
    # Given a page of another origin (about:blank's) framing the panel
    page = browser.new_page()
    try:
        page.set_content(f'<iframe id="f" src="{edge.url}/orders/7"></iframe>')
        page.wait_for_timeout(1500)
        frame = page.frame_locator("#f")
        # Then Chromium refused to render it (frame-ancestors 'none' / X-Frame-Options: DENY)
        assert frame.locator("#root").count() == 0
        # (the same page opened directly has it)
        page.goto(f"{edge.url}/orders/7")
        assert page.locator("#root").count() == 1
    finally:
        page.close()
