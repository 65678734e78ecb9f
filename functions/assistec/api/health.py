from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import services
from assistec.api.responses import doc
from assistec.api.routes import Routes
from assistec.api.schemas.health import HealthBody

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="ops", public=True)


@routes.get(
    "/health",
    summary="Version, database reachability, the backups' age and the dead-letter queues (no authentication)",
    responses={
        **doc(200, HealthBody),
        503: {
            "description": "Degraded: the database does not answer",
            "content": {"application/json": {"model": HealthBody}},
        },
    },
)
def get_health() -> Response[str]:
    report = services().health.check()
    body = HealthBody(
        status="ok" if report.database_ok else "degraded",
        version=report.version,
        stage=report.stage,
        database="ok" if report.database_ok else "unavailable",
        schema_version=report.schema_version,
        backup_age_hours=None if report.backup_age_hours is None else round(report.backup_age_hours, 1),
        dead_letter_queues=report.dead_letters,
        attention=report.attention,
    )
    return Response(
        status_code=200 if report.database_ok else 503,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers={"Cache-Control": "no-store"},
    )
