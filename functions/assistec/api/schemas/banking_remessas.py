"""Models of the remessa files and the boletos' instructions to the bank."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from assistec.api.schemas.common import Input, IsoDate, Output

InstructionKind = Literal["write_off", "change_due_date"]


class RemessaOut(Output):
    id: UUID
    agreement_id: UUID
    sequence: int = Field(description="The agreement's file sequence (NSA), one per file")
    item_count: int = Field(description="Lines in the file: registrations and instructions")
    total_cents: int = Field(description="Sum of the boletos this file registers (centavos)")
    filename: str = Field(description="The name the bank's transfer software expects (CBddmmNN.REM)")
    sha256: str = Field(description="Hex SHA-256 of the file")
    created_by: UUID | None
    created_at: datetime


class RemessaLinkOut(RemessaOut):
    download_url: str = Field(description="A presigned GET of the file")
    expires_in: int = Field(description="Seconds the link is valid")


class RemessaItemOut(Output):
    boleto_id: UUID
    nosso_numero: int
    instruction: str = Field(description="register, write_off or change_due_date")
    line_number: int | None = Field(description="The line of the title's first record in the file")
    amount_cents: int
    due_date: date | None = Field(description="The due date sent (the new one for a due-date change)")


class RemessaDetail(RemessaLinkOut):
    items: list[RemessaItemOut]


class RemessaPage(Output):
    items: list[RemessaOut]
    next_cursor: str | None


class InstructionIn(Input):
    instruction: InstructionKind = Field(
        description="write_off (baixa) or change_due_date (alteração de vencimento, with due_date)"
    )
    due_date: IsoDate | None = Field(default=None, description="The new due date (change_due_date only)")

    @model_validator(mode="after")
    def _due_date(self) -> InstructionIn:
        if self.instruction == "change_due_date" and self.due_date is None:
            raise ValueError("informe o novo vencimento (due_date) para alterar o vencimento")
        if self.instruction == "write_off" and self.due_date is not None:
            raise ValueError("a baixa não leva vencimento (due_date)")
        return self


class InstructionOut(Output):
    boleto_id: UUID
    outcome: Literal["pending", "cancelled"] = Field(
        description="pending: goes in the agreement's next remessa; cancelled: the boleto had never been "
        "sent to the bank, so it was cancelled here and nothing goes to the bank"
    )
    instruction_id: UUID | None
    instruction: InstructionKind
    due_date: date | None
    status: Literal["pending", "sent", "void", "cancelled"]
