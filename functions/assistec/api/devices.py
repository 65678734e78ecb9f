from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.devices import (
    DeviceIn,
    DeviceList,
    DeviceOut,
    DevicePatch,
    PhotoIn,
    PhotoList,
    PhotoOut,
    PhotoUploadOut,
)
from assistec.domain import photos as photo_rules

if TYPE_CHECKING:
    from assistec.services.devices import DeviceView

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="devices")


def _out(view: DeviceView) -> DeviceOut:
    row = view.row
    return DeviceOut(
        id=row.id,
        customer_id=row.customer_id,
        type=row.type,  # type: ignore[arg-type]  # checked by the table's constraint
        brand=row.brand,
        model=row.model,
        serial=row.serial,
        imei=row.imei,
        condition=row.condition,
        accessories=row.accessories,
        has_unlock_code=view.has_unlock_code,
        unlock_code=view.unlock_code,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@routes.post(
    "/customers/<customer_id>/devices",
    summary="Register a device the customer left",
    responses=doc(201, DeviceOut, 401, 403, 404, 413),
)
def create_device(customer_id: Annotated[UUID, Path()], body: Annotated[DeviceIn, Body()]) -> Response[Any]:
    view = services().devices.create(caller(router), customer_id, body.model_dump(mode="json"))
    return created(_out(view))


@routes.get(
    "/customers/<customer_id>/devices",
    summary="A customer's devices",
    responses=doc(200, DeviceList, 401, 403, 404),
)
def list_devices(customer_id: Annotated[UUID, Path()]) -> Response[Any]:
    views = services().devices.list_for_customer(caller(router), customer_id)
    return json_response(200, DeviceList(items=[_out(v) for v in views]))


@routes.get(
    "/devices/<device_id>",
    summary="One device (the unlock code only for roles that repair)",
    responses=doc(200, DeviceOut, 401, 403, 404),
)
def get_device(device_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, _out(services().devices.get(caller(router), device_id)))


@routes.patch(
    "/devices/<device_id>",
    summary="Change a device (optimistic locking on version)",
    responses=doc(200, DeviceOut, 401, 403, 404, 409, 413),
)
def update_device(device_id: Annotated[UUID, Path()], body: Annotated[DevicePatch, Body()]) -> Response[Any]:
    view = services().devices.update(
        caller(router),
        device_id,
        version=body.version,
        changes=body.model_dump(mode="json", exclude_unset=True, exclude={"version"}),
    )
    return json_response(200, _out(view))


@routes.post(
    "/devices/<device_id>/photos",
    summary="Start a photo upload: returns a presigned S3 form (10 MB max, 15 minutes)",
    responses=doc(201, PhotoUploadOut, 401, 403, 404),
)
def new_photo(device_id: Annotated[UUID, Path()], body: Annotated[PhotoIn, Body()]) -> Response[Any]:
    photo, form = services().devices.new_photo(caller(router), device_id, body.content_type)
    return created(
        PhotoUploadOut(
            id=photo.id,
            upload_url=form["url"],
            upload_fields=form["fields"],
            max_bytes=photo_rules.MAX_BYTES,
            expires_in=photo_rules.UPLOAD_EXPIRES_S,
        )
    )


@routes.get(
    "/devices/<device_id>/photos",
    summary="A device's photos, with short-lived download URLs",
    responses=doc(200, PhotoList, 401, 403, 404),
)
def list_photos(device_id: Annotated[UUID, Path()]) -> Response[Any]:
    views = services().devices.photos(caller(router), device_id)
    items = [
        PhotoOut(id=v.row.id, content_type=v.row.content_type, url=v.url, created_at=v.row.created_at)
        for v in views
    ]
    return json_response(200, PhotoList(items=items))
