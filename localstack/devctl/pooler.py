"""PgBouncer in front of the local PostgreSQL, standing in for RDS Proxy.

Prod's functions reach the database through RDS Proxy, which multiplexes transactions over shared
server connections and refuses what would pin a session ("RDS Proxy currently doesn't support
command-line options"). PgBouncer (Debian's package) in transaction pooling mode behaves the same
way for what our code could get wrong: it refuses the `options` startup parameter and gives a
connection's consecutive transactions whichever server connection is free, so session state
(SET, server-side prepared statements) does not survive from one transaction to the next. The
app role, in the tests and in the deployed local stage, connects through it; the migrator and the
ops tools go direct, as they do in prod.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from devctl.paths import LOCAL, PG_PORT

POOLER_DIR = LOCAL / "pgbouncer"
CONFIG = POOLER_DIR / "pgbouncer.ini"
USERLIST = POOLER_DIR / "userlist.txt"
PIDFILE = POOLER_DIR / "pgbouncer.pid"
LOG = POOLER_DIR / "pgbouncer.log"
POOLER_PORT = int(os.environ.get("ASSISTEC_POOLER_PORT", "56432"))
SERVER_USER = "postgres"  # PgBouncer refuses to run as root, like PostgreSQL


def binary() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "PgBouncer is not installed: `make deps` installs it (Debian: apt-get install pgbouncer)"
        )
    return found


def _config(users: dict[str, str]) -> tuple[str, str]:
    ini = f"""[databases]
* = host=127.0.0.1 port={PG_PORT}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {POOLER_PORT}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {USERLIST}
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
max_db_connections = 80
server_reset_query =
server_check_delay = 1
logfile = {LOG}
pidfile = {PIDFILE}
log_connections = 0
log_disconnections = 0
"""
    userlist = "".join(f'"{name}" "{password}"\n' for name, password in users.items())
    return ini, userlist


def url(role: str, password: str, dbname: str) -> str:
    return f"postgresql://{role}:{password}@127.0.0.1:{POOLER_PORT}/{dbname}"


def _pid() -> int | None:
    try:
        pid = int(PIDFILE.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def is_running() -> bool:
    return _pid() is not None


def start(users: dict[str, str]) -> None:
    """Start PgBouncer for ``users`` (role → password), or make a running one reload them."""
    ini, userlist = _config(users)
    POOLER_DIR.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(ini)
    USERLIST.write_text(userlist)
    USERLIST.chmod(0o600)
    as_root = os.geteuid() == 0
    if as_root:
        for path in (POOLER_DIR, CONFIG, USERLIST):
            shutil.chown(path, user=SERVER_USER)
        if LOG.exists():
            shutil.chown(LOG, user=SERVER_USER)
    pid = _pid()
    if pid is not None:
        os.kill(pid, signal.SIGHUP)  # reread the config and the passwords
        return
    args = [binary(), "-d", str(CONFIG)]
    subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", *args] if as_root else args, check=True, capture_output=True
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with psycopg.connect(url(*next(iter(users.items())), dbname="postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PgBouncer did not start; see {LOG}") from None
            time.sleep(0.2)


def stop() -> None:
    pid = _pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)  # close connections and exit
    deadline = time.monotonic() + 10
    while _pid() is not None and time.monotonic() < deadline:
        time.sleep(0.1)
