"""The shop's bank agreements (convênios): owners and admins keep them; boletos and remessas draw
their nossos números and file sequences from them."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import banking as banking_db
from assistec.db.banking import AgreementRow
from assistec.db.sql import DuplicateError
from assistec.domain.banking import boleto_banks
from assistec.domain.permissions import Permission
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError, found

if TYPE_CHECKING:
    from assistec.domain.tokens import Identity
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

# The banks whose layouts the project reads and writes (issue 15 §1), and what each asks of an
# agreement: the layouts it has, whether the account's check digit is needed (its boletos' nosso
# número or barcode use it), and the agreement code's lengths where the bank fixes them.
BANKS = {
    "001": "Banco do Brasil",
    "033": "Santander",
    "104": "Caixa",
    "237": "Bradesco",
    "341": "Itaú",
    "748": "Sicredi",
    "756": "Sicoob",
    "085": "Ailos",
    "208": "BTG Pactual",
    "077": "Inter",
}
_LAYOUTS = {
    "001": ("cnab240", "cnab400"),
    "033": ("cnab240", "cnab400"),
    "104": ("cnab240",),
    "237": ("cnab400",),
    "341": ("cnab400",),
    "748": ("cnab240",),
    "756": ("cnab240", "cnab400"),
    "085": ("cnab240",),
    "208": ("cnab240",),
    "077": ("cnab240", "cnab400"),
}
_ACCOUNT_DIGIT = {"001", "237", "341"}
# What only one bank asks of an agreement: Banco do Brasil's carteira variation (its CNAB 240 headers
# and CBR641 detail carry it), Sicredi's posto (its nosso número and barcode).
_REQUIRED = {
    "001": (
        "wallet_variation",
        "variação da carteira: obrigatória no {name} (até 3 dígitos, como no contrato)",
    ),
    "748": ("posto", "posto: obrigatório no {name} (2 dígitos, o posto da cooperativa do contrato)"),
}
_AGREEMENT_LENGTHS = {"001": (4, 6, 7), "104": (6, 7), "748": (5,)}
BRANCH_DIGITS = 4

NO_AGREEMENT = "Convênio bancário não encontrado."
_DUPLICATE = "Este convênio (banco, agência, conta, carteira e código) já está cadastrado na loja."
_STALE = "Este convênio foi alterado por outra pessoa. Recarregue e tente novamente."
_INACTIVE = "Este convênio está desativado: ative-o para emitir boletos ou gerar remessas."
_BACKWARDS = {
    "next_nosso_numero": "O próximo nosso número não pode voltar para um número já usado (atual: {current}).",
    "next_remessa_sequence": (
        "A próxima sequência de remessa não pode voltar para uma já usada (atual: {current})."
    ),
}


def check_agreement(fields: dict[str, Any]) -> list[str]:
    """What the bank of ``fields`` refuses in them (pt-BR, one line each); empty when nothing."""
    bank = fields.get("bank_code")
    if bank not in BANKS:
        return []
    name = BANKS[bank]
    problems = []
    branch = fields.get("branch")
    if branch is not None and len(branch.lstrip("0") or "0") > BRANCH_DIGITS:
        problems.append(f"agência: até {BRANCH_DIGITS} dígitos no {name}")
    layout = fields.get("layout")
    if layout is not None and layout not in _LAYOUTS[bank]:
        problems.append(f"layout {layout} não disponível para o {name} (use {' ou '.join(_LAYOUTS[bank])})")
    if bank in _ACCOUNT_DIGIT and not fields.get("account_digit"):
        problems.append(f"dígito da conta: obrigatório no {name}")
    required = _REQUIRED.get(bank)
    if required is not None and not fields.get(required[0]):
        problems.append(required[1].format(name=name))
    code = fields.get("agreement_code")
    lengths = _AGREEMENT_LENGTHS.get(bank)
    if code is not None and lengths is not None and len(code) not in lengths:
        allowed = " ou ".join(str(n) for n in lengths)
        problems.append(f"convênio: {allowed} dígitos no {name}")
    return problems


def normalized(fields: dict[str, Any]) -> dict[str, Any]:
    """The branch with its leading zeros, as the bank's files carry it (four digits)."""
    if fields.get("branch") is not None:
        fields = {**fields, "branch": fields["branch"].lstrip("0").rjust(BRANCH_DIGITS, "0")}
    return fields


def bank_rules(agreement: AgreementRow) -> boleto_banks.Agreement:
    """The agreement as the domain's nosso número and barcode rules take it (``boleto_banks``,
    ``nosso_numero``): the remessa writes, the intake reads and the due-date change recomputes with
    the same. Sicredi's posto goes in as the rule's ``post`` option (its nosso número's check digit
    and campo livre); an agreement without it (made before the field) gets the rule's refusal."""
    options = {"post": agreement.posto} if agreement.posto else {}
    return boleto_banks.Agreement(
        bank_code=agreement.bank_code,
        agency=agreement.branch,
        account=agreement.account,
        wallet=agreement.wallet,
        agreement_code=agreement.agreement_code,
        options=MappingProxyType(options),
    )


class BankAgreements:
    """CRUD of the shop's bank agreements (``Permission.BANKING_MANAGE``: owners and admins), each
    change audited; and the counters' allocation for the use cases that issue boletos and remessas
    (in their own unit of work)."""

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def create(self, identity: Identity, fields: dict[str, Any]) -> AgreementRow:
        """Register an agreement (409 when the shop has the same one already)."""
        fields = normalized(fields)
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            try:
                row = banking_db.insert_agreement(uow.conn, tenant_id=uow.tenant_id, fields=fields)
            except DuplicateError:
                raise ConflictError(_DUPLICATE) from None
            uow.audit("create", "bank_agreement", row.id, changes=fields)
        return row

    def list(self, identity: Identity) -> list[AgreementRow]:
        """The shop's agreements, oldest first."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            return banking_db.list_agreements(uow.conn)

    def get(self, identity: Identity, agreement_id: UUID) -> AgreementRow:
        """One agreement of the caller's shop; 404 for any other id."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            return found(banking_db.get_agreement(uow.conn, agreement_id), NO_AGREEMENT)

    def update(
        self, identity: Identity, agreement_id: UUID, *, version: int, changes: dict[str, Any]
    ) -> AgreementRow:
        """Change an agreement at ``version`` (409 with the current version when someone else did
        first). The nosso número and remessa counters only move forward (422 otherwise): a lower one
        would hand out again a number the bank has seen."""
        changes = normalized(changes)
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            current = found(banking_db.get_agreement(uow.conn, agreement_id), NO_AGREEMENT)
            problems = check_agreement({**_fields(current), **changes})
            if problems:
                raise ValidationFailedError(
                    "Dados inválidos. Verifique os campos indicados.",
                    details=[{"field": "body", "message": p} for p in problems],
                )
            changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
            if not changes:
                if current.version != version:
                    raise ConflictError(_STALE, details={"current_version": current.version})
                return current
            for counter in banking_db.COUNTERS:
                if counter in changes and changes[counter] < getattr(current, counter):
                    raise ValidationFailedError(
                        _BACKWARDS[counter].format(current=getattr(current, counter)),
                        details=[{"field": counter, "message": "não pode diminuir"}],
                    )
            try:
                before, after = uow.update_versioned(
                    lambda: current,
                    lambda: banking_db.update_agreement(
                        uow.conn, agreement_id, expected_version=version, changes=changes
                    ),
                    version_of=lambda a: a.version,
                    not_found=NO_AGREEMENT,
                    stale=_STALE,
                )
            except DuplicateError:
                raise ConflictError(_DUPLICATE) from None
            uow.audit(
                "update",
                "bank_agreement",
                agreement_id,
                changes={k: {"from": getattr(before, k), "to": getattr(after, k)} for k in changes},
            )
        return after

    @staticmethod
    def allocate_nosso_numero(uow: UnitOfWork, agreement_id: UUID, count: int = 1) -> range:
        """``count`` consecutive nossos números of the agreement, inside the caller's unit of work (the
        boleto's issue): they are the caller's once it commits, and back in the counter if it rolls
        back. Concurrent callers wait on the agreement's row until the first one's transaction ends,
        so no two transactions hold the same number. 404 for an unknown agreement, 409 when it is
        inactive."""
        first = banking_db.allocate_nosso_numero(uow.conn, agreement_id, count)
        if first is None:
            _unknown_or_inactive(uow, agreement_id)
        assert first is not None
        return range(first, first + count)

    @staticmethod
    def allocate_remessa_sequence(uow: UnitOfWork, agreement_id: UUID) -> int:
        """The agreement's next remessa sequence, inside the caller's unit of work (the remessa's
        generation), as ``allocate_nosso_numero``."""
        sequence = banking_db.allocate_remessa_sequence(uow.conn, agreement_id)
        if sequence is None:
            _unknown_or_inactive(uow, agreement_id)
        assert sequence is not None
        return sequence


def _fields(row: AgreementRow) -> dict[str, Any]:
    return {k: getattr(row, k) for k in banking_db.AGREEMENT_FIELDS}


def _unknown_or_inactive(uow: UnitOfWork, agreement_id: UUID) -> None:
    if banking_db.get_agreement(uow.conn, agreement_id) is None:
        raise NotFoundError(NO_AGREEMENT)
    raise ConflictError(_INACTIVE)
