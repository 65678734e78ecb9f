"""Banking's API models and the intake's object keys: what a shop may send as an agreement or a file,
the pt-BR reasons for what it may not, and keys that always say whose a file is."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from assistec.api.schemas.banking import INLINE_MAX_BASE64, AgreementIn, AgreementPatch, BankFileInlineIn
from assistec.services.banking.agreements import BANKS, check_agreement, normalized
from assistec.services.banking.intake import INLINE_MAX_BYTES, object_key, parse_key, safe_filename

SICOOB = {
    "name": "Sicoob",
    "bank_code": "756",
    "branch": "3069",
    "account": "1234567",
    "wallet": "1",
    "agreement_code": "1234567",
    "layout": "cnab240",
}


def _messages(exc: ValidationError) -> str:
    return " | ".join(str(e.get("ctx", {}).get("error") or e["msg"]) for e in exc.errors())


def test_a_valid_agreement_keeps_its_values_and_upper_cases_digits_and_wallets() -> None:
    model = AgreementIn.model_validate({**SICOOB, "account_digit": "x", "wallet": "a1"})
    assert (model.account_digit, model.wallet) == ("X", "A1")
    assert (model.next_nosso_numero, model.active, model.fine_bp) == (1, True, 0)


@pytest.mark.parametrize("code", sorted(BANKS))
def test_every_supported_bank_code_is_taken(code: str) -> None:
    fields = {**SICOOB, "bank_code": code, "account_digit": "1"}
    fields["layout"] = "cnab400" if code in ("237", "341") else "cnab240"
    fields["agreement_code"] = {"001": "1234567", "104": "123456", "748": "12345"}.get(code, "1234567")
    fields |= {"001": {"wallet_variation": "019"}, "748": {"posto": "18"}}.get(code, {})
    assert AgreementIn.model_validate(fields).bank_code == code


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"bank_code": "000"}, "banco não atendido"),
        ({"bank_code": 756}, "string"),
        ({"branch": "30 69"}, "agência"),
        ({"account": "-1"}, "conta"),
        ({"account_digit": "*"}, "dígito da conta"),
        ({"branch_digit": "Y"}, "dígito da agência"),
        ({"agreement_code": "abc"}, "convênio"),
        ({"layout": "cnab150"}, "cnab240"),
        ({"fine_bp": 2.5}, "integer"),
        ({"discount_days": True}, "integer"),
        ({"surprise": 1}, "Extra inputs"),
        ({"bank_code": "748", "agreement_code": "1234", "posto": "18"}, "convênio: 5 dígitos no Sicredi"),
        ({"bank_code": "748", "agreement_code": "12345"}, "posto: obrigatório no Sicredi"),
        ({"bank_code": "748", "agreement_code": "12345", "posto": "1"}, "posto: 2 dígitos"),
        ({"bank_code": "748", "agreement_code": "12345", "posto": "1a"}, "posto: 2 dígitos"),
        ({"bank_code": "001", "account_digit": "1"}, "variação da carteira: obrigatória no Banco do Brasil"),
        ({"wallet_variation": "0190"}, "at most 3 characters"),
        ({"wallet_variation": "x9"}, "variação da carteira: só números"),
        ({"bank_code": "104", "layout": "cnab400", "agreement_code": "123456"}, "layout cnab400"),
    ],
)
def test_bad_agreements_are_refused_saying_why(change: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        AgreementIn.model_validate({**SICOOB, **change})
    assert says in _messages(refused.value)


def test_a_patch_needs_a_version_and_refuses_null_for_what_cannot_be_empty() -> None:
    assert AgreementPatch.model_validate({"version": 3, "account_digit": None}).account_digit is None
    with pytest.raises(ValidationError, match="version"):
        AgreementPatch.model_validate({"name": "x"})
    with pytest.raises(ValidationError, match="não pode ser vazio: bank_code"):
        AgreementPatch.model_validate({"version": 1, "bank_code": None})


def test_the_bank_rules_see_the_whole_agreement() -> None:
    itau = {**SICOOB, "bank_code": "341", "layout": "cnab400", "account_digit": None}
    assert check_agreement(itau) == ["dígito da conta: obrigatório no Itaú"]
    assert check_agreement({**itau, "account_digit": "5"}) == []
    assert check_agreement({**itau, "account_digit": "5", "branch": "00001"}) == []
    assert check_agreement({**itau, "account_digit": "5", "branch": "10001"}) == [
        "agência: até 4 dígitos no Itaú"
    ]
    bb = {**SICOOB, "bank_code": "001", "account_digit": "1", "wallet": "17"}
    assert check_agreement(bb) == [
        "variação da carteira: obrigatória no Banco do Brasil (até 3 dígitos, como no contrato)"
    ]
    assert check_agreement({**bb, "wallet_variation": "19"}) == []
    sicredi = {**SICOOB, "bank_code": "748", "agreement_code": "12345", "posto": None}
    assert check_agreement(sicredi) == [
        "posto: obrigatório no Sicredi (2 dígitos, o posto da cooperativa do contrato)"
    ]
    assert check_agreement({**sicredi, "posto": "18"}) == []
    assert normalized({"branch": "57"}) == {"branch": "0057"}
    assert normalized({"branch": "00057"}) == {"branch": "0057"}
    assert normalized({"name": "x"}) == {"name": "x"}


def test_an_inline_file_decodes_and_stays_within_its_limit() -> None:
    data = b"\x00\xffretorno"
    model = BankFileInlineIn.model_validate(
        {"kind": "retorno", "content_base64": base64.b64encode(data).decode()}
    )
    assert model.content() == data
    # The body's limit is the base64 of the largest file
    assert len(base64.b64encode(b"0" * INLINE_MAX_BYTES)) == INLINE_MAX_BASE64
    BankFileInlineIn.model_validate(
        {"kind": "statement", "content_base64": base64.b64encode(b"0" * INLINE_MAX_BYTES)}
    )
    for content, says in (
        (base64.b64encode(b"0" * (INLINE_MAX_BYTES + 1)).decode(), "too_long|arquivo grande demais"),
        ("QUJD=", "base64"),
        ("@@@@", "base64"),
        ("", "at least 1"),
    ):
        with pytest.raises(ValidationError) as refused:
            BankFileInlineIn.model_validate({"kind": "retorno", "content_base64": content})
        assert any(part in _messages(refused.value) + str(refused.value) for part in says.split("|")), content


@given(
    name=st.one_of(st.none(), st.text(max_size=300)),
    kind=st.sampled_from(["retorno", "statement"]),
)
def test_every_key_the_api_signs_says_whose_file_it_is(name: str | None, kind: str) -> None:
    tenant, user, upload = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    key = object_key(tenant, kind, user, upload, name or kind)  # type: ignore[arg-type]
    ref = parse_key(key)
    assert ref is not None
    assert (ref.tenant_id, ref.kind, ref.user_id, ref.upload_id) == (tenant, kind, user, upload)
    assert ref.filename == safe_filename(name or kind)
    assert 1 <= len(ref.filename) <= 100


# Fixed ids (the same test names in every pytest-xdist worker).
_A, _B, _C = (
    "6f1c2a4e-0b7d-4c3e-9a51-2d8e7f3b9c01",
    "0d9b8e2f-5a61-4f7c-8e3d-1b2c3d4e5f60",
    "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
)


@pytest.mark.parametrize(
    "key",
    [
        "bank-files/../x",
        f"{_A}/devices/{_B}/a.jpg",
        f"bank-files/{_A}/remessa/{_B}/{_C}/a.rem",
        f"bank-files/{_A}/retorno/{_B}/{_C}/a b.ret",
        f"bank-files/{_A}/retorno/{_B}/{_C}/../../a.ret",
        f"bank-files/{'z' * 36}/retorno/{_B}/{_C}/a.ret",
    ],
    ids=["dot-dot", "a-photo", "remessa-kind", "space", "dot-dot-deep", "shop-not-uuid"],
)
def test_keys_the_api_never_signs_name_no_shop(key: str) -> None:
    assert parse_key(key) is None
