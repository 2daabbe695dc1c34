"""Backups that restore: `hackops backup DIR` and `hackops restore DIR`.

What DIR holds:
  manifest.json     written last, so a folder without it is not a finished backup: format,
                    app version, alembic revision, created_at, the dump's file/size/SHA-256, the
                    server and pg_dump versions, every table's row count and its security (RLS
                    on/forced, policies, the app role's privileges), and every stored object's
                    key, size and SHA-256
  database.dump     `pg_dump --format=custom` of the whole database, made as the owner
                    (DATABASE_ADMIN_URL, else DATABASE_URL) or the embedded cluster's superuser
  objects/ab/<sha>  each stored object's bytes, named by their SHA-256 (equal files stored once)

Consistency (what the pair of dump and objects guarantees):
- The database part is one snapshot. Our own REPEATABLE READ transaction exports its snapshot
  (`pg_export_snapshot()`) and stays open while `pg_dump --snapshot=…` dumps exactly that state;
  the row counts, security catalogue, alembic revision and the object keys the rows refer to
  (`REFERENCED_KEYS`) are read in the same transaction, so the manifest describes the dump.
- Objects are listed only after that snapshot was taken. The app stores an object before the
  row naming it commits (uploads: spool, store, then record; link snapshots: store, then record)
  and deletes only objects no committed row names (a refused upload's orphan). So every key a
  dumped row names existed when the listing began and is in the copy. The backup checks this
  (referenced ⊆ copied) and names any exception; the manifest keeps them (`missing_referenced`).
- Objects written after the snapshot are copied too: harmless extras no restored row names.
  An object deleted between listing and reading was such an orphan and is skipped. Keys are made
  by the server and never rewritten, so no object is caught half-replaced.
- The dump needs a role that bypasses row-level security (superuser or BYPASSRLS): tables have
  FORCE ROW LEVEL SECURITY, and a dump through the policies would silently miss rows. The backup
  refuses other roles with a one-line message instead.

Restore (into an empty database and store; `--force` replaces what is there):
- Every hash (the dump's, each object's) is checked before anything is written.
- `pg_restore --no-owner --single-transaction --exit-on-error`: all or nothing, owned by the
  restoring role (the one that runs later migrations). The app role is created first if missing,
  as the migrations do; the dump's own GRANT/REVOKE entries restore its table privileges (the
  audit log stays append-only); the database's CONNECT grant and the default privileges for
  future tables, which a dump does not carry for the new owner, are granted as migration 0002 does.
- Each object is written, read back and hashed again.
- Afterwards the row counts, RLS flags, policies and the app role's privileges are compared with
  the manifest; any difference is an error naming the table.
"""

from __future__ import annotations

from hackops.errors import AppError


class BackupError(AppError):
    """A backup or restore that cannot go on; the message is the one line the operator reads."""

    code = "backup_failed"


__all__ = ["BackupError"]
