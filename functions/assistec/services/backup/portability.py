"""The owner's copy of the shop's data (LGPD, portability): a zip with, per table, a CSV file (UTF-8,
header row) and a JSON file (an array of objects), and a README.txt saying what is in it and what is
left out. It comes from the same snapshot as a bundle (``export.dump_tables``): the same tables, the
same rows.

Left out, because they are secrets that protect the shop, not its data: password hashes, KMS
ciphertexts (unlock codes, the Asaas API key, the WhatsApp instance token, Google tokens, the SMTP
password), webhook keys and token hashes, the public links' tokens (whoever has one reads an order or
a quote), the flows' task tokens; and the tables a bundle does not hold (sessions' refresh tokens,
consents in progress, short-lived claims). As a net under the list, any binary (bytea) column and any
column whose name says token, secret, password, hash or ciphertext is left out too.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING
from uuid import UUID

from assistec.domain.backup_bundle import TableEntry, copy_rows, json_value
from assistec.services.backup.export import PHOTOS_NOTE, dump_tables
from assistec.services.backup.tables import NOT_BUNDLED

if TYPE_CHECKING:
    from assistec.db.connection import Database

SECRET_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"password_hash"}),
    "devices": frozenset({"unlock_code"}),
    "payment_accounts": frozenset({"api_key_ciphertext", "webhook_key", "webhook_token_hash"}),
    "whatsapp_instances": frozenset({"token_ciphertext", "token_hash", "webhook_key", "webhook_secret_hash"}),
    "google_connections": frozenset({"refresh_token_enc", "access_token_enc", "sync_token"}),
    "email_settings": frozenset({"smtp_password_enc"}),
    "service_orders": frozenset({"tracking_token"}),
    "quotes": frozenset({"public_token"}),
    "appointments": frozenset({"public_token"}),
    "charges": frozenset({"flow_task_token", "claim_token"}),
    "quote_flows": frozenset({"task_token"}),
}
_SECRET_NAME = re.compile(r"token|secret|password|hash|ciphertext|_enc$")

README = """Dados da loja {shop} (assistec)
Gerado em {created_at} (UTC). Versão do banco: {schema_version}.

Cada tabela está em dois arquivos com as mesmas linhas:
- <tabela>.csv: texto UTF-8, separado por vírgulas, primeira linha com os nomes das colunas;
  campo vazio = sem valor;
- <tabela>.json: uma lista de objetos, um por linha da tabela (null = sem valor).
Valores em dinheiro estão em centavos (ex.: 15000 = R$ 150,00); datas e horas em UTC (ISO 8601).

Não estão aqui, por serem segredos que protegem a loja e não dados dela:
{secrets}
- tabelas: {tables}

{photos}
"""


@dataclass(frozen=True, slots=True)
class PortabilityReport:
    tenant_id: UUID
    files: list[str]
    rows: int


def _is_secret(table: str, column: str, type_name: str) -> bool:
    return (
        column in SECRET_COLUMNS.get(table, frozenset())
        or type_name == "bytea"
        or bool(_SECRET_NAME.search(column))
    )


def _write_table(archive: zipfile.ZipFile, entry: TableEntry, stream: IO[bytes]) -> None:
    """The table's CSV, then its JSON (a zip takes one member at a time: the spool is read twice)."""
    kept = [(i, c) for i, c in enumerate(entry.columns) if not _is_secret(entry.name, c.name, c.type)]
    start = stream.tell()
    with archive.open(f"{entry.name}.csv", "w", force_zip64=True) as member:
        text = io.TextIOWrapper(member, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow([c.name for _, c in kept])
        for row in _rows(stream):
            writer.writerow(["" if row[i] is None else row[i] for i, _ in kept])
        text.flush()
        text.detach()
    stream.seek(start)
    with archive.open(f"{entry.name}.json", "w", force_zip64=True) as member:
        text = io.TextIOWrapper(member, encoding="utf-8")
        text.write("[")
        separator = "\n"
        for row in _rows(stream):
            document = {c.name: json_value(c.type, row[i]) for i, c in kept}
            text.write(separator + json.dumps(document, ensure_ascii=False))
            separator = ",\n"
        text.write("\n]\n")
        text.flush()
        text.detach()


def _rows(stream: IO[bytes]) -> Iterator[list[str | None]]:
    from assistec.domain.backup_bundle import gzip_reader

    with gzip_reader(stream) as text:
        yield from copy_rows(text)  # type: ignore[arg-type]


def portability_zip(db: Database, tenant_id: UUID, sink: IO[bytes]) -> PortabilityReport:
    """Write the owner's zip of the shop's data to ``sink``."""
    files: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(entry: TableEntry, data: IO[bytes], size: int) -> None:
            _write_table(archive, entry, data)
            files.extend([f"{entry.name}.csv", f"{entry.name}.json"])

        snapshot = dump_tables(db, tenant_id, add)
        secrets = "\n".join(
            f"- {table}: {', '.join(sorted(columns))}" for table, columns in sorted(SECRET_COLUMNS.items())
        )
        from datetime import UTC, datetime

        archive.writestr(
            "README.txt",
            README.format(
                shop=snapshot.shop_name,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                schema_version=snapshot.schema_version,
                secrets=secrets
                + "\n- e qualquer outra coluna binária ou com token, senha, hash ou segredo no nome",
                tables=", ".join(sorted(NOT_BUNDLED)),
                photos=PHOTOS_NOTE,
            ),
        )
        files.append("README.txt")
    return PortabilityReport(tenant_id, files, sum(t.rows for t in snapshot.tables))
