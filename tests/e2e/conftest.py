"""End-to-end: the stack deployed to LocalStack by `make up` (or `make test`), driven over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

STACK_JSON = Path(__file__).resolve().parents[2] / ".local" / "stack.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # (How these tests share the parallel workers: tests/conftest.py, stack_group.)
    for item in items:
        if "/tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    if not STACK_JSON.exists():
        pytest.fail("the local stack is not up: run `make up` (or use `make test`)")
    info: dict[str, Any] = json.loads(STACK_JSON.read_text())
    return info


@pytest.fixture(scope="session")
def http(stack: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack["api_url"], timeout=httpx.Timeout(30.0)) as client:
        yield client


@pytest.fixture(scope="session")
def aws(stack: dict[str, Any]) -> Any:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=stack["localstack_url"],
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    return client


# Headless Chromium for the browser tests: Debian's (`make deps`), one per test module.
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def panel_url(stack: dict[str, Any]) -> Iterator[str]:
    """Where the web panel is served with its API same-origin under /api: $PANEL_URL when set (another
    edge, a dev server), else the stack's own edge (`panel_url`), else the built web/dist served here
    beside the deployed API."""
    import os

    chosen = os.environ.get("PANEL_URL") or stack.get("panel_url")
    if chosen:
        yield str(chosen).rstrip("/")
        return
    from tests.e2e.panel_server import serve_panel
    from tests.web_panel import ensure_built

    with serve_panel(ensure_built(), stack["api_url"]) as url:
        yield url
