"""Malformed bodies on the public POST routes (signup, login, refresh, logout, the webhook inbox):
`[]`, `null`, `"x"`, a number and text that is not JSON each get our own 4xx answer, in the API's
error shape, never a 5xx. API Gateway no longer validates bodies itself (its request validator
answered 400 `{"message": "Invalid request body"}`, outside our shape and undocumented; the infra
test asserts it is gone), so these answers are what a caller sees in prod too."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Client

# body -> the code our validation answers it with (JSON that is not an object, or not JSON at all)
MALFORMED = {
    "empty-list": ("[]", "validation_error"),
    "null": ("null", "validation_error"),
    "string": ('"x"', "validation_error"),
    "number": ("42", "validation_error"),
    "not-json": ("{not json", "invalid_json"),
    "truncated": ('{"email": "a@b.com", ', "invalid_json"),
}
ROUTES = ("/signup", "/auth/login", "/auth/refresh", "/auth/logout")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("raw", "code"), MALFORMED.values(), ids=MALFORMED.keys())
def test_public_post_routes_answer_malformed_bodies_in_our_shape(
    client: Client, route: str, raw: str, code: str
) -> None:
    # Given a body that is not a JSON object
    # When it is posted to a public route (no token, as an anonymous caller would)
    status, body, headers = client.call("POST", route, raw_body=raw)
    # Then our validation answers: 422 in the API's error shape with a correlation id
    assert status == 422, (status, body)
    assert set(body) == {"code", "message", "details", "correlation_id"}
    assert body["code"] == code
    assert body["message"]
    assert body["correlation_id"] == headers["x-correlation-id"]
