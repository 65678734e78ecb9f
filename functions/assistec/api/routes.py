"""How a router module declares its routes: its tag, and whether they need the token, said once.

``routes = Routes(router, tag="customers")``, then ``@routes.get(rule, summary=..., responses=...)``
registers ``router.get(rule, tags=["customers"], summary=..., security=BEARER, responses=...)``.
``public=True`` leaves ``security`` out: the routes of ``public_routes`` that take no token.
Every route reads or writes the database, so each documents the 503 it answers (our error shape)
when the database does not answer, unless it declares its own 503 (``/health``'s report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from assistec.api.responses import BEARER, DATABASE_UNAVAILABLE

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

type Handler = Callable[..., Any]
type Responses = dict[int, OpenAPIResponse]


class Routes:
    """The routes one module adds to its router under one OpenAPI tag."""

    def __init__(self, router: APIGatewayRouter, *, tag: str, public: bool = False) -> None:
        self._router = router
        self._tag = tag
        self._security = None if public else BEARER

    def add[F: Handler](
        self,
        method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"],
        rule: str,
        summary: str,
        responses: Responses,
    ) -> Callable[[F], F]:
        return self._router.route(
            rule,
            method,
            tags=[self._tag],
            summary=summary,
            security=self._security,
            responses={**responses, 503: responses.get(503, DATABASE_UNAVAILABLE)},
        )

    def get[F: Handler](self, rule: str, *, summary: str, responses: Responses) -> Callable[[F], F]:
        return self.add("GET", rule, summary, responses)

    def post[F: Handler](self, rule: str, *, summary: str, responses: Responses) -> Callable[[F], F]:
        return self.add("POST", rule, summary, responses)

    def put[F: Handler](self, rule: str, *, summary: str, responses: Responses) -> Callable[[F], F]:
        return self.add("PUT", rule, summary, responses)

    def patch[F: Handler](self, rule: str, *, summary: str, responses: Responses) -> Callable[[F], F]:
        return self.add("PATCH", rule, summary, responses)

    def delete[F: Handler](self, rule: str, *, summary: str, responses: Responses) -> Callable[[F], F]:
        return self.add("DELETE", rule, summary, responses)
