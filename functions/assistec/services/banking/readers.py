"""The real bank-file parsers behind the intake's seam: ``read_bank_file(kind, data) -> ParsedFile``.

A retorno is read by the CNAB 240/400 parser (``domain.banking.cnab.parse_retorno``), a statement by
the OFX/CSV reader (``domain.banking.statements.parse_statement``); their refusals (``CnabError``,
``StatementRejected``) become ``ParseRefused`` with the same stable code and pt-BR message.

Idempotency keys (the same line in another file is recorded once):
- a retorno occurrence: bank, agreement (the file's convênio without zero padding, else its
  branch/account), the nosso número as the file writes it, the bank's occurrence code, the
  occurrence date and the title's and paid values;
- a statement line: bank and account as the file states them, then the reader's ``line_id`` (the
  bank's FITID, or a hash of the movement and its occurrence), which is stable across re-uploads.
Keys longer than the column allows are hashed (SHA-256), never cut.

An occurrence carries the nosso número as the bank's column holds it (``nosso_numero_text``): the
boleto's sequence depends on the agreement's rules (check digit over carteira, branch and account,
convênio prefix...), so the intake reads it once it knows the agreement
(``domain.banking.nosso_numero.sequence_from_retorno``, the inverse of what the remessa wrote).
"""

from __future__ import annotations

import hashlib

from assistec.domain.banking.cnab import CnabError, Retorno, parse_retorno
from assistec.domain.banking.statements import Statement, StatementRejected, parse_statement
from assistec.services.banking.parsing import (
    FileKind,
    Occurrence,
    ParsedFile,
    ParseRefused,
    StatementEntry,
)

KEY_MAX = 200


def digits_key(value: str | None) -> str:
    """A code as a comparable key: letters and digits only, without the layouts' zero padding."""
    return "".join(c for c in (value or "") if c.isalnum()).lstrip("0")


def _key(*parts: object) -> str:
    key = ":".join("" if part is None else str(part) for part in parts)
    if len(key) <= KEY_MAX:
        return key
    return f"{str(parts[0])[:20]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _agreement_code(retorno: Retorno) -> str:
    """The convênio the file states, as the shop's agreement holds it: Banco do Brasil's CNAB 240
    header writes the 9-digit convênio then the collection code, carteira and variation in 33-52."""
    code = retorno.agreement.agreement_code
    if retorno.bank_code == "001" and retorno.layout == "cnab240":
        code = code[:9]
    return digits_key(code)


def read_retorno(data: bytes) -> ParsedFile:
    try:
        retorno = parse_retorno(data)
    except CnabError as error:
        raise ParseRefused(error.code, error.message) from error
    stated = retorno.agreement
    agreement_key = (
        digits_key(stated.agreement_code) or f"{digits_key(stated.branch)}/{digits_key(stated.account)}"
    )
    occurrences = tuple(
        Occurrence(
            line_number=o.line,
            idempotency_key=_key(
                retorno.bank_code,
                agreement_key,
                o.nosso_numero.strip(),
                o.code,
                o.occurred_on.isoformat() if o.occurred_on else "",
                o.title_cents,
                o.paid_cents,
            ),
            kind=o.kind.value,  # the domain's kinds are a subset of the intake's
            occurrence_code=o.code[:10] or None,
            # the sequence needs the agreement's rules: the intake reads it (nosso_numero.py)
            nosso_numero_text=o.nosso_numero.strip() or None,
            due_date=o.due_date,
            reasons=(o.reasons.strip("0 ") and o.reasons.strip()[:100]) or None,
            amount_cents=o.title_cents,
            paid_cents=o.paid_cents,
            fee_cents=o.fee_cents,
            interest_cents=o.interest_cents,
            discount_cents=o.discount_cents,
            occurred_on=o.occurred_on,
            credited_on=o.credited_on,
        )
        for o in retorno.occurrences
    )
    return ParsedFile(
        format="cnab240" if retorno.layout == "cnab240" else "cnab400",
        line_count=sum(1 for line in data.splitlines() if line.strip()),
        bank_code=retorno.bank_code,
        agreement_code=_agreement_code(retorno) or None,
        branch=digits_key(stated.branch) or None,
        account=digits_key(stated.account) or None,
        occurrences=occurrences,
        defects=tuple(defect.code for defect in retorno.defects),
    )


def read_statement(data: bytes) -> ParsedFile:
    try:
        statement: Statement = parse_statement(data)
    except StatementRejected as error:
        raise ParseRefused(error.code, error.message) from error
    bank = statement.bank_code or ""
    account = digits_key(statement.account)
    entries = tuple(
        StatementEntry(
            line_number=number,
            idempotency_key=_key(bank, account, line.line_id),
            posted_on=line.posted_on,
            amount_cents=line.amount_cents,
            description=line.description[:500] or None,
            reference=(line.document or line.fit_id or "")[:200] or None,
        )
        for number, line in enumerate(statement.lines, start=1)
        if line.amount_cents != 0
    )
    return ParsedFile(
        format="ofx" if statement.source == "ofx" else "csv",
        line_count=len(statement.lines),
        bank_code=statement.bank_code,
        account=account or None,
        statement_lines=entries,
        defects=statement.defects,
    )


def read_bank_file(kind: FileKind, data: bytes) -> ParsedFile:
    """The file read by the parser of its kind; ``ParseRefused`` for a file it cannot trust."""
    return read_retorno(data) if kind == "retorno" else read_statement(data)
