from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.shop_settings import SettingsIn, SettingsOut
from assistec.domain.shop_settings import SettingsUpdate

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="settings")


@routes.get("/settings", summary="The shop's settings", responses=doc(200, SettingsOut, 401, 403))
def get_settings() -> Response[Any]:
    return json_response(200, SettingsOut.model_validate(services().shop_settings.get(caller(router))))


@routes.put(
    "/settings",
    summary="Replace the shop's settings (optimistic locking on version)",
    responses=doc(200, SettingsOut, 401, 403, 409, 413),
)
def put_settings(body: Annotated[SettingsIn, Body()]) -> Response[Any]:
    row = services().shop_settings.update(
        caller(router),
        SettingsUpdate(
            version=body.version,
            timezone=body.timezone,
            business_hours=body.business_hours,
            welcome_message=body.welcome_message,
            out_of_hours_message=body.out_of_hours_message,
            logo_url=body.logo_url,
        ),
    )
    return json_response(200, SettingsOut.model_validate(row))
