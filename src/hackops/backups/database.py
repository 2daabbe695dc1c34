"""What a backup reads from, and a restore does to, PostgreSQL besides pg_dump/pg_restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from hackops.backups import BackupError
from hackops.backups.manifest import TableSecurity

Connection = psycopg.Connection[tuple[Any, ...]]

#: Columns holding object-store keys. A new one belongs here, or its objects would be copied
#: without the backup checking that each referenced object made it into the copy.
REFERENCED_KEYS = (("submission_files", "storage_key"), ("link_checks", "snapshot_key"))
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
_TABLES_QUERY = """
    SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1
"""
#: Per table and sequence: RLS flags, each policy (name, command, kind, roles, which clauses; not
#: the expressions' text, which the server re-prints differently after a round trip through a
#: dump), the role's privileges (none when the role does not exist: to_regrole gives NULL).
_SECURITY_QUERY = """
    SELECT format('%%I.%%I', n.nspname, c.relname), c.relrowsecurity, c.relforcerowsecurity,
      ARRAY(SELECT format('%%s for %%s %%s to %%s%%s%%s', p.polname, p.polcmd,
          CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END,
          array_to_string(ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END
                                FROM unnest(p.polroles) r ORDER BY 1), ','),
          CASE WHEN p.polqual IS NULL THEN '' ELSE ' using' END,
          CASE WHEN p.polwithcheck IS NULL THEN '' ELSE ' check' END)
        FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY p.polname),
      ARRAY(SELECT priv
            FROM unnest(CASE WHEN c.relkind = 'S' THEN %(seq)s::text[]
                             ELSE %(tab)s::text[] END) priv
            WHERE CASE WHEN c.relkind = 'S'
                       THEN has_sequence_privilege(to_regrole(%(role)s), c.oid, priv)
                       ELSE has_table_privilege(to_regrole(%(role)s), c.oid, priv) END)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\\_%%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1
"""


def connect(url: str, *, purpose: str) -> Connection:
    """An autocommit connection; an unreachable server is one line naming what it was for."""
    try:
        return psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = lines[0] if lines else type(exc).__name__
        raise BackupError(
            f"The database is unreachable ({purpose}): {reason}", code="database_unreachable"
        ) from None


def _one(conn: Connection, query: Any, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def server_version(conn: Connection) -> tuple[int, str]:
    number = int(_one(conn, "SELECT current_setting('server_version_num')"))
    text = str(_one(conn, "SELECT current_setting('server_version')")).split()[0]
    return number // 10000, text


def require_rls_bypass(conn: Connection, *, purpose: str, setting: str) -> None:
    """Dumping or loading FORCE-RLS tables through the policies would miss rows: refuse."""
    user, allowed = conn.execute(
        "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone() or ("?", False)
    if not allowed:
        raise BackupError(
            f"The {purpose} connection ({setting}) is role {user}, to which row-level"
            " security applies, so rows would be missing. Set DATABASE_ADMIN_URL to the tables'"
            " owner, as a role that is superuser or has BYPASSRLS (ALTER ROLE <owner> BYPASSRLS).",
            code="role_cannot_bypass_rls",
        )


def user_tables(conn: Connection) -> list[str]:
    """Every table of ours (not the system's, not an extension's), schema-qualified and quoted."""
    return [row[0] for row in conn.execute(_TABLES_QUERY)]


def row_counts(conn: Connection, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:  # names as quoted by the server's format('%I.%I')
        counts[table] = int(_one(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table))))
    return counts


def role_exists(conn: Connection, role: str) -> bool:
    return bool(_one(conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", (role,)))


def security(conn: Connection, role: str) -> dict[str, TableSecurity]:
    """RLS flags, policies and `role`'s privileges per table and sequence, plus the database's
    CONNECT and the public schema's USAGE: what must hold again after a restore."""
    has_role = role_exists(conn, role)
    params = {"role": role, "seq": list(SEQUENCE_PRIVILEGES), "tab": list(TABLE_PRIVILEGES)}
    result = {
        name: TableSecurity(rls=rls, forced=forced, policies=list(policies), app_privileges=privs)
        for name, rls, forced, policies, privs in conn.execute(_SECURITY_QUERY, params)
    }
    if has_role:
        connect, usage = conn.execute(
            "SELECT has_database_privilege(%s, current_database(), 'CONNECT'),"
            " has_schema_privilege(%s, 'public', 'USAGE')",
            (role, role),
        ).fetchone() or (False, False)
        held = ["CONNECT"] * bool(connect) + ["USAGE ON SCHEMA public"] * bool(usage)
        result["(database)"] = TableSecurity(
            rls=False, forced=False, policies=[], app_privileges=held
        )
    return result


def referenced_keys(conn: Connection) -> set[str]:
    keys: set[str] = set()
    for table, column in REFERENCED_KEYS:
        if _one(conn, "SELECT to_regclass(%s)", (f"public.{table}",)) is None:
            continue
        query = sql.SQL("SELECT {c} FROM {t} WHERE {c} IS NOT NULL").format(
            c=sql.Identifier(column), t=sql.Identifier(table)
        )
        keys.update(row[0] for row in conn.execute(query))
    return keys


def alembic_revision(conn: Connection) -> str | None:
    if _one(conn, "SELECT to_regclass('public.alembic_version')") is None:
        return None
    rows = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version ORDER BY 1")]
    return ",".join(rows) or None


@contextmanager
def exported_snapshot(conn: Connection) -> Iterator[str]:
    """Hold a REPEATABLE READ snapshot open and give its id for `pg_dump --snapshot`.

    Every query on `conn` inside the block sees exactly the state the dump holds. Row security
    is off, so a query RLS would filter fails instead of returning fewer rows.
    """
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        snapshot = str(_one(conn, "SELECT pg_export_snapshot()"))
        conn.execute("SET LOCAL row_security = off")
        yield snapshot
    finally:
        conn.execute("ROLLBACK")


def ensure_app_role(conn: Connection, role: str) -> bool:
    """Create the app role as migration 0002 does when it is missing; True when created."""
    if role_exists(conn, role):
        return False
    try:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                sql.Identifier(role)
            )
        )
    except psycopg.errors.InsufficientPrivilege:
        raise BackupError(
            f"The role {role} does not exist and this connection may not create it; create it"
            " (LOGIN NOSUPERUSER NOBYPASSRLS) and run the restore again.",
            code="app_role_missing",
        ) from None
    return True


_DEFAULTS = (
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public {} SELECT, INSERT, UPDATE, DELETE ON TABLES {} {}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public {} USAGE, SELECT ON SEQUENCES {} {}",
)


def revoke_default_privileges(conn: Connection, role: str) -> None:
    """Before pg_restore: tables it creates must get exactly the dump's privileges (e.g. none
    to change the audit log), not what default privileges already in the target would add."""
    with conn.transaction():
        for template in _DEFAULTS:
            conn.execute(
                sql.SQL(template).format(sql.SQL("REVOKE"), sql.SQL("FROM"), sql.Identifier(role))
            )


def grant_as_migrations(conn: Connection, role: str) -> None:
    """What a dump does not carry for a new owner: CONNECT on the database, USAGE on the
    schema, and the default privileges future migrations' tables get (as migration 0002)."""
    who = sql.Identifier(role)
    with conn.transaction():
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(str(_one(conn, "SELECT current_database()"))), who
            )
        )
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(who))
        for template in _DEFAULTS:
            conn.execute(sql.SQL(template).format(sql.SQL("GRANT"), sql.SQL("TO"), who))
