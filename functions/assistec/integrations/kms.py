"""Field encryption with KMS: small secrets (device unlock codes) never stored in clear.

The encryption context (shop and device ids) is bound into each ciphertext: a value copied to
another row or shop does not decrypt.
"""

from __future__ import annotations

from typing import Any, Protocol


class Cipher(Protocol):
    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str: ...


class KmsCipher:
    def __init__(self, key_id: str) -> None:
        self._key_id = key_id
        self._client: Any = None

    def _kms(self) -> Any:
        if self._client is None:
            import boto3  # deferred: only requests that touch an unlock code need KMS

            self._client = boto3.client("kms")
        return self._client

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        response = self._kms().encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=context
        )
        return bytes(response["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        response = self._kms().decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=context
        )
        return bytes(response["Plaintext"]).decode()
