"""KMS purposes (issue 10, §6): each ciphertext's encryption context names its shop and what it is,
and a cipher built for one purpose refuses the other before KMS is asked (in AWS, the role's grant,
conditioned on the same entry, refuses it too)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from assistec.domain.tokens import Identity
from assistec.integrations.kms import ASAAS_API_KEY, UNLOCK_CODE, KmsCipher, WrongPurposeError
from assistec.services.devices import _context as unlock_code_context
from assistec.services.payments.account import _context as asaas_key_context

TENANT = uuid.uuid4()


class RecordingKms:
    """KMS's two calls, echoing the plaintext; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []

    def encrypt(self, *, KeyId: str, Plaintext: bytes, EncryptionContext: dict[str, str]) -> dict[str, Any]:
        self.calls.append(("encrypt", EncryptionContext))
        return {"CiphertextBlob": Plaintext}

    def decrypt(
        self, *, KeyId: str, CiphertextBlob: bytes, EncryptionContext: dict[str, str]
    ) -> dict[str, Any]:
        self.calls.append(("decrypt", EncryptionContext))
        return {"Plaintext": CiphertextBlob}


def _cipher(purpose: tuple[str, str]) -> tuple[KmsCipher, RecordingKms]:
    cipher, kms = KmsCipher("key", purpose), RecordingKms()
    cipher._client = kms
    return cipher, kms


def _unlock() -> dict[str, str]:
    return unlock_code_context(Identity(TENANT, uuid.uuid4(), "owner"), uuid.uuid4())  # type: ignore[arg-type]


def test_each_stored_secret_names_its_shop_and_its_purpose() -> None:
    unlock, asaas = _unlock(), asaas_key_context(TENANT)
    assert unlock["tenant_id"] == asaas["tenant_id"] == str(TENANT)
    assert unlock[UNLOCK_CODE[0]] == UNLOCK_CODE[1]
    assert asaas[ASAAS_API_KEY[0]] == ASAAS_API_KEY[1]
    # neither carries the other's purpose (the IAM condition for one never admits the other)
    assert unlock.get(ASAAS_API_KEY[0]) != ASAAS_API_KEY[1]
    assert asaas.get(UNLOCK_CODE[0]) != UNLOCK_CODE[1]


def test_a_cipher_for_asaas_keys_refuses_unlock_codes_before_calling_kms() -> None:
    # Given the payment workers' cipher (Asaas keys)
    cipher, kms = _cipher(ASAAS_API_KEY)
    # When it is asked for an unlock code, either way
    with pytest.raises(WrongPurposeError):
        cipher.decrypt(b"sealed", _unlock())
    with pytest.raises(WrongPurposeError):
        cipher.encrypt("1234", _unlock())
    # Then KMS was never called; its own purpose goes through, context unchanged
    assert kms.calls == []
    assert (
        cipher.decrypt(cipher.encrypt("$aact_x", asaas_key_context(TENANT)), asaas_key_context(TENANT))
        == "$aact_x"
    )
    assert [context for _, context in kms.calls] == [asaas_key_context(TENANT)] * 2


def test_a_cipher_for_unlock_codes_refuses_asaas_keys() -> None:
    cipher, kms = _cipher(UNLOCK_CODE)
    with pytest.raises(WrongPurposeError):
        cipher.decrypt(b"sealed", asaas_key_context(TENANT))
    assert kms.calls == []
    context = _unlock()
    assert cipher.decrypt(cipher.encrypt("1234", context), context) == "1234"
