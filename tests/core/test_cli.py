from __future__ import annotations

import os
import secrets
from pathlib import Path

import psycopg
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from hackops import __version__, migrate
from hackops.config import Settings
from tests.helpers import run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hackops {__version__}"


def _postgres_running_on(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_embedded_database_is_created_reused_and_stopped(tmp_path: Path) -> None:
    env = {"HACKOPS_ENV": "dev", "DATA_DIR": str(tmp_path / "data"), "LOG_JSON": "false"}
    first = run_cli("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Embedded PostgreSQL ready" in first.stderr
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert not _postgres_running_on(pgdata), "the process that started the cluster stops it"

    second = run_cli("db", "current", env=env)
    assert second.returncode == 0, second.stderr
    (head,) = migrate.head_revisions()
    assert f"{head} (head)" in second.stdout
    assert not _postgres_running_on(pgdata)


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "HACKOPS_ENV": "test",
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATABASE_URL": str(settings.database_url),
        "DATABASE_ADMIN_URL": str(settings.database_admin_url),
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "LOG_JSON": "false",
    }


def test_admin_create_makes_a_verified_platform_admin(settings: Settings) -> None:
    env = cli_env(settings)
    args = (
        "admin",
        "create",
        "--email",
        " Root@Example.com",
        "--password",
        "a long admin passphrase",
    )
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "Created platform administrator root@example.com" in first.stderr
    again = run_cli(*args, env=env)
    assert again.returncode == 1
    assert "--promote-existing" in again.stderr
    weak = run_cli("admin", "create", "--email", "w@example.com", "--password", "password", env=env)
    assert weak.returncode == 1
    assert "password_too_short" in weak.stderr or "password_too_common" in weak.stderr
    with psycopg.connect(str(settings.database_admin_url)) as conn:
        row = conn.execute(
            "SELECT is_platform_admin, email_verified_at IS NOT NULL FROM users WHERE email = %s",
            ("root@example.com",),
        ).fetchone()
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM audit_log WHERE action = 'user.platform_admin_granted'")
        conn.execute("DELETE FROM users WHERE email = 'root@example.com'")
        conn.commit()
    assert row == (True, True)


def test_admin_create_promotes_an_existing_account_only_when_told_and_only_if_confirmed(
    settings: Settings,
) -> None:
    env = cli_env(settings)
    suffix = secrets.token_hex(4)
    confirmed, unconfirmed = f"kept-{suffix}@example.com", f"squat-{suffix}@example.com"
    with psycopg.connect(str(settings.database_admin_url)) as conn:
        for email, verified in ((confirmed, True), (unconfirmed, False)):
            (user_id,) = conn.execute(
                "INSERT INTO users (id, email, password_hash, email_verified_at)"
                " VALUES (gen_random_uuid(), %s, 'old-hash', CASE WHEN %s THEN now() END)"
                " RETURNING id",
                (email, verified),
            ).fetchone()
            for kind in ("session", "session", "api"):
                conn.execute(
                    "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
                    " VALUES (gen_random_uuid(), %s, %s, %s, now() + interval '1 day')",
                    (user_id, kind, secrets.token_hex(32)),
                )
        conn.commit()

    def state(email: str) -> tuple[bool, str, int]:
        with psycopg.connect(str(settings.database_admin_url)) as conn:
            row = conn.execute(
                "SELECT u.is_platform_admin, u.password_hash,"
                " count(t.id) FILTER (WHERE t.revoked_at IS NULL)"
                " FROM users u LEFT JOIN auth_tokens t ON t.user_id = u.id"
                " WHERE u.email = %s GROUP BY u.id",
                (email,),
            ).fetchone()
        assert row is not None
        return bool(row[0]), str(row[1]), int(row[2])

    password = "the admin's new passphrase"
    try:
        for email in (confirmed, unconfirmed):
            unasked = run_cli("admin", "create", "--email", email, "--password", password, env=env)
            assert unasked.returncode == 1, unasked.stderr
            assert "--promote-existing" in unasked.stderr
            assert state(email) == (False, "old-hash", 3)
        refused = run_cli(
            "admin", "create", "--email", unconfirmed, "--password", password,
            "--promote-existing", env=env,
        )  # fmt: skip
        assert refused.returncode == 1, refused.stderr
        assert "email_not_verified" in refused.stderr
        assert state(unconfirmed) == (False, "old-hash", 3)

        promoted = run_cli(
            "admin", "create", "--email", confirmed, "--password", password,
            "--promote-existing", env=env,
        )  # fmt: skip
        assert promoted.returncode == 0, promoted.stderr
        said = " ".join(promoted.stderr.split())
        assert f"Promoted the existing account {confirmed} to platform administrator." in said
        assert "Set its password to the one you typed." in said
        assert "Revoked 3 sessions and API tokens" in said
        is_admin, password_hash, live = state(confirmed)
        assert (is_admin, live) == (True, 0)
        assert PasswordHash((Argon2Hasher(),)).verify(password, password_hash)
    finally:
        with psycopg.connect(str(settings.database_admin_url)) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "DELETE FROM audit_log WHERE resource_id IN"
                " (SELECT id::text FROM users WHERE email IN (%s, %s))",
                (confirmed, unconfirmed),
            )
            conn.execute("DELETE FROM users WHERE email IN (%s, %s)", (confirmed, unconfirmed))
            conn.commit()


def test_admin_plan_shows_and_raises_an_organizations_limits(settings: Settings) -> None:
    env = cli_env(settings)
    slug = f"plan-{secrets.token_hex(3)}"
    with psycopg.connect(str(settings.database_admin_url)) as conn:
        conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " VALUES (gen_random_uuid(), %s, 'Plan Club')",
            (slug,),
        )
        conn.commit()
    try:
        shown = run_cli("admin", "plan", slug, env=env)
        assert shown.returncode == 0, shown.stderr
        assert f"Plan Club ({slug}): plan free, 0 of 3 active events in use" in shown.stderr
        raised = run_cli(
            "admin", "plan", slug, "--plan", "pro", "--max-active-events", "12", env=env
        )
        assert raised.returncode == 0, raised.stderr
        assert "plan: free → pro" in raised.stderr
        assert "max active events: 3 → 12" in raised.stderr
        assert f"Plan Club ({slug}): plan pro, 0 of 12 active events in use" in raised.stderr
        unknown = run_cli("admin", "plan", "no-such-club", "--max-active-events", "5", env=env)
        assert unknown.returncode == 1
        assert "No such organization." in unknown.stderr
        negative = run_cli("admin", "plan", slug, "--max-active-events", "-1", env=env)
        assert negative.returncode == 2
        with psycopg.connect(str(settings.database_admin_url)) as conn:
            org = conn.execute(
                "SELECT plan, max_active_events FROM organizations WHERE slug = %s", (slug,)
            ).fetchone()
            audit = conn.execute(
                "SELECT a.details, a.user_agent, a.actor_id FROM audit_log a"
                " JOIN organizations o ON o.id = a.org_id"
                " WHERE o.slug = %s AND a.action = 'organization.plan_changed'",
                (slug,),
            ).fetchall()
        assert org == ("pro", 12)
        assert audit == [({"plan": "pro", "max_active_events": 12}, "hackops admin plan", None)]
    finally:
        with psycopg.connect(str(settings.database_admin_url)) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                "DELETE FROM audit_log"
                " WHERE org_id IN (SELECT id FROM organizations WHERE slug = %s)",
                (slug,),
            )
            conn.execute("DELETE FROM organizations WHERE slug = %s", (slug,))
            conn.commit()
