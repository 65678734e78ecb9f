"""Models of signup's answer and its e-mail confirmation (the other signup models: schemas/auth.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assistec.api.schemas.common import Output


class SignupAccepted(Output):
    """The same answer whether the e-mail was free or already had an account."""

    status: Literal["confirmation_sent"] = "confirmation_sent"
    message: str = Field(
        default=(
            "Enviamos um e-mail de confirmação. Abra o link que está nele para criar a sua loja "
            "(válido por 48 horas)."
        )
    )


class SignupPendingOut(Output):
    """A confirmation link not used yet: what it will create."""

    status: Literal["pending"] = "pending"
    email: str
    shop_name: str
