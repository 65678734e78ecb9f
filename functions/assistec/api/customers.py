from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import Digits
from assistec.api.schemas.customers import CustomerIn, CustomerOut, CustomerPage, CustomerPatch

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="customers")


@routes.post(
    "/customers",
    summary="Register a customer (one per phone number in the shop)",
    responses=doc(201, CustomerOut, 401, 403, 409, 413),
)
def create_customer(body: Annotated[CustomerIn, Body()]) -> Response[Any]:
    customer = services().customers.create(caller(router), body.model_dump(mode="json"))
    return created(CustomerOut.model_validate(customer))


@routes.get(
    "/customers",
    summary="The shop's customers; q searches names (accents ignored), phones and CPF/CNPJ",
    responses=doc(200, CustomerPage, 401, 403),
)
def list_customers(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(min_length=2, max_length=100)] = None,
) -> Response[Any]:
    after = pagination.key_from(cursor, datetime.fromisoformat, UUID)
    rows = services().customers.list(caller(router), limit=limit + 1, after=after, q=q)
    items, next_cursor = pagination.page(rows, limit, lambda c: [c.created_at.isoformat(), str(c.id)])
    return json_response(
        200, CustomerPage(items=[CustomerOut.model_validate(r) for r in items], next_cursor=next_cursor)
    )


@routes.get(
    "/customers/<customer_id>", summary="One customer", responses=doc(200, CustomerOut, 401, 403, 404)
)
def get_customer(customer_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(
        200, CustomerOut.model_validate(services().customers.get(caller(router), customer_id))
    )


@routes.patch(
    "/customers/<customer_id>",
    summary="Change a customer (optimistic locking on version)",
    responses=doc(200, CustomerOut, 401, 403, 404, 409, 413),
)
def update_customer(
    customer_id: Annotated[UUID, Path()], body: Annotated[CustomerPatch, Body()]
) -> Response[Any]:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    customer = services().customers.update(
        caller(router),
        customer_id,
        version=body.version,
        changes=changes,
    )
    return json_response(200, CustomerOut.model_validate(customer))
