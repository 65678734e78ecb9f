"""Swagger UI at /docs on the deployed local stage, in a real browser (Debian's headless Chromium):
"Try it out" calls the stage that served the page, not the host's root."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR")
    page = context.new_page()
    yield page
    context.close()


def test_try_it_out_on_get_health_answers_200_from_the_stage(stack: dict[str, Any], page: Any) -> None:
    # Given the Swagger UI page of the local stage, served under the stage's base path
    api_url = stack["api_url"].rstrip("/")
    opened = page.goto(f"{api_url}/docs")
    assert opened is not None
    assert opened.status == 200
    operation = page.locator("#operations-ops-get_health_health_get")
    operation.wait_for()
    # When "Try it out" runs GET /health from the page
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/health")) as answered:
        operation.get_by_role("button", name="Execute").click()
    # Then the browser called the stage's /health (not the host's root) and got 200
    response = answered.value
    assert response.url == f"{api_url}/health"
    assert response.status == 200
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert '"status": "ok"' in operation.locator(".live-responses-table .microlight").first.inner_text()
