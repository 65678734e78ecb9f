"""A shop's backup bundle (issue 13 §3): its tables, compressed, envelope-encrypted under a KMS data
key bound to the shop, in one file that is refused whole when any byte of it changed.

The file, exactly (integers big-endian)::

    HEADER   magic "ASBUNDLE" (8) | format version u16 (= 1) | tenant id (16, UUID bytes)
             | bundle id (16) | created at i64 (µs since the Unix epoch, UTC) | chunk size u32
             | base nonce (12, random) | n u16 | encrypted data key (n: KMS's CiphertextBlob)
    FRAME i  flags u8 (0 = more follow, 1 = final) | length u32 | AES-256-GCM ciphertext + tag
             (i = 0, 1, ...; every frame but the final holds exactly chunk size plaintext bytes,
             the final 0..chunk size)
    TRAILER  SHA-256 of the manifest (32) | "ASBEND\\0\\0" (8), right after the final frame; nothing after

Frame i is sealed with nonce = base nonce XOR i (as 12 bytes) and associated data
SHA-256(HEADER) | i u64 | flags | (final: the manifest's SHA-256). So the shop, the bundle id, the
format version and the data key are bound into every frame; a frame moved, swapped in from another
bundle, dropped, or the stream cut at any offset (the final frame is missing) fails; and the
trailer's manifest hash, readable without the key, is bound by the final frame.

The data key is KMS's (GenerateDataKey, AES_256), under the encryption context
``{"purpose": "backup-bundle", "tenant_id": <shop>}``: KMS opens it for that shop only.

The plaintext is a tar stream: ``tables/<table>.tsv.gz`` per table (PostgreSQL COPY text format,
gzip), then ``manifest.json`` (last: it holds every table's row count and SHA-256, known once the
tables are written). COPY's text format rather than CSV: it is what PostgreSQL itself reads back,
keeps NULL apart from the empty string (Python's csv module does not) and every value on one line
(newlines escaped), so a table file can be read line by line and compared byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import struct
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Protocol, cast
from uuid import UUID

MAGIC = b"ASBUNDLE"
END_MAGIC = b"ASBEND\x00\x00"
FORMAT_VERSION = 1
CHUNK_SIZE = 4 * 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
# The entry of the data key's encryption context that says what the key is for (IAM grants are
# conditioned on it, like the other KMS purposes of integrations/kms.py).
KEY_PURPOSE = ("purpose", "backup-bundle")
MANIFEST_NAME = "manifest.json"
TABLES_DIR = "tables/"
TABLE_SUFFIX = ".tsv.gz"
# How the table files are written: what a reader (or a person with psql) needs to read them back.
TABLE_ENCODING = {
    "format": "PostgreSQL COPY text format (tab-separated, \\N for NULL, backslash escapes), no header",
    "encoding": "UTF8",
    "compression": "gzip, one file per table",
    "settings": "TimeZone=UTC, DateStyle=ISO, YMD, IntervalStyle=postgres, bytea_output=hex, "
    "extra_float_digits=3",
    "order": "each table's rows in the order of its primary key (all its columns when it has none)",
}

_FIXED = struct.Struct(">8sH16s16sqI12sH")
_FRAME = struct.Struct(">BI")
_TAG = 16
_FINAL = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BundleRefused(Exception):
    """The bundle cannot be used: ``code`` is stable (never branch on ``message``, which is pt-BR)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or REFUSALS.get(code, "O backup foi recusado.")
        super().__init__(f"{code}: {self.message}")


REFUSALS = {
    "not_a_bundle": "O arquivo não é um backup do assistec.",
    "unknown_version": "Este backup está num formato que esta versão do assistec não sabe ler.",
    "wrong_shop": "Este backup é de outra loja e não pode ser usado aqui.",
    "key_refused": "A chave deste backup não pôde ser aberta para esta loja.",
    "tampered": "O backup foi alterado ou está corrompido; nada foi usado dele.",
    "truncated": "O backup está incompleto (o arquivo foi cortado); nada foi usado dele.",
    "manifest_mismatch": "O conteúdo do backup não confere com o manifesto dele; nada foi usado dele.",
    "schema_mismatch": "O backup é de outra versão do banco de dados; ele só pode ser restaurado num banco "
    "na mesma versão.",
    "restore_conflict": "Um registro do backup conflita com dados que já existem em outra loja; nada foi "
    "alterado.",
}


def key_context(tenant_id: UUID) -> dict[str, str]:
    """The encryption context of a shop's bundle keys: KMS opens the key for this shop only."""
    return {KEY_PURPOSE[0]: KEY_PURPOSE[1], "tenant_id": str(tenant_id)}


def table_file(table: str) -> str:
    return f"{TABLES_DIR}{table}{TABLE_SUFFIX}"


def bundle_key(tenant_id: UUID, day: date) -> str:
    """Where a shop's bundle of a day is stored (the day of the run, in São Paulo)."""
    return f"shops/{tenant_id}/{day.isoformat()}.bundle"


def run_list_key(day: date, run: UUID) -> str:
    """Where a run of the backup flow keeps its list of shops (the Distributed Map reads it)."""
    return f"runs/{day.isoformat()}/{run}.json"


# An operator's bundle made on demand (the ops console's ``backup export``): its own prefix, so it never
# takes a nightly bundle's key, and its own retention (the bucket's lifecycle rule for it).
MANUAL_RETENTION = "manual"
_NIGHTLY_KEY = re.compile(r"^shops/([0-9a-f-]{36})/(\d{4}-\d{2}-\d{2})\.bundle$")
_MANUAL_KEY = re.compile(r"^manual/([0-9a-f-]{36})/(\d{8}T\d{6}Z)\.bundle$")


def manual_key(tenant_id: UUID, at: datetime) -> str:
    """Where an operator's bundle of the shop made at ``at`` is stored (UTC, to the second)."""
    return f"manual/{tenant_id}/{at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.bundle"


def bundle_prefixes(tenant_id: UUID) -> tuple[str, str]:
    """The prefixes under which the shop's bundles are stored: nightly, then manual."""
    return f"shops/{tenant_id}/", f"manual/{tenant_id}/"


def key_of_shop(key: str, tenant_id: UUID) -> bool:
    """Whether ``key`` is one of the shop's bundles (a nightly or a manual one)."""
    found = _NIGHTLY_KEY.match(key) or _MANUAL_KEY.match(key)
    return found is not None and found[1] == str(tenant_id)


def nightly_day(key: str) -> date | None:
    """The day of a nightly bundle's key (None for any other key)."""
    found = _NIGHTLY_KEY.match(key)
    if found is None:
        return None
    try:
        return date.fromisoformat(found[2])
    except ValueError:
        return None


def retention(day: date) -> str:
    """The retention class of a day's bundle (the bucket's lifecycle rules expire by this tag):
    the 1st of a month's is monthly, a Sunday's weekly (monthly wins), every other daily."""
    if day.day == 1:
        return "monthly"
    if day.weekday() == 6:
        return "weekly"
    return "daily"


# --- header ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    tenant_id: UUID
    bundle_id: UUID
    created_at: datetime
    encrypted_key: bytes
    nonce: bytes
    chunk_size: int = CHUNK_SIZE
    version: int = FORMAT_VERSION

    def encode(self) -> bytes:
        if len(self.nonce) != 12:
            raise ValueError("the base nonce is 12 bytes")
        if not 0 < len(self.encrypted_key) < 65536:
            raise ValueError("the encrypted data key must fit in 65535 bytes")
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return (
            _FIXED.pack(
                MAGIC,
                self.version,
                self.tenant_id.bytes,
                self.bundle_id.bytes,
                micros,
                self.chunk_size,
                self.nonce,
                len(self.encrypted_key),
            )
            + self.encrypted_key
        )


def _read_exact(source: IO[bytes], size: int) -> bytes:
    chunks = []
    left = size
    while left > 0:
        data = source.read(left)
        if not data:
            break
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def read_header(source: IO[bytes]) -> tuple[Header, bytes]:
    """The header at the start of ``source`` and its exact bytes."""
    fixed = _read_exact(source, _FIXED.size)
    if fixed[: len(MAGIC)] != MAGIC:
        raise BundleRefused("not_a_bundle")
    if len(fixed) < _FIXED.size:
        raise BundleRefused("truncated")
    _, version, tenant, bundle, micros, chunk_size, nonce, key_length = _FIXED.unpack(fixed)
    if version != FORMAT_VERSION:
        raise BundleRefused("unknown_version")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE or key_length == 0:
        raise BundleRefused("tampered")
    encrypted_key = _read_exact(source, key_length)
    if len(encrypted_key) < key_length:
        raise BundleRefused("truncated")
    try:
        created_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise BundleRefused("tampered") from None
    header = Header(
        UUID(bytes=tenant), UUID(bytes=bundle), created_at, encrypted_key, nonce, chunk_size, version
    )
    return header, fixed + encrypted_key


# --- frames ---------------------------------------------------------------------------------------


def _nonce(base: bytes, index: int) -> bytes:
    return (int.from_bytes(base, "big") ^ index).to_bytes(12, "big")


def _aad(header_digest: bytes, index: int, flags: int, manifest_sha256: bytes) -> bytes:
    return header_digest + index.to_bytes(8, "big") + bytes([flags]) + manifest_sha256


def _aead(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(key) != 32:
        raise ValueError("the data key is 256 bits")
    return AESGCM(key)


class _FrameWriter:
    """A write-only stream: the plaintext written to it leaves as sealed frames."""

    def __init__(self, sink: IO[bytes], key: bytes, header: Header, raw_header: bytes) -> None:
        self._sink = sink
        self._aead = _aead(key)
        self._base = header.nonce
        self._digest = hashlib.sha256(raw_header).digest()
        self._chunk = header.chunk_size
        self._buffer = bytearray()
        self._index = 0
        self.written = len(raw_header)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        # A frame leaves only once more plaintext follows it: the last one is sealed as final.
        while len(self._buffer) > self._chunk:
            self._seal(memoryview(self._buffer)[: self._chunk], final=False)
            del self._buffer[: self._chunk]
        return len(data)

    def flush(self) -> None:
        return None

    def _seal(self, plaintext: bytes | memoryview, *, final: bool, manifest_sha256: bytes = b"") -> None:
        flags = _FINAL if final else 0
        sealed = self._aead.encrypt(
            _nonce(self._base, self._index),
            bytes(plaintext),
            _aad(self._digest, self._index, flags, manifest_sha256),
        )
        self._sink.write(_FRAME.pack(flags, len(sealed)))
        self._sink.write(sealed)
        self.written += _FRAME.size + len(sealed)
        self._index += 1

    def finish(self, manifest_sha256: bytes) -> None:
        self._seal(bytes(self._buffer), final=True, manifest_sha256=manifest_sha256)
        self._buffer.clear()
        self._sink.write(manifest_sha256 + END_MAGIC)
        self.written += len(manifest_sha256) + len(END_MAGIC)


class _FrameReader(io.RawIOBase):
    """A read-only stream of the plaintext of the frames in ``source``; each frame is checked before
    any of its bytes is handed out, and the end of the stream is the final frame and the trailer."""

    def __init__(self, source: IO[bytes], key: bytes, header: Header, raw_header: bytes) -> None:
        super().__init__()
        self._source = source
        self._aead = _aead(key)
        self._base = header.nonce
        self._digest = hashlib.sha256(raw_header).digest()
        self._chunk = header.chunk_size
        self._pending = memoryview(b"")
        self._index = 0
        self.manifest_sha256: bytes | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        while not self._pending:
            if self.manifest_sha256 is not None:
                return 0
            self._next_frame()
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next_frame(self) -> None:
        head = _read_exact(self._source, _FRAME.size)
        if len(head) < _FRAME.size:
            raise BundleRefused("truncated")
        flags, length = _FRAME.unpack(head)
        if flags not in (0, _FINAL) or not _TAG <= length <= self._chunk + _TAG:
            raise BundleRefused("tampered")
        if flags == 0 and length != self._chunk + _TAG:
            raise BundleRefused("tampered")
        sealed = _read_exact(self._source, length)
        if len(sealed) < length:
            raise BundleRefused("truncated")
        manifest_sha256 = b""
        if flags == _FINAL:
            trailer = _read_exact(self._source, 32 + len(END_MAGIC))
            if len(trailer) < 32 + len(END_MAGIC):
                raise BundleRefused("truncated")
            if trailer[32:] != END_MAGIC or self._source.read(1):
                raise BundleRefused("tampered")
            manifest_sha256 = trailer[:32]
        from cryptography.exceptions import InvalidTag

        try:
            plaintext = self._aead.decrypt(
                _nonce(self._base, self._index),
                sealed,
                _aad(self._digest, self._index, flags, manifest_sha256),
            )
        except InvalidTag:
            raise BundleRefused("tampered") from None
        self._index += 1
        self._pending = memoryview(plaintext)
        if flags == _FINAL:
            self.manifest_sha256 = manifest_sha256

    def drain(self) -> None:
        """Read (and so check) everything up to the trailer."""
        while self.read(1024 * 1024):
            pass


# --- the manifest ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class TableEntry:
    name: str
    rows: int
    sha256: str  # of the table's uncompressed COPY text
    bytes: int  # uncompressed
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the ORDER BY of the export (the primary key; every column when none)

    @property
    def file(self) -> str:
        return table_file(self.name)


@dataclass(frozen=True, slots=True)
class Manifest:
    bundle_id: UUID
    tenant_id: UUID
    shop_name: str
    created_at: datetime
    schema_version: int
    tables: tuple[TableEntry, ...]
    # Tables of the shop not in the bundle, each with why.
    excluded: dict[str, str] = field(default_factory=dict)
    # What a reader must know besides the tables (photos, the files' encoding).
    notes: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def table(self, name: str) -> TableEntry | None:
        return next((t for t in self.tables if t.name == name), None)

    def to_json(self) -> bytes:
        document = {
            "format": self.format,
            "bundle_id": str(self.bundle_id),
            "tenant_id": str(self.tenant_id),
            "shop_name": self.shop_name,
            "created_at": self.created_at.isoformat(),
            "schema_version": self.schema_version,
            "tables": [
                {
                    "name": t.name,
                    "file": t.file,
                    "rows": t.rows,
                    "sha256": t.sha256,
                    "bytes": t.bytes,
                    "columns": [{"name": c.name, "type": c.type} for c in t.columns],
                    "key": list(t.key),
                }
                for t in self.tables
            ],
            "excluded": self.excluded,
            "notes": self.notes,
        }
        # Compact: with an indent, json writes through its pure-Python encoder (a thousand manifests a
        # night).
        return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            doc = json.loads(data)
            if doc["format"] != FORMAT_VERSION:
                raise BundleRefused("unknown_version")
            tables = tuple(
                TableEntry(
                    name=str(t["name"]),
                    rows=int(t["rows"]),
                    sha256=str(t["sha256"]),
                    bytes=int(t["bytes"]),
                    columns=tuple(Column(str(c["name"]), str(c["type"])) for c in t["columns"]),
                    key=tuple(str(k) for k in t["key"]),
                )
                for t in doc["tables"]
            )
            if any(t.file != entry["file"] for t, entry in zip(tables, doc["tables"], strict=True)):
                raise BundleRefused("manifest_mismatch")
            return cls(
                bundle_id=UUID(doc["bundle_id"]),
                tenant_id=UUID(doc["tenant_id"]),
                shop_name=str(doc["shop_name"]),
                created_at=datetime.fromisoformat(doc["created_at"]),
                schema_version=int(doc["schema_version"]),
                tables=tables,
                excluded={str(k): str(v) for k, v in doc.get("excluded", {}).items()},
                notes=dict(doc.get("notes", {})),
                format=int(doc["format"]),
            )
        except BundleRefused:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BundleRefused("manifest_mismatch") from None


class TableDigest:
    """Row count, size and SHA-256 of a table file's uncompressed text, fed as it streams."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.rows = 0
        self.bytes = 0

    def update(self, data: bytes | bytearray) -> None:
        self._sha.update(data)
        self.rows += data.count(b"\n")
        self.bytes += len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


# --- writing --------------------------------------------------------------------------------------


class BundleWriter:
    """Writes one bundle to ``sink``: ``add_table`` for each table file (already gzip-compressed,
    ``size`` bytes), then ``finish`` with the manifest. Memory: one frame's plaintext.

    The tar stream is written here, not by ``tarfile``: a thousand shops a night times some forty
    table files each made its member headers a tenth of the export's interpreter time. It is POSIX
    ustar exactly as ``tarfile`` writes it (``ustar_header`` is checked byte for byte against
    ``TarInfo.tobuf``, and whole bundles against ``tarfile``'s reader); bundles written before (pax
    headers, by ``tarfile``) read the same."""

    def __init__(self, sink: IO[bytes], header: Header, data_key: bytes) -> None:
        raw = header.encode()
        sink.write(raw)
        self.header = header
        self._frames = _FrameWriter(sink, data_key, header, raw)
        self._mtime = int(header.created_at.timestamp())
        self._tables: list[str] = []
        self._offset = 0  # bytes of tar written

    def _member(self, name: str, data: IO[bytes], size: int) -> None:
        self._write(ustar_header(name, size, self._mtime))
        left = size
        while left > 0:
            chunk = data.read(min(left, _COPY))
            if not chunk:
                raise ValueError(f"{name}: the file ended {left} bytes before its size")
            self._write(chunk)
            left -= len(chunk)
        if size % _TAR_BLOCK:
            self._write(bytes(_TAR_BLOCK - size % _TAR_BLOCK))

    def _write(self, data: bytes | bytearray) -> None:
        self._frames.write(data)
        self._offset += len(data)

    def add_table(self, name: str, compressed: IO[bytes], size: int) -> None:
        if name in self._tables or "/" in name or not name:
            raise ValueError(f"bad or repeated table name {name!r}")
        self._member(table_file(name), compressed, size)
        self._tables.append(name)

    def finish(self, manifest: Manifest) -> bytes:
        """Write the manifest and close the bundle; the manifest's SHA-256 (also in the trailer)."""
        if [t.name for t in manifest.tables] != self._tables:
            raise ValueError("the manifest must list the tables written, in order")
        if (manifest.tenant_id, manifest.bundle_id) != (self.header.tenant_id, self.header.bundle_id):
            raise ValueError("the manifest is another bundle's")
        body = manifest.to_json()
        digest = hashlib.sha256(body).digest()
        self._member(MANIFEST_NAME, io.BytesIO(body), len(body))
        # The end of the archive (two zero blocks), then zeros to a whole record, as tarfile does.
        end = self._offset + 2 * _TAR_BLOCK
        self._write(bytes(2 * _TAR_BLOCK + (-end) % _TAR_RECORD))
        self._frames.finish(digest)
        return digest

    @property
    def written(self) -> int:
        return self._frames.written


_TAR_BLOCK = 512
_TAR_RECORD = 20 * _TAR_BLOCK
_COPY = 1024 * 1024
_OWNER = b"assistec".ljust(32, b"\0")
_MAX_MEMBER = 8**11 - 1  # what ustar's 11 octal digits hold


def ustar_header(name: str, size: int, mtime: int) -> bytes:
    """A regular file's POSIX ustar header (mode 0600, owner and group ``assistec``), as
    ``tarfile.TarInfo.tobuf(tarfile.USTAR_FORMAT)`` writes it."""
    raw = name.encode()
    if len(raw) > 100 or not 0 <= size <= _MAX_MEMBER or not 0 <= mtime <= _MAX_MEMBER:
        raise ValueError(f"{name!r} does not fit a ustar header")
    header = b"".join(
        (
            raw.ljust(100, b"\0"),
            b"0000600\0",  # mode
            b"0000000\0",  # uid
            b"0000000\0",  # gid
            b"%011o\0" % size,
            b"%011o\0" % mtime,
            b"        ",  # the checksum, counted as spaces
            b"0",  # a regular file
            bytes(100),  # link name
            b"ustar\x0000",
            _OWNER,  # user name
            _OWNER,  # group name
            bytes(16),  # device major and minor (none: a regular file)
            bytes(167),  # prefix and padding
        )
    )
    return header[:148] + b"%06o\0" % sum(header) + header[155:]


# The nightly export is bound by CPU (a thousand shops on two cores), and compression is its largest
# part: so gzip through Intel's ISA-L (python-isal), not zlib. Measured on 11 MB of seeded
# service_orders + order_transitions COPY text, same run: ISA-L level 1 439 MB/s at ratio 3.90; zlib
# level 1 103 MB/s at 3.45 (level 6, pg_dump's, is slower again). The file is standard gzip: any
# gzip reader (Python's gzip module, `gunzip`) reads it back.
GZIP_LEVEL = 1


def gzip_writer(target: IO[bytes]) -> gzip.GzipFile:
    """The compressor of a table file (no name, no time inside: the same rows give the same file)."""
    from isal import igzip

    return igzip.IGzipFile(  # type: ignore[no-untyped-call]
        filename="", mode="wb", fileobj=target, compresslevel=GZIP_LEVEL, mtime=0
    )


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


def gzip_compressor() -> Compressor:
    """A table file's compressor, chunk by chunk (what ``gzip_writer`` writes, without a file
    object's layers): one gzip member, no name, no time."""
    from isal import isal_zlib

    return isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)


def _gzip_errors() -> tuple[type[Exception], ...]:
    """What a table file that is not gzip raises as it is read (besides OSError, EOFError)."""
    import zlib

    from isal import isal_zlib

    return (gzip.BadGzipFile, zlib.error, cast(type[Exception], isal_zlib.error))


def gzip_reader(source: IO[bytes]) -> gzip.GzipFile:
    """A table file's text (ISA-L's decompressor: several times zlib's too)."""
    from isal import igzip

    return igzip.IGzipFile(fileobj=source, mode="rb")  # type: ignore[no-untyped-call]


# --- reading --------------------------------------------------------------------------------------

KeyOpener = Callable[[bytes, dict[str, str]], bytes]


@dataclass(frozen=True, slots=True)
class OpenedBundle:
    header: Header
    raw_header: bytes
    data_key: bytes


def open_bundle(source: IO[bytes], *, expected_tenant: UUID, open_key: KeyOpener) -> OpenedBundle:
    """Read and check the header of the bundle at the start of ``source``, and open its data key.

    Refused: not a bundle, an unknown format, another shop's bundle (its header's shop, before KMS is
    asked; KMS would refuse the key's context too), a key KMS does not open for this shop."""
    header, raw = read_header(source)
    if header.tenant_id != expected_tenant:
        raise BundleRefused("wrong_shop")
    try:
        key = open_key(header.encrypted_key, key_context(expected_tenant))
    except Exception:
        raise BundleRefused("key_refused") from None
    if len(key) != 32:
        raise BundleRefused("key_refused")
    return OpenedBundle(header, raw, key)


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    opened: OpenedBundle
    manifest: Manifest
    manifest_sha256: bytes


def _members(reader: _FrameReader) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                data = tar.extractfile(member) if member.isfile() else None
                if data is None:
                    raise BundleRefused("manifest_mismatch")
                yield member.name, data
    except tarfile.TarError:
        raise BundleRefused("tampered") from None
    reader.drain()


_READ = 1024 * 1024


def verify_bundle(source: IO[bytes], *, expected_tenant: UUID, open_key: KeyOpener) -> VerifiedBundle:
    """Read the whole bundle and check it: every frame, the trailer, every table file against the
    manifest (row count, SHA-256, nothing missing or extra) and the manifest against the header.
    Nothing is returned (nor anything used) from a bundle that fails any check."""
    opened = open_bundle(source, expected_tenant=expected_tenant, open_key=open_key)
    reader = _FrameReader(source, opened.data_key, opened.header, opened.raw_header)
    digests: dict[str, TableDigest] = {}
    manifest_body: bytes | None = None
    not_gzip: tuple[type[Exception], ...] = (OSError, EOFError, *_gzip_errors())
    try:
        for name, data in _members(reader):
            if name == MANIFEST_NAME and manifest_body is None:
                manifest_body = data.read(MAX_MANIFEST_BYTES + 1)
                if len(manifest_body) > MAX_MANIFEST_BYTES:
                    raise BundleRefused("manifest_mismatch")
                continue
            table = name.removeprefix(TABLES_DIR).removesuffix(TABLE_SUFFIX)
            if name != table_file(table) or "/" in table or table in digests or manifest_body is not None:
                raise BundleRefused("manifest_mismatch")
            digest = digests[table] = TableDigest()
            with gzip_reader(data) as unzipped:
                while block := unzipped.read(_READ):
                    digest.update(block)
    except not_gzip:
        # Authentic bytes that are not gzip: the writer was not ours.
        raise BundleRefused("manifest_mismatch") from None
    if manifest_body is None or reader.manifest_sha256 is None:
        raise BundleRefused("manifest_mismatch")
    if hashlib.sha256(manifest_body).digest() != reader.manifest_sha256:
        raise BundleRefused("tampered")
    manifest = Manifest.from_json(manifest_body)
    header = opened.header
    if (manifest.tenant_id, manifest.bundle_id) != (header.tenant_id, header.bundle_id):
        raise BundleRefused("manifest_mismatch")
    if [t.name for t in manifest.tables] != list(digests):
        raise BundleRefused("manifest_mismatch")
    for entry in manifest.tables:
        got = digests[entry.name]
        if (got.rows, got.sha256, got.bytes) != (entry.rows, entry.sha256, entry.bytes):
            raise BundleRefused("manifest_mismatch")
    return VerifiedBundle(opened, manifest, reader.manifest_sha256)


def read_tables(source: IO[bytes], verified: VerifiedBundle) -> Iterator[tuple[TableEntry, IO[bytes]]]:
    """The table files of a bundle checked before (``verify_bundle``), in order, each as a stream of
    its uncompressed COPY text, to be read before the next is asked for. Frames are checked again as
    they are read; a source that is not the bundle verified is refused."""
    header, raw = read_header(source)
    if raw != verified.opened.raw_header:
        raise BundleRefused("tampered")
    reader = _FrameReader(source, verified.opened.data_key, header, raw)
    entries = iter(verified.manifest.tables)
    for name, data in _members(reader):
        if name == MANIFEST_NAME:
            continue
        entry = next(entries, None)
        if entry is None or entry.file != name:
            raise BundleRefused("manifest_mismatch")
        with gzip_reader(data) as unzipped:
            yield entry, unzipped  # type: ignore[misc]


# --- COPY text format -----------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.S)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape(match: re.Match[str]) -> str:
    octal, hexa, char = match.groups()
    if octal is not None:
        return chr(int(octal, 8))
    if hexa is not None:
        return chr(int(hexa, 16))
    return _SIMPLE.get(char, char)


def parse_copy_line(line: str) -> list[str | None]:
    """One row of COPY's text format (without its newline): each column's text, None for NULL."""
    return [
        None if value == "\\N" else (_ESCAPE.sub(_unescape, value) if "\\" in value else value)
        for value in line.split("\t")
    ]


def copy_rows(stream: IO[bytes]) -> Iterator[list[str | None]]:
    """The rows of a table file (COPY text, UTF-8), one at a time."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    for line in text:
        yield parse_copy_line(line.removesuffix("\n"))


def parse_array(literal: str) -> list[str | None]:
    """A one-dimensional PostgreSQL array literal (``{a,"b c",NULL}``) as its elements' texts."""
    if not (literal.startswith("{") and literal.endswith("}")):
        raise ValueError(f"not an array literal: {literal[:40]!r}")
    body = literal[1:-1]
    items: list[str | None] = []
    i = 0
    while i < len(body):
        if body[i] == '"':
            value = []
            i += 1
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                value.append(body[i])
                i += 1
            items.append("".join(value))
            i += 1
        else:
            end = body.find(",", i)
            end = len(body) if end < 0 else end
            raw = body[i:end].strip()
            items.append(None if raw == "NULL" else raw)
            i = end
        if i < len(body):
            if body[i] != ",":
                raise ValueError("nested or malformed array literal")
            i += 1
    return items


_INTEGERS = {"smallint", "integer", "bigint"}


def json_value(type_name: str, text: str | None) -> Any:
    """A column's COPY text as a friendly JSON value: numbers, booleans, JSON documents and arrays
    as themselves; everything else (dates, times, money in centavos as numbers) as its text."""
    if text is None:
        return None
    if type_name in _INTEGERS:
        return int(text)
    if type_name == "boolean":
        return text == "t"
    if type_name in ("json", "jsonb"):
        return json.loads(text)
    if type_name.endswith("[]"):
        element = type_name[:-2]
        try:
            return [json_value(element, item) for item in parse_array(text)]
        except (ValueError, IndexError):
            return text
    return text
