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
from assistec.api.schemas.users import MeOut, ShopOut, UserCreateIn, UserOut, UserPage, UserUpdateIn
from assistec.domain.accounts import NewUser, UserChanges
from assistec.domain.permissions import Role

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="users")


@routes.get("/me", summary="The caller and their shop", responses=doc(200, MeOut, 401))
def me() -> Response[Any]:
    user, tenant = services().users.me(caller(router))
    return json_response(200, MeOut(user=UserOut.model_validate(user), shop=ShopOut.model_validate(tenant)))


@routes.get("/users", summary="The shop's users, paginated", responses=doc(200, UserPage, 401, 403))
def list_users(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    role: Annotated[Role | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Response[Any]:
    identity = caller(router)
    after = None
    if cursor is not None:
        created_at, user_id = pagination.decode(cursor, 2)
        try:
            after = (datetime.fromisoformat(created_at), UUID(user_id))
        except (TypeError, ValueError) as exc:
            raise pagination.invalid_cursor() from exc
    rows = services().users.list(identity, limit=limit + 1, after=after, role=role, active=active, q=q)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = pagination.encode([page[-1].created_at.isoformat(), str(page[-1].id)]) if more else None
    return json_response(
        200, UserPage(items=[UserOut.model_validate(r) for r in page], next_cursor=next_cursor)
    )


@routes.post("/users", summary="Add a user to the shop", responses=doc(201, UserOut, 401, 403, 409, 413))
def create_user(body: Annotated[UserCreateIn, Body()]) -> Response[Any]:
    user = services().users.create(
        caller(router),
        NewUser(email=body.email, name=body.name, role=Role(body.role), password=body.password),
    )
    return created(UserOut.model_validate(user))


@routes.get("/users/<user_id>", summary="One user of the shop", responses=doc(200, UserOut, 401, 403, 404))
def get_user(user_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, UserOut.model_validate(services().users.get(caller(router), user_id)))


@routes.patch(
    "/users/<user_id>",
    summary="Change a user's name, role or active flag (optimistic locking on version)",
    responses=doc(200, UserOut, 401, 403, 404, 409, 413),
)
def update_user(user_id: Annotated[UUID, Path()], body: Annotated[UserUpdateIn, Body()]) -> Response[Any]:
    user = services().users.update(
        caller(router),
        user_id,
        UserChanges(
            version=body.version,
            name=body.name,
            role=Role(body.role) if body.role else None,
            active=body.active,
        ),
    )
    return json_response(200, UserOut.model_validate(user))
