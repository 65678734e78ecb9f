"""The backup bundle's format (domain/backup_bundle.py): what goes in comes back out exactly, and a
bundle that is not exactly what was written — a bit flipped anywhere, cut anywhere, frames moved or
swapped in from another bundle, another shop's, another format — is refused before any of it is used.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistec.domain import backup_bundle as bb
from assistec.domain.backup_bundle import BundleRefused

TENANT = uuid.UUID("6f1c1c3e-2d1b-4a57-9a1e-0b7d3c7a9e01")
OTHER = uuid.UUID("0a4b0f4e-5e55-4c9a-8f38-1d2e3f405162")
CREATED = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


class Keys:
    """KMS's contract for data keys, in memory: a key opens only under the context it was made for."""

    def __init__(self) -> None:
        self._made: dict[bytes, tuple[bytes, dict[str, str]]] = {}

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        key, sealed = os.urandom(32), b"kms:" + os.urandom(24)
        self._made[sealed] = (key, dict(context))
        return key, sealed

    def open(self, sealed: bytes, context: dict[str, str]) -> bytes:
        key, made_for = self._made[sealed]  # KeyError: not a key of ours
        if made_for != context:
            raise ValueError("InvalidCiphertextException")
        return key


def _gz(data: bytes) -> bytes:
    out = io.BytesIO()
    with bb.gzip_writer(out) as g:
        g.write(data)
    return out.getvalue()


def write_bundle(
    tables: dict[str, bytes],
    *,
    keys: Keys,
    tenant: uuid.UUID = TENANT,
    chunk_size: int = 256,
    bundle_id: uuid.UUID | None = None,
    key: tuple[bytes, bytes] | None = None,
    nonce: bytes | None = None,
    lie: dict[str, Any] | None = None,
    manifest_format: int = bb.FORMAT_VERSION,
    files: dict[str, bytes] | None = None,
) -> bytes:
    """A bundle of ``tables`` (name → COPY text); ``lie`` overrides what the manifest says of a table,
    ``files`` the bytes stored as a table's file (instead of its text gzip-compressed)."""
    data_key, sealed = key or keys.generate(bb.key_context(tenant))
    header = bb.Header(
        tenant_id=tenant,
        bundle_id=bundle_id or uuid.uuid4(),
        created_at=CREATED,
        encrypted_key=sealed,
        nonce=nonce or os.urandom(12),
        chunk_size=chunk_size,
    )
    sink = io.BytesIO()
    writer = bb.BundleWriter(sink, header, data_key)
    entries = []
    for name, text in tables.items():
        compressed = (files or {}).get(name) or _gz(text)
        writer.add_table(name, io.BytesIO(compressed), len(compressed))
        digest = bb.TableDigest()
        digest.update(text)
        fields = {
            "rows": digest.rows,
            "sha256": digest.sha256,
            "bytes": digest.bytes,
            **(lie or {}).get(name, {}),
        }
        entries.append(
            bb.TableEntry(
                name=name, columns=(bb.Column("id", "uuid"), bb.Column("name", "text")), key=("id",), **fields
            )
        )
    manifest = bb.Manifest(
        bundle_id=header.bundle_id,
        tenant_id=tenant,
        shop_name="Conserta Já",
        created_at=CREATED,
        schema_version=29,
        tables=tuple(entries),
        excluded={"refresh_tokens": "sessões"},
        format=manifest_format,
    )
    writer.finish(manifest)
    return sink.getvalue()


def verify(data: bytes, keys: Keys, tenant: uuid.UUID = TENANT) -> bb.VerifiedBundle:
    return bb.verify_bundle(io.BytesIO(data), expected_tenant=tenant, open_key=keys.open)


def tables_of(data: bytes, verified: bb.VerifiedBundle) -> dict[str, bytes]:
    return {entry.name: stream.read() for entry, stream in bb.read_tables(io.BytesIO(data), verified)}


TABLES = {
    "customers": "1\tAna Souza\n2\t\\N\n3\tJo\\\\\\tão\\nsegunda linha\n".encode(),
    "service_orders": b"".join(f"{i}\tOS {i}\n".encode() for i in range(300)),
    "empty": b"",
}


def test_a_bundle_round_trips_its_tables_and_manifest() -> None:
    # Given a bundle of three tables (one empty), written in frames much smaller than it
    keys = Keys()
    data = write_bundle(TABLES, keys=keys, chunk_size=128)
    # When it is verified for its shop and read
    verified = verify(data, keys)
    # Then the manifest says what the writer said, and each table file comes back byte for byte
    assert verified.manifest.tenant_id == TENANT
    assert verified.manifest.shop_name == "Conserta Já"
    assert [t.name for t in verified.manifest.tables] == list(TABLES)
    assert verified.manifest.rows == 3 + 300
    assert tables_of(data, verified) == TABLES
    # And the trailer carries the manifest's SHA-256, readable without the key
    assert data[-40:-8] == verified.manifest_sha256
    assert data.startswith(bb.MAGIC)
    assert data.endswith(b"ASBEND\x00\x00")


def test_the_header_layout_is_the_documented_one() -> None:
    keys = Keys()
    bundle_id = uuid.uuid4()
    nonce = bytes(range(12))
    data = write_bundle({"t": b"x\n"}, keys=keys, bundle_id=bundle_id, nonce=nonce, chunk_size=4096)
    magic, version, tenant, bundle, micros, chunk, base, key_length = struct.unpack(
        ">8sH16s16sqI12sH", data[:68]
    )
    assert (magic, version, chunk, base) == (b"ASBUNDLE", 1, 4096, nonce)
    assert (uuid.UUID(bytes=tenant), uuid.UUID(bytes=bundle)) == (TENANT, bundle_id)
    assert micros == int(CREATED.timestamp()) * 1_000_000
    assert data[68 : 68 + key_length].startswith(b"kms:")
    # the first frame follows: flags, length, then the sealed chunk (4096 plaintext bytes + tag, or
    # fewer in the final frame)
    flags, length = struct.unpack(">BI", data[68 + key_length : 73 + key_length])
    assert flags in (0, 1)
    assert 16 <= length <= 4096 + 16


def test_copy_text_is_read_back_with_nulls_and_escapes() -> None:
    # COPY's text format: \N is NULL, an empty field is the empty string, escapes are undone
    assert bb.parse_copy_line("a\t\\N\t\t\\\\x\\ty\\nz\\r\\b\\f\\v\\101") == [
        "a",
        None,
        "",
        "\\x\ty\nz\r\b\f\vA",
    ]
    rows = list(bb.copy_rows(io.BytesIO("1\tJoão\n2\t\\N\n".encode())))
    assert rows == [["1", "João"], ["2", None]]


def test_json_values_are_friendly() -> None:
    assert bb.json_value("integer", "42") == 42
    assert bb.json_value("bigint", "15000") == 15000
    assert bb.json_value("boolean", "t") is True
    assert bb.json_value("jsonb", '{"a": [1, 2]}') == {"a": [1, 2]}
    assert bb.json_value("text[]", '{carregador,"capa azul",NULL}') == ["carregador", "capa azul", None]
    assert bb.json_value("integer[]", "{1440,120}") == [1440, 120]
    assert bb.json_value("timestamp with time zone", "2026-11-24 05:00:00+00") == "2026-11-24 05:00:00+00"
    assert bb.json_value("text", None) is None


def test_retention_and_key_of_a_day() -> None:
    assert bb.retention(date(2026, 11, 24)) == "daily"  # a Tuesday
    assert bb.retention(date(2026, 11, 29)) == "weekly"  # a Sunday
    assert bb.retention(date(2026, 11, 1)) == "monthly"  # a Sunday and the 1st: monthly wins
    assert bb.retention(date(2026, 12, 1)) == "monthly"
    assert bb.bundle_key(TENANT, date(2026, 11, 24)) == f"shops/{TENANT}/2026-11-24.bundle"


# --- refusals -------------------------------------------------------------------------------------


def _refused(data: bytes, keys: Keys, tenant: uuid.UUID = TENANT) -> str:
    with pytest.raises(BundleRefused) as refused:
        verify(data, keys, tenant)
    assert refused.value.message  # a pt-BR sentence for the person restoring
    return refused.value.code


def test_another_shops_bundle_is_refused_before_kms_is_asked() -> None:
    # Given shop B's bundle
    keys = Keys()
    data = write_bundle(TABLES, keys=keys, tenant=OTHER)

    # When it is verified as shop A's, the header names B: refused without asking KMS
    def never(sealed: bytes, context: dict[str, str]) -> bytes:
        raise AssertionError("KMS was asked")

    with pytest.raises(BundleRefused) as refused:
        bb.verify_bundle(io.BytesIO(data), expected_tenant=TENANT, open_key=never)
    assert refused.value.code == "wrong_shop"


def test_a_header_edited_to_name_another_shop_is_refused() -> None:
    # Given B's bundle whose header was edited to name shop A
    keys = Keys()
    data = bytearray(write_bundle(TABLES, keys=keys, tenant=OTHER))
    data[10:26] = TENANT.bytes
    # Then KMS does not open B's key under A's context
    assert _refused(bytes(data), keys) == "key_refused"

    # And even a key service that ignored the context would not help: every frame is bound to the
    # original header
    def careless(sealed: bytes, context: dict[str, str]) -> bytes:
        return keys.open(sealed, bb.key_context(OTHER))

    with pytest.raises(BundleRefused) as refused:
        bb.verify_bundle(io.BytesIO(bytes(data)), expected_tenant=TENANT, open_key=careless)
    assert refused.value.code == "tampered"


def test_an_unknown_format_version_is_refused() -> None:
    keys = Keys()
    data = bytearray(write_bundle(TABLES, keys=keys))
    data[8:10] = (2).to_bytes(2, "big")
    assert _refused(bytes(data), keys) == "unknown_version"
    # a manifest of another format inside a well-formed bundle too
    assert _refused(write_bundle(TABLES, keys=keys, manifest_format=2), keys) == "unknown_version"


def test_not_a_bundle() -> None:
    assert _refused(b"PK\x03\x04 a zip file", Keys()) == "not_a_bundle"
    assert _refused(b"", Keys()) == "not_a_bundle"


def test_a_manifest_that_does_not_match_its_tables_is_refused() -> None:
    # Given bundles whose (authentic) manifest lies about a table's rows, or its hash
    keys = Keys()
    assert (
        _refused(write_bundle(TABLES, keys=keys, lie={"customers": {"rows": 4}}), keys) == "manifest_mismatch"
    )
    wrong_hash = hashlib.sha256(b"other").hexdigest()
    assert _refused(write_bundle(TABLES, keys=keys, lie={"customers": {"sha256": wrong_hash}}), keys) == (
        "manifest_mismatch"
    )


def _frames(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """The offset where the frames start, and each frame's (start, end)."""
    key_length = struct.unpack(">H", data[66:68])[0]
    at = start = 68 + key_length
    frames = []
    while True:
        flags, length = struct.unpack(">BI", data[at : at + 5])
        frames.append((at, at + 5 + length))
        at += 5 + length
        if flags == 1:
            return start, frames


def test_frames_moved_or_swapped_in_from_another_bundle_are_refused() -> None:
    # Given two bundles of the same shop under the same data key and nonce (the worst case: KMS would
    # give each its own), many frames each
    keys = Keys()
    key, nonce = keys.generate(bb.key_context(TENANT)), os.urandom(12)
    a = write_bundle(TABLES, keys=keys, key=key, nonce=nonce, chunk_size=64)
    b = write_bundle({**TABLES, "customers": b"9\tOutra\n"}, keys=keys, key=key, nonce=nonce, chunk_size=64)
    _, frames_a = _frames(a)
    _, frames_b = _frames(b)
    assert len(frames_a) > 4
    # When two frames of A trade places
    (s1, e1), (s2, e2) = frames_a[1], frames_a[2]
    swapped = a[:s1] + a[s2:e2] + a[s1:e1] + a[e2:]
    assert _refused(swapped, keys) == "tampered"
    # When frame 1 of A is replaced by frame 1 of B
    (sb, eb) = frames_b[1]
    spliced = a[:s1] + b[sb:eb] + a[e1:]
    assert _refused(spliced, keys) == "tampered"
    # When the final frame is dropped and the one before it claims to be final
    (sl, _), (sp, _) = frames_a[-1], frames_a[-2]
    early_end = bytearray(a[:sl] + a[-40:])
    early_end[sp] = 1
    assert _refused(bytes(early_end), keys) == "tampered"
    # When bytes follow the trailer
    assert _refused(a + b"\x00", keys) == "tampered"


# Bundles for the properties: written once per example (small frames: many of them).
_payloads = st.dictionaries(
    st.sampled_from(["customers", "devices", "service_orders", "audit_log"]),
    st.binary(max_size=2000),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=_payloads, chunk=st.integers(min_value=16, max_value=700))
def test_any_payload_round_trips(tables: dict[str, bytes], chunk: int) -> None:
    keys = Keys()
    data = write_bundle(tables, keys=keys, chunk_size=chunk)
    verified = verify(data, keys)
    assert tables_of(data, verified) == tables


_BUNDLE_KEYS = Keys()
_BUNDLE = write_bundle(TABLES, keys=_BUNDLE_KEYS, chunk_size=200)


@settings(max_examples=400, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(_BUNDLE) * 8 - 1))
def test_any_single_bit_flip_is_refused(position: int) -> None:
    # Given the bundle with one bit flipped, anywhere (header, key, frames, tags, trailer)
    data = bytearray(_BUNDLE)
    data[position // 8] ^= 1 << (position % 8)
    # Then it is refused
    with pytest.raises(BundleRefused):
        verify(bytes(data), _BUNDLE_KEYS)


@settings(max_examples=300, deadline=None)
@given(length=st.integers(min_value=0, max_value=len(_BUNDLE) - 1))
def test_a_bundle_cut_anywhere_is_refused(length: int) -> None:
    with pytest.raises(BundleRefused) as refused:
        verify(_BUNDLE[:length], _BUNDLE_KEYS)
    assert refused.value.code in ("not_a_bundle", "truncated")


def test_the_unflipped_bundle_is_accepted() -> None:
    # the properties above would pass on a bundle refused whatever: this one is good
    assert verify(_BUNDLE, _BUNDLE_KEYS).manifest.rows == 303


def test_kms_data_keys_refuse_another_purpose_before_calling_kms() -> None:
    from assistec.integrations.kms import UNLOCK_CODE, KmsDataKeys, WrongPurposeError

    class RecordingKms:
        def __init__(self) -> None:
            self.calls: list[tuple[str, dict[str, Any]]] = []

        def generate_data_key(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(("generate", kwargs))
            return {"Plaintext": b"k" * 32, "CiphertextBlob": b"sealed"}

        def decrypt(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(("decrypt", kwargs))
            return {"Plaintext": b"k" * 32}

    keys, kms = KmsDataKeys("alias/shop-secrets"), RecordingKms()
    keys._client = kms
    # Given a context of another purpose (an unlock code's): refused, KMS never asked
    with pytest.raises(WrongPurposeError):
        keys.generate({UNLOCK_CODE[0]: UNLOCK_CODE[1], "tenant_id": str(TENANT)})
    with pytest.raises(WrongPurposeError):
        keys.decrypt(b"sealed", {"purpose": "asaas-api-key", "tenant_id": str(TENANT)})
    assert kms.calls == []
    # The bundle's own context goes through, as is, for a 256-bit key
    assert keys.generate(bb.key_context(TENANT)) == (b"k" * 32, b"sealed")
    assert keys.decrypt(b"sealed", bb.key_context(TENANT)) == b"k" * 32
    assert kms.calls[0][1]["KeySpec"] == "AES_256"
    assert kms.calls[0][1]["EncryptionContext"] == {"purpose": "backup-bundle", "tenant_id": str(TENANT)}
    assert kms.calls[1][1]["EncryptionContext"] == bb.key_context(TENANT)


# --- the table files' compression ------------------------------------------------------------------


def test_table_files_are_standard_gzip() -> None:
    """ISA-L writes them (for speed), and any gzip reader reads them: Python's zlib-based module here."""
    import gzip

    text = b"".join(b"%d\tcliente %d\t\\N\n" % (i, i) for i in range(5000))
    assert gzip.decompress(_gz(text)) == text
    assert gzip.decompress(_gz(b"")) == b""


def test_bundles_written_with_zlib_gzip_still_read() -> None:
    """Bundles stored before ISA-L (their table files from Python's gzip module) verify and read back."""
    import gzip

    keys = Keys()
    tables = {"customers": b"1\tAna\n2\tBia\n", "devices": b""}
    data = write_bundle(tables, keys=keys, files={n: gzip.compress(t, mtime=0) for n, t in tables.items()})
    verified = verify(data, keys)
    assert {e.name: s.read() for e, s in bb.read_tables(io.BytesIO(data), verified)} == tables


@pytest.mark.parametrize(
    "file",
    [
        b"1\tAna\n",  # not gzip at all
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffgarbage, not deflate",  # a gzip header, then no deflate
        _gz(b"1\tAna\n")[:-6],  # cut inside its trailer
    ],
    ids=["plain", "bad-deflate", "cut"],
)
def test_authentic_table_file_that_is_not_gzip_is_refused(file: bytes) -> None:
    """Sealed by the right key but not a gzip file (the writer was not ours): refused, not a crash."""
    keys = Keys()
    data = write_bundle({"customers": b"1\tAna\n"}, keys=keys, files={"customers": file})
    assert _refused(data, keys) == "manifest_mismatch"


# --- the tar stream ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "mtime"),
    [
        ("tables/customers.tsv.gz", 0, 0),
        ("tables/appointment_reminders.tsv.gz", 123_456_789, 1_764_450_000),
        ("manifest.json", 8**11 - 1, 8**11 - 1),
        ("x" * 100, 1, 1),
    ],
)
def test_ustar_header_is_the_one_tarfile_writes(name: str, size: int, mtime: int) -> None:
    import tarfile

    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o600
    info.uname = info.gname = "assistec"
    assert bb.ustar_header(name, size, mtime) == info.tobuf(tarfile.USTAR_FORMAT)


@pytest.mark.parametrize(("name", "size"), [("x" * 101, 1), ("manifest.json", 8**11), ("manifest.json", -1)])
def test_what_ustar_cannot_hold_is_refused(name: str, size: int) -> None:
    with pytest.raises(ValueError, match="ustar"):
        bb.ustar_header(name, size, 0)


def test_the_bundles_tar_is_the_one_tarfile_writes() -> None:
    """The whole plaintext of a bundle, byte for byte what tarfile writes for the same members (ustar),
    and tarfile reads it back."""
    import tarfile

    keys = Keys()
    tables = {"customers": b"1\tAna\n" * 300, "devices": b"", "orders": os.urandom(5000)}
    data = write_bundle(tables, keys=keys, chunk_size=4096)
    header, raw = bb.read_header(io.BytesIO(data))
    key = keys.open(header.encrypted_key, bb.key_context(TENANT))
    source = io.BytesIO(data)
    bb.read_header(source)
    plain = bb._FrameReader(source, key, header, raw).read()
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        members = tar.getmembers()
        files = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    assert [m.name for m in members] == [bb.table_file(t) for t in tables] + [bb.MANIFEST_NAME]
    expected = io.BytesIO()
    with tarfile.open(fileobj=expected, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        for m in members:
            tar.addfile(m, io.BytesIO(files[m.name]))
    assert plain == expected.getvalue()
