"""Pure rules: documents, phones, permissions, tokens, pagination cursors."""

from __future__ import annotations

import uuid

import pytest

from assistec.api import pagination
from assistec.domain import documents, passwords, phones, tokens
from assistec.domain.permissions import Permission, Role, allows, may_assign
from assistec.errors import ValidationFailedError


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),  # alphanumeric CNPJ (2026)
        ("11.222.333/0001-80", None),  # wrong check digit
        ("00000000000000", None),
        ("1122233300018", None),
        ("", None),
    ],
)
def test_cnpj(raw: str, normal: str | None) -> None:
    assert documents.normalize_cnpj(raw) == normal


@pytest.mark.parametrize(
    ("raw", "normal"), [("529.982.247-25", "52998224725"), ("111.111.111-11", None), ("5299822472", None)]
)
def test_cpf(raw: str, normal: str | None) -> None:
    assert documents.normalize_cpf(raw) == normal


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("11 8765-4321", "+5511987654321"),  # mobile written without its ninth digit
        ("+55 11 3333-4444", "+551133334444"),  # landline: no ninth digit added
        ("+1 650 253 0000", "+16502530000"),
        ("123", None),
        ("abc", None),
    ],
)
def test_phone_e164(raw: str, e164: str | None) -> None:
    assert phones.to_e164(raw) == e164


def test_brazilian_mobile_variants_name_one_line() -> None:
    assert phones.brazilian_variants("+5511987654321") == {"+5511987654321", "+551187654321"}
    assert phones.brazilian_variants("+551133334444") == {"+551133334444"}


def test_permissions() -> None:
    assert allows(Role.OWNER, Permission.USERS_MANAGE)
    assert allows(Role.ADMIN, Permission.SETTINGS_WRITE)
    assert not allows(Role.TECHNICIAN, Permission.USERS_MANAGE)
    assert not allows(Role.ATTENDANT, Permission.SETTINGS_WRITE)
    assert allows(Role.ATTENDANT, Permission.SETTINGS_READ)
    assert not may_assign(Role.OWNER, Role.OWNER)
    assert may_assign(Role.ADMIN, Role.TECHNICIAN)
    assert not may_assign(Role.TECHNICIAN, Role.ATTENDANT)


def test_access_token_round_trip_and_expiry() -> None:
    identity = tokens.Identity(uuid.uuid4(), uuid.uuid4(), Role.TECHNICIAN)
    key = b"k" * 40
    token = tokens.issue_access_token(identity, key, now=1_800_000_000)
    assert tokens.verify_access_token(token, key, now=1_800_000_000 + 60) == identity
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(token, key, now=1_800_000_000 + tokens.ACCESS_TTL_S + 31)
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(token, b"other-key" * 5, now=1_800_000_000)


def test_refresh_token_carries_its_tenant_and_is_stored_hashed() -> None:
    tenant = uuid.uuid4()
    token = tokens.new_refresh_token(tenant)
    assert tokens.refresh_token_tenant(token) == tenant
    assert tokens.token_hash(token) != token.encode()
    assert len(tokens.token_hash(token)) == 32
    with pytest.raises(tokens.TokenError):
        tokens.refresh_token_tenant("nao-tem-ponto")


def test_passwords() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "wrong")
    assert not passwords.verify_password(None, "anything")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_pagination_cursor_round_trip_and_rejection() -> None:
    key = ["2026-11-24T10:00:00+00:00", str(uuid.uuid4())]
    assert pagination.decode(pagination.encode(key), 2) == key
    for bad in ("!!!", "e30", pagination.encode(["only-one"])):
        with pytest.raises(ValidationFailedError):
            pagination.decode(bad, 2)
