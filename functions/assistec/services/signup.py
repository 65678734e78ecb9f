"""A shop signs up, and its owner confirms the e-mail before anything of the shop exists.

``request`` (POST /signup) keeps what was typed (the password already hashed) and mails a link;
nothing of the shop exists yet: no tenant, no Asaas customer, no e-mail to anybody but this one.
``confirm`` (the link) creates the shop exactly as signup always did (``AuthService.signup``: the
shop, its owner, settings, trial subscription and the ``ShopSignedUp`` event that provisions it at
Asaas) and logs the owner in.

The answer to ``request`` is the same whether the e-mail is free or already in use: an anonymous
caller learns nothing about who has an account. The address's owner learns it instead (a notice
mail in place of the link). Requests are throttled per source address (429 ``signup_throttled``),
serialized in the database, so parallel requests cannot overrun the budget.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistec.db import billing as bill_db
from assistec.db import signups as signup_db
from assistec.db import users as users_db
from assistec.domain import passwords, tokens
from assistec.domain.accounts import Signup, TokenPair
from assistec.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyAttemptsError,
    ValidationFailedError,
)
from assistec.observability import logger
from assistec.services.billing.common import DEFAULT_PLAN

if TYPE_CHECKING:
    from assistec.db.signups import SignupRequestRow
    from assistec.db.sql import Conn
    from assistec.services.auth import AuthService
    from assistec.services.email.service import Mail
    from assistec.services.unit_of_work import UnitsOfWork

CONFIRM_TTL_S = 48 * 3600  # the link's lifetime
WINDOW_S = 3600  # the throttle's window: at most ``max_per_source`` requests per source in it
CONFIRM_PATH = "/public/signup/"


class SignupThrottledError(TooManyAttemptsError):
    code = "signup_throttled"
    message = "Muitos cadastros feitos a partir deste endereço. Aguarde um pouco e tente novamente."


class SignupLinkNotFoundError(NotFoundError):
    code = "signup_link_not_found"
    message = "Link de confirmação não encontrado. Confira se ele foi copiado por inteiro."


class SignupLinkExpiredError(AppError):
    status = 410
    code = "signup_link_expired"
    message = "Este link de confirmação expirou. Faça o cadastro novamente para receber um novo link."


class SignupAlreadyConfirmedError(ConflictError):
    code = "signup_already_confirmed"
    message = "Este cadastro já foi confirmado. Entre no assistec com seu e-mail e senha."


@dataclass(frozen=True, slots=True)
class PendingSignup:
    """What the confirmation page shows before the owner confirms."""

    email: str
    shop_name: str


def _source_key(source_ip: str) -> bytes:
    return hashlib.sha256(f"signup\x00{source_ip.strip()}".encode()).digest()


class SignupService:
    """Signup requests (throttled per source, answered alike for free and taken e-mails) and their
    confirmation by the link mailed to the owner."""

    def __init__(
        self,
        work: UnitsOfWork,
        auth: AuthService,
        mail: Callable[[], Mail],
        *,
        max_per_source: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._work = work
        self._auth = auth
        self._mail = mail
        self._max = max_per_source
        self._now = clock

    def request(self, cmd: Signup, *, source_ip: str, link_base: str) -> None:
        """Keep the signup and mail its confirmation link to ``cmd.email``; when that e-mail is
        already in use, mail its owner a notice instead and keep nothing of the shop. Both answer
        the same (and do the same work: the password is hashed either way). 422 for an unknown
        plan, 429 ``signup_throttled`` past the source's budget (nothing kept, nothing mailed),
        503 when the mail cannot be sent."""
        password_hash = passwords.hash_password(cmd.password)
        token = secrets.token_urlsafe(32)
        with self._work.db.transaction() as conn:
            plan = _plan_code(conn, cmd.plan)
            taken = users_db.find_login(conn, cmd.email) is not None
            shop: dict[str, Any] = {
                "shop_name": cmd.shop_name,
                "cnpj": cmd.cnpj,
                "phone": cmd.phone,
                "owner_name": cmd.owner_name,
                "plan": plan,
                "password_hash": password_hash,
            }
            wait = signup_db.add_request(
                conn,
                source_key=_source_key(source_ip),
                max_requests=self._max,
                window_s=WINDOW_S,
                token_hash=None if taken else tokens.token_hash(token),
                email=cmd.email,
                shop=None if taken else shop,
                ttl_s=CONFIRM_TTL_S,
            )
        if wait:
            logger.info("signup throttled", extra={"retry_after_s": wait})
            raise SignupThrottledError(wait)
        template, context = (
            ("signup_account_exists", {})
            if taken
            else (
                "signup_confirmation",
                {"link": f"{link_base}{CONFIRM_PATH}{token}", "valid_hours": CONFIRM_TTL_S // 3600},
            )
        )
        try:
            self._mail().send_platform(template=template, to=cmd.email, context=context)
        except Exception as exc:  # SES refused or unreachable: the caller may simply try again
            logger.exception("signup mail not sent")
            raise ServiceUnavailableError(
                "Não foi possível enviar o e-mail de confirmação agora. Tente novamente em instantes."
            ) from exc

    def pending(self, token: str) -> PendingSignup:
        """The signup behind a confirmation link, still to be confirmed (404, 409 or 410 otherwise)."""
        row = self._open(token)
        assert row.shop is not None
        return PendingSignup(email=row.email, shop_name=str(row.shop["shop_name"]))

    def confirm(self, token: str) -> TokenPair:
        """Create the shop of a pending signup and log its owner in (``AuthService.signup``); the
        link is spent in the same transaction, so it creates one shop at most, even used twice at
        once. 404 for an unknown link, 410 for an expired one, 409 for a used one (and 409 naming
        the field when the CNPJ or the e-mail was taken meanwhile)."""
        row = self._open(token)
        shop = row.shop
        assert shop is not None

        def claim(conn: Conn) -> None:
            if not signup_db.claim_request(conn, row.id):
                if self._now() >= row.expires_at:
                    raise SignupLinkExpiredError()
                raise SignupAlreadyConfirmedError()

        return self._auth.signup(
            Signup(
                shop_name=str(shop["shop_name"]),
                cnpj=str(shop["cnpj"]),
                email=row.email,
                phone=str(shop["phone"]),
                owner_name=str(shop["owner_name"]),
                password="",
                plan=str(shop["plan"]),
                password_hash=str(shop["password_hash"]),
            ),
            claim=claim,
        )

    def _open(self, token: str) -> SignupRequestRow:
        with self._work.db.transaction() as conn:
            row = signup_db.find_request(conn, tokens.token_hash(token))
        if row is None:
            raise SignupLinkNotFoundError()
        if row.confirmed_at is not None:
            raise SignupAlreadyConfirmedError()
        if self._now() >= row.expires_at:
            raise SignupLinkExpiredError()
        return row


def _plan_code(conn: Conn, code: str | None) -> str:
    """The plan chosen (the default when none): 422 for an unknown one, before anything is kept."""
    plan = bill_db.plan(conn, code or DEFAULT_PLAN)
    if plan is None:
        codes = [p.code for p in bill_db.plans(conn)]
        raise ValidationFailedError(
            "Plano desconhecido.",
            details=[{"field": "plan", "message": f"use um destes: {', '.join(codes)}"}],
        )
    return plan.code
