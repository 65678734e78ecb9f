from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import public_base_url, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.auth import LoggedOut, LoginIn, RefreshIn, SignupIn, TokensOut
from assistec.api.schemas.signup import SignupAccepted
from assistec.domain.accounts import Signup, TokenPair

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="auth", public=True)


def _tokens(pair: TokenPair) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        tenant_id=pair.identity.tenant_id,
        user_id=pair.identity.user_id,
        role=pair.identity.role,
    )


@routes.post(
    "/signup",
    # 202 alike whether the e-mail is free or already has an account (its owner is told by e-mail
    # instead): nothing here reveals who has an account. The link leads to /public/signup/{token}.
    summary="Ask for a shop: a link is mailed to confirm the e-mail; opening it creates the shop",
    responses=doc(202, SignupAccepted, 413, 429, 503, description="Confirmation mailed"),
)
def signup(body: Annotated[SignupIn, Body()]) -> Response[Any]:
    services().signup.request(
        Signup(
            shop_name=body.shop_name,
            cnpj=body.cnpj,
            email=body.email,
            phone=body.phone,
            owner_name=body.owner_name,
            password=body.password,
            plan=body.plan,
        ),
        # The caller's address as API Gateway saw it (not a header the caller could write).
        source_ip=str(router.current_event.request_context.identity.source_ip or ""),
        link_base=public_base_url(router),
    )
    return json_response(202, SignupAccepted())


@routes.post(
    "/auth/login",
    summary="Exchange e-mail and password for tokens",
    responses=doc(200, TokensOut, 401, 413, 429),
)
def login(body: Annotated[LoginIn, Body()]) -> Response[Any]:
    # The caller's address as API Gateway saw it (not a header the caller could write).
    source_ip = str(router.current_event.request_context.identity.source_ip or "")
    return json_response(200, _tokens(services().auth.login(body.email.lower(), body.password, source_ip)))


@routes.post(
    "/auth/refresh",
    summary="Rotate a refresh token into a new token pair (a reused token ends the session)",
    responses=doc(200, TokensOut, 401, 413),
)
def refresh(body: Annotated[RefreshIn, Body()]) -> Response[Any]:
    return json_response(200, _tokens(services().auth.refresh(body.refresh_token)))


@routes.post(
    "/auth/logout",
    summary="End the session the refresh token belongs to (idempotent)",
    # 200 with a body rather than 204: API Gateway stamps `application/json` on a bodiless proxy
    # answer, and an empty "JSON" document breaks clients that trust the header.
    responses=doc(200, LoggedOut, 413, description="Logged out"),
)
def logout(body: Annotated[RefreshIn, Body()]) -> Response[Any]:
    services().auth.logout(body.refresh_token)
    return json_response(200, LoggedOut())
