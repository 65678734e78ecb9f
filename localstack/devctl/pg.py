"""A PostgreSQL cluster under .local/pg, on 127.0.0.1, from the npm-shipped binaries (major 17, as RDS).

PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres` OS user
(created if missing) and owns only the data folder. Passwords are generated on first init and kept
in .local/pg/credentials.json (git-ignored, mode 0600): nothing secret lives in the repo.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from assistec.services import schema
from devctl import pooler
from devctl.paths import LOCAL, PG_BIN, PG_PORT

PG_DIR = LOCAL / "pg"
DATA = PG_DIR / "data"
SOCKET_DIR = PG_DIR / "run"
LOG = PG_DIR / "postgres.log"
CREDENTIALS = PG_DIR / "credentials.json"
SERVER_USER = "postgres"

MIGRATOR = "assistec_migrator"
APP = "assistec_app"
OPS = "assistec_ops"
APP_DB = "assistec"


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_server_user(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    if _as_root():
        args = ["runuser", "-u", SERVER_USER, "--", *args]
    return subprocess.run(args, check=True, text=True, **kwargs)


def _ensure_server_user() -> None:
    if not _as_root():
        return
    if subprocess.run(["id", "-u", SERVER_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
    # The server user (and PgBouncer, run as it) must be able to walk down to its folders, from the
    # root of the file system: a clone under a private folder (mktemp -d, /root) gets the traverse
    # bit only (no listing) on each folder above .local that lacks it.
    PG_DIR.mkdir(parents=True, exist_ok=True)
    for folder in [*reversed(LOCAL.resolve().parents), LOCAL, PG_DIR]:
        mode = folder.stat().st_mode
        if mode & 0o011 != 0o011:
            folder.chmod(mode | 0o011)
    shutil.chown(PG_DIR, user=SERVER_USER)


def credentials() -> dict[str, str]:
    creds: dict[str, str] = json.loads(CREDENTIALS.read_text())
    return creds


def url(role: str = "superuser", dbname: str = APP_DB) -> str:
    creds = credentials()
    user = "postgres" if role == "superuser" else role
    return f"postgresql://{user}:{creds[role]}@127.0.0.1:{PG_PORT}/{dbname}"


def pooled_url(role: str = APP, dbname: str = APP_DB) -> str:
    """The role's URL through the local pooler (PgBouncer, as RDS Proxy in prod): the app role's way in."""
    return pooler.url(role, credentials()[role], dbname)


def is_running() -> bool:
    try:
        with psycopg.connect(url(dbname="postgres"), connect_timeout=2):
            return True
    except (psycopg.OperationalError, FileNotFoundError, KeyError):
        return False


def init() -> None:
    """Create the cluster (idempotent)."""
    if (DATA / "PG_VERSION").exists():
        return
    _ensure_server_user()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if not CREDENTIALS.exists():
        CREDENTIALS.write_text(
            json.dumps({r: secrets.token_urlsafe(24) for r in ("superuser", MIGRATOR, APP, OPS)})
        )
        CREDENTIALS.chmod(0o600)
    pwfile = PG_DIR / ".pwfile"
    pwfile.write_text(credentials()["superuser"])
    if _as_root():
        shutil.chown(pwfile, user=SERVER_USER)
    try:
        _run_as_server_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(DATA),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            capture_output=True,
        )
    finally:
        pwfile.unlink()


def start() -> None:
    """Start the server if it is not running (idempotent), then make sure roles and database exist.
    One caller at a time: the suite's parallel workers each call it (their ``ALTER ROLE``s would
    collide, "tuple concurrently updated"), so the callers take turns on a lock file."""
    LOCAL.mkdir(parents=True, exist_ok=True)
    with open(LOCAL / "pg-start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _start()


def _start() -> None:
    init()
    if not is_running():
        SOCKET_DIR.mkdir(parents=True, exist_ok=True)
        if _as_root():
            shutil.chown(SOCKET_DIR, user=SERVER_USER)
            LOG.touch()
            shutil.chown(LOG, user=SERVER_USER)
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={PG_PORT} -c unix_socket_directories={SOCKET_DIR} "
            "-c max_connections=200 -c shared_buffers=256MB -c log_min_duration_statement=1000"
        )
        _run_as_server_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(DATA),
                "-o",
                options,
                "-l",
                str(LOG),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
        )
    ensure_roles_and_database()
    # The functions' way in, as RDS Proxy is in prod (the migrator and ops tools go direct).
    pooler.start({APP: credentials()[APP]})


def stop() -> None:
    pooler.stop()
    if (DATA / "postmaster.pid").exists():
        _run_as_server_user(
            [str(PG_BIN / "pg_ctl"), "-D", str(DATA), "-m", "fast", "-w", "stop"], capture_output=True
        )


def reset() -> None:
    """Throw the cluster away and start a new one (new passwords too)."""
    stop()
    shutil.rmtree(PG_DIR, ignore_errors=True)
    start()


def ensure_roles_and_database() -> None:
    """The three roles of the house plan and the app database owned by the migrator."""
    creds = credentials()
    with psycopg.connect(url(dbname="postgres"), autocommit=True) as conn:
        for role, attrs in (
            (MIGRATOR, "login createrole"),
            (APP, "login nobypassrls"),
            (OPS, "login nobypassrls"),  # reads all shops through its own policies (migration 0003)
        ):
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            verb = "alter" if exists else "create"
            conn.execute(
                sql.SQL("{} role {} with {} password {}").format(
                    sql.SQL(verb), sql.Identifier(role), sql.SQL(attrs), sql.Literal(creds[role])
                )
            )
        # What the deploy-time schema function sets on the app role in AWS (no startup options
        # through a proxy: the role carries its statement timeout).
        schema.apply_role_settings(conn, APP, schema.APP_ROLE_SETTINGS)
        ensure_database(conn, APP_DB)


def ensure_database(conn: psycopg.Connection[Any], name: str) -> None:
    if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None:
        conn.execute(
            sql.SQL("create database {} owner {}").format(sql.Identifier(name), sql.Identifier(MIGRATOR))
        )
    conn.execute(
        sql.SQL("grant connect on database {} to {}, {}").format(
            sql.Identifier(name), sql.Identifier(APP), sql.Identifier(OPS)
        )
    )


def wait_until_running(timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not is_running():
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not start; see {LOG}")
        time.sleep(0.2)


def log_path() -> Path:
    return LOG
