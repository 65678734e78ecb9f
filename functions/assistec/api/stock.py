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
from assistec.api.schemas.stock import (
    MovementList,
    MovementOut,
    PartIn,
    PartList,
    PartOut,
    PartPage,
    PartPatch,
    StockMoveIn,
)

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="stock")


@routes.post(
    "/parts",
    summary="Add a part to the catalogue (with its initial quantity)",
    responses=doc(201, PartOut, 401, 403, 409, 413),
)
def create_part(body: Annotated[PartIn, Body()]) -> Response[Any]:
    part = services().stock.create(caller(router), body.model_dump())
    return created(PartOut.model_validate(part))


@routes.get(
    "/parts",
    summary="The catalogue, oldest first; q filters by name, brand, model or SKU; low_stock by minimum",
    responses=doc(200, PartPage, 401, 403),
)
def list_parts(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(min_length=2, max_length=100)] = None,
    low_stock: Annotated[bool, Query()] = False,
) -> Response[Any]:
    after = pagination.key_from(cursor, datetime.fromisoformat, UUID)
    rows = services().stock.find(caller(router), limit=limit + 1, after=after, q=q, low_stock=low_stock)
    items, next_cursor = pagination.page(rows, limit, lambda p: [p.created_at.isoformat(), str(p.id)])
    return json_response(
        200, PartPage(items=[PartOut.model_validate(p) for p in items], next_cursor=next_cursor)
    )


@routes.get(
    "/stock/search",
    summary="Find parts by name or model, best match and in stock first (the WhatsApp stock query)",
    responses=doc(200, PartList, 401, 403),
)
def search_stock(
    q: Annotated[str, Query(min_length=2, max_length=100)],
    limit: Annotated[int, Field(ge=1, le=50), Digits, Query()] = 10,
) -> Response[Any]:
    rows = services().stock.search(caller(router), q, limit=limit)
    return json_response(200, PartList(items=[PartOut.model_validate(p) for p in rows]))


@routes.get("/parts/<part_id>", summary="One part", responses=doc(200, PartOut, 401, 403, 404))
def get_part(part_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, PartOut.model_validate(services().stock.get(caller(router), part_id)))


@routes.patch(
    "/parts/<part_id>",
    summary="Change a part's catalogue data (quantities move through /movements)",
    responses=doc(200, PartOut, 401, 403, 404, 409, 413),
)
def update_part(part_id: Annotated[UUID, Path()], body: Annotated[PartPatch, Body()]) -> Response[Any]:
    part = services().stock.update(
        caller(router),
        part_id,
        version=body.version,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
    )
    return json_response(200, PartOut.model_validate(part))


@routes.post(
    "/parts/<part_id>/movements",
    summary="Receive parts or set the counted quantity; never below what orders hold",
    responses=doc(200, PartOut, 401, 403, 404, 409, 413),
)
def move_stock(part_id: Annotated[UUID, Path()], body: Annotated[StockMoveIn, Body()]) -> Response[Any]:
    part = services().stock.move(
        caller(router),
        part_id,
        kind=body.kind,
        quantity=body.quantity,
        note=body.note,
    )
    return json_response(200, PartOut.model_validate(part))


@routes.get(
    "/parts/<part_id>/movements",
    summary="The part's stock history, newest first",
    responses=doc(200, MovementList, 401, 403, 404),
)
def list_movements(
    part_id: Annotated[UUID, Path()],
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
) -> Response[Any]:
    rows = services().stock.movements(caller(router), part_id, limit=limit)
    return json_response(200, MovementList(items=[MovementOut.model_validate(m) for m in rows]))
