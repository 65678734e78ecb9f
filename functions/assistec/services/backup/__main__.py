"""The bundles from a local file, against a database reachable from here (the local stack's, a
restored copy). A restore is run on purpose, by a person: on a stage, through the ops console
(``make ops ARGS='backup restore SHOP --key K'``: the ops function, audited, with the bundles in the
backup bucket); this command line is for a bundle on disk and a database at hand.

    python -m assistec.services.backup verify      --tenant ID --key-id KEY FILE
    python -m assistec.services.backup export      --tenant ID --key-id KEY --database-url URL FILE
    python -m assistec.services.backup restore     --tenant ID --key-id KEY --database-url URL
                                                   --ops-database-url URL FILE
    python -m assistec.services.backup scratch     --tenant ID --key-id KEY --database-url URL [--keep] FILE
    python -m assistec.services.backup portability --tenant ID --database-url URL FILE.zip

``restore`` connects as the app role (it writes as the shop, under row-level security) with a permit
the ops role issues (``--ops-database-url``, migration 0034); ``scratch`` as the ops role (it writes
only in schema backup_restore). KEY is the shop-secrets KMS key (the bundles' data keys are under
purpose backup-bundle). Prints a JSON summary; a refused bundle exits 2 with its code and message.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from assistec.domain.backup_bundle import BundleRefused


def _database(url: str) -> Any:
    from assistec.db.connection import Database
    from assistec.settings import DatabaseSettings

    return Database(DatabaseSettings(database_url=url, db_secret_id=None))  # type: ignore[arg-type]


def _keys(key_id: str) -> Any:
    from assistec.integrations.kms import BACKUP_BUNDLE, KmsDataKeys

    return KmsDataKeys(key_id, BACKUP_BUNDLE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistec.services.backup", description=__doc__)
    parser.add_argument("command", choices=["verify", "export", "restore", "scratch", "portability"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--tenant", type=UUID, required=True)
    parser.add_argument("--key-id")
    parser.add_argument("--database-url")
    parser.add_argument("--ops-database-url", help="restore: the ops role, which issues the restore's permit")
    parser.add_argument("--keep", action="store_true", help="scratch: keep the scratch tables for inspection")
    args = parser.parse_args(argv)
    if args.command != "portability" and not args.key_id:
        parser.error("--key-id is required")
    if args.command != "verify" and not args.database_url:
        parser.error("--database-url is required")
    if args.command == "restore" and not args.ops_database_url:
        parser.error("--ops-database-url is required (the ops role issues the restore's permit)")

    from assistec.services.backup.verify import verify

    summary: dict[str, Any]
    try:
        if args.command == "export":
            from assistec.services.backup.export import export_bundle

            with args.file.open("xb") as sink:
                bundle = export_bundle(_database(args.database_url), args.tenant, _keys(args.key_id), sink)
            summary = {"bundle_id": str(bundle.bundle_id), "bytes": bundle.size, "rows": bundle.rows}
        elif args.command == "portability":
            from assistec.services.backup.portability import portability_zip

            with args.file.open("xb") as sink:
                report = portability_zip(_database(args.database_url), args.tenant, sink)
            summary = {"files": len(report.files), "rows": report.rows}
        else:
            with args.file.open("rb") as source:
                if args.command == "verify":
                    manifest = verify(source, args.tenant, _keys(args.key_id)).manifest
                    summary = json.loads(manifest.to_json())
                elif args.command == "restore":
                    import getpass

                    from assistec.services.backup.restore import permit_restore, restore_bundle

                    permit = permit_restore(
                        _database(args.ops_database_url), args.tenant, f"local:{getpass.getuser()}"
                    )
                    restored = restore_bundle(
                        _database(args.database_url), args.tenant, source, _keys(args.key_id), permit=permit
                    )
                    summary = {"bundle_id": str(restored.bundle_id), "deleted": restored.deleted,
                               "written": restored.written}  # fmt: skip
                else:
                    from assistec.services.backup.restore import restore_to_scratch

                    verified = verify(source, args.tenant, _keys(args.key_id))
                    source.seek(0)
                    check = restore_to_scratch(_database(args.database_url), source, verified, keep=args.keep)
                    summary = {"ok": check.ok, "problems": check.problems, "relations": check.relations}
    except BundleRefused as refused:
        sys.stdout.write(
            json.dumps({"refused": refused.code, "message": refused.message}, ensure_ascii=False) + "\n"
        )
        return 2
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
