from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.models import HealthBody
from assistec.api.responses import doc
from assistec.runtime import database, settings
from assistec.services import health

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped


@router.get(
    "/health",
    tags=["ops"],
    summary="Version and database reachability (no authentication)",
    responses={
        **doc(200, HealthBody),
        503: {
            "description": "Degraded: the database does not answer",
            "content": {"application/json": {"model": HealthBody}},
        },
    },
)
def get_health() -> Response[str]:
    cfg = settings()
    report = health.check(database(), version=cfg.app_version, stage=cfg.stage)
    body = HealthBody(
        status="ok" if report.database_ok else "degraded",
        version=report.version,
        stage=report.stage,
        database="ok" if report.database_ok else "unavailable",
        schema_version=report.schema_version,
    )
    return Response(
        status_code=200 if report.database_ok else 503,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers={"Cache-Control": "no-store"},
    )
