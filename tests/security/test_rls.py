"""The second wall: PostgreSQL row-level security on every tenant table, as the app's role."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops.db import Database
from hackops.models import PERSONAL_TABLES, PUBLIC_TABLES, TENANT_TABLES
from tests.conftest import APP_ROLE


async def test_every_table_with_org_id_has_forced_rls(admin_engine: AsyncEngine) -> None:
    async with admin_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    """
                    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
                    FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id'
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT a.attisdropped
                    ORDER BY 1
                    """
                )
            )
        ).all()
    assert {r[0] for r in rows} == set(TENANT_TABLES) | set(PERSONAL_TABLES) | set(PUBLIC_TABLES)
    assert [r[0] for r in rows if not (r[1] and r[2])] == []


async def test_app_role_owns_nothing_and_cannot_bypass_rls(admin_engine: AsyncEngine) -> None:
    async with admin_engine.connect() as conn:
        role = (
            await conn.execute(
                text(
                    "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = :r"
                ),
                {"r": APP_ROLE},
            )
        ).one()
        owned = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
                    " WHERE r.rolname = :r"
                ),
                {"r": APP_ROLE},
            )
        ).scalar_one()
        functions = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
                    " WHERE r.rolname = :r"
                ),
                {"r": APP_ROLE},
            )
        ).scalar_one()
    assert tuple(role) == (False, False, False)
    assert (owned, functions) == (0, 0)


#: One row of every event-level tenant table (the event is unpublished: private to its tenant).
SEED_EVENT_ROWS = (
    "INSERT INTO events (id, org_id, slug, name) VALUES (:event, :org, :slug, :slug)",
    "INSERT INTO event_tracks (id, org_id, event_id, name) VALUES (:track, :org, :event, 'T')",
    "INSERT INTO schedule_items (id, org_id, event_id, title, starts_at)"
    " VALUES (gen_random_uuid(), :org, :event, 'Opening', now())",
    "INSERT INTO event_awards (id, org_id, event_id, track_id, name)"
    " VALUES (:award, :org, :event, :track, 'A')",
    "INSERT INTO event_roles (id, org_id, event_id, user_id, role)"
    " VALUES (gen_random_uuid(), :org, :event, :user, 'judge')",
    "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
    " VALUES (gen_random_uuid(), :org, :event, :user, 'registered', :slug)",
    "INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members)"
    " VALUES (:team, :org, :event, 'Team', :user, :slug, 5)",
    "INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)"
    " VALUES (gen_random_uuid(), :org, :event, :team, :user, 'captain')",
    "INSERT INTO team_invitations (id, org_id, event_id, team_id, email, token_hash,"
    " invited_by_id, expires_at) VALUES (gen_random_uuid(), :org, :event, :team,"
    " 'i@example.com', md5(random()::text), :user, now() + interval '1 day')",
    "INSERT INTO team_join_requests (id, org_id, event_id, team_id, user_id)"
    " VALUES (gen_random_uuid(), :org, :event, :team, :user)",
    "INSERT INTO tasks (id, org_id, team_id, title, position, created_by_id)"
    " VALUES (gen_random_uuid(), :org, :team, 'Task', 1, :user)",
    # Submissions, judging, results, voting (a second team's project for the pairs).
    "INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members)"
    " VALUES (:team2, :org, :event, 'Team 2', :user, :slug || '2', 5)",
    "INSERT INTO submissions (id, org_id, event_id, team_id, status, version_count)"
    " VALUES (:sub, :org, :event, :team, 'submitted', 1),"
    " (:sub2, :org, :event, :team2, 'submitted', 1)",
    "INSERT INTO submission_versions (id, org_id, event_id, submission_id, number, snapshot)"
    " VALUES (:version, :org, :event, :sub, 1, '{}')",
    "INSERT INTO submission_files (id, org_id, event_id, team_id, submission_id, storage_key,"
    " name, content_type, kind, size, sha256) VALUES (gen_random_uuid(), :org, :event, :team,"
    " :sub, :slug || '/key', 'f.pdf', 'application/pdf', 'pdf', 1, repeat('a', 64))",
    "INSERT INTO pipeline_steps (id, org_id, event_id, submission_id, version_id, step)"
    " VALUES (gen_random_uuid(), :org, :event, :sub, :version, 'similarity')",
    "INSERT INTO version_texts (id, org_id, version_id, source, content)"
    " VALUES (gen_random_uuid(), :org, :version, 'description', 'x')",
    "INSERT INTO link_checks (id, org_id, submission_id, version_id, url, status)"
    " VALUES (gen_random_uuid(), :org, :sub, :version, 'https://example.com', 'ok')",
    "INSERT INTO submission_fingerprints (version_id, org_id, event_id, submission_id, minhash,"
    " shingles, shingle_count) VALUES (:version, :org, :event, :sub, '{}', '{}', 0)",
    "INSERT INTO submission_bands (version_id, band, org_id, event_id, submission_id, hash)"
    " VALUES (:version, 0, :org, :event, :sub, 1)",
    "INSERT INTO duplicate_flags (id, org_id, event_id, submission_id, other_submission_id,"
    " kind, score) VALUES (gen_random_uuid(), :org, :event, :sub, :sub2, 'text', 0.9)",
    "INSERT INTO judging_criteria (id, org_id, event_id, name)"
    " VALUES (gen_random_uuid(), :org, :event, 'C')",
    "INSERT INTO judge_conflicts (id, org_id, event_id, judge_id, team_id, source)"
    " VALUES (gen_random_uuid(), :org, :event, :judge, :team2, 'organizer')",
    "INSERT INTO judge_assignments (id, org_id, event_id, judge_id, submission_id)"
    " VALUES (gen_random_uuid(), :org, :event, :judge, :sub)",
    # (its triggers also write evaluation_history, judging_versions and judging_changes)
    "INSERT INTO evaluations (id, org_id, event_id, judge_id, submission_id, team_id)"
    " VALUES (gen_random_uuid(), :org, :event, :judge, :sub, :team)",
    "INSERT INTO judging_flags (id, org_id, event_id, submission_id, judge_id, reason)"
    " VALUES (gen_random_uuid(), :org, :event, :sub, :judge, 'broken')",
    "INSERT INTO event_role_invitations (id, org_id, event_id, email, role, token_hash,"
    " expires_at) VALUES (gen_random_uuid(), :org, :event, 'j@example.com', 'judge',"
    " md5(:slug) || md5(:slug), now() + interval '1 day')",
    "INSERT INTO pairwise_entries (id, org_id, event_id, judge_id, kind, first_id, second_id)"
    " VALUES (gen_random_uuid(), :org, :event, :judge, 'comparison', :sub, :sub2)",
    "INSERT INTO pairwise_current (event_id, judge_id, org_id, first_id, second_id)"
    " VALUES (:event, :judge, :org, :sub, :sub2)",
    "INSERT INTO award_winners (id, org_id, event_id, award_id, submission_id)"
    " VALUES (gen_random_uuid(), :org, :event, :award, :sub)",
    "INSERT INTO event_results (event_id, org_id, method, ranking, winners)"
    " VALUES (:event, :org, 'judge_effect', '[]', '[]')",
    "INSERT INTO public_votes (id, org_id, event_id, track_key, user_id, submission_id)"
    " VALUES (gen_random_uuid(), :org, :event, '00000000-0000-0000-0000-000000000000', :user,"
    " :sub)",
    "INSERT INTO outbox_events (id, org_id, event_id, type, version, subject_type, payload)"
    " VALUES (gen_random_uuid(), :org, :event, 'results.published', 1, 'event', '{}')",
    "INSERT INTO announcements (id, org_id, event_id, title, body, body_html, audience, channels)"
    " VALUES (:announcement, :org, :event, 'Hi', 'Hi', '<p>Hi</p>', 'registered', '{in_app}')",
    "INSERT INTO announcement_recipients (announcement_id, user_id, org_id)"
    " VALUES (:announcement, :user, :org)",
    "INSERT INTO event_reminders (event_id, org_id) VALUES (:event, :org)",
    "INSERT INTO reminder_claims (event_id, kind, occurrence, org_id)"
    " VALUES (:event, 'judging_daily', '2026-11-23', :org)",
    # Webhooks (the rows above found by their organization).
    "INSERT INTO webhook_endpoints (id, org_id, url, secret_sealed)"
    " VALUES (gen_random_uuid(), :org, 'https://hooks.example.com/' || :slug, '\\x01')",
    "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, outbox_event_id, event_type)"
    " SELECT gen_random_uuid(), :org, w.id, o.id, o.type FROM webhook_endpoints w, outbox_events o"
    " WHERE w.org_id = :org AND o.org_id = :org",
    "INSERT INTO webhook_attempts (id, org_id, delivery_id, endpoint_id, number)"
    " SELECT gen_random_uuid(), :org, d.id, d.endpoint_id, 1 FROM webhook_deliveries d"
    " WHERE d.org_id = :org",
)


@pytest.fixture
async def two_tenants(
    committed_db: Database, admin_engine: AsyncEngine
) -> tuple[uuid.UUID, uuid.UUID]:
    """Committed rows of every tenant table for two organizations (written as the owner)."""
    a, b = uuid.uuid4(), uuid.uuid4()
    async with admin_engine.begin() as conn:
        for org, slug in ((a, "rls-a"), (b, "rls-b")):
            user = uuid.uuid4()
            await conn.execute(
                text("INSERT INTO organizations (id, slug, name) VALUES (:id, :slug, :slug)"),
                {"id": org, "slug": slug},
            )
            await conn.execute(
                text("INSERT INTO users (id, email) VALUES (:id, :email)"),
                {"id": user, "email": f"{slug}@example.com"},
            )
            await conn.execute(
                text(
                    "INSERT INTO org_memberships (id, org_id, user_id, role)"
                    " VALUES (gen_random_uuid(), :org, :user, 'owner')"
                ),
                {"org": org, "user": user},
            )
            await conn.execute(
                text(
                    "INSERT INTO org_invitations (id, org_id, email, role, token_hash, expires_at)"
                    " VALUES (gen_random_uuid(), :org, 'x@example.com', 'member', :h,"
                    " now() + interval '1 day')"
                ),
                {"org": org, "h": uuid.uuid4().hex},
            )
            await conn.execute(
                text(
                    "INSERT INTO audit_log (id, org_id, actor_id, action, resource_type)"
                    " VALUES (gen_random_uuid(), :org, :user, 'test.seeded', 'organization')"
                ),
                {"org": org, "user": user},
            )
            judge = uuid.uuid4()
            await conn.execute(
                text("INSERT INTO users (id, email) VALUES (:id, :email)"),
                {"id": judge, "email": f"judge-{slug}@example.com"},
            )
            ids = {
                "org": org,
                "user": user,
                "judge": judge,
                "team2": uuid.uuid4(),
                "sub": uuid.uuid4(),
                "sub2": uuid.uuid4(),
                "version": uuid.uuid4(),
                "award": uuid.uuid4(),
                "event": uuid.uuid4(),
                "track": uuid.uuid4(),
                "team": uuid.uuid4(),
                "announcement": uuid.uuid4(),
                "slug": slug,
            }
            for statement in SEED_EVENT_ROWS:
                await conn.execute(text(statement), ids)
    return a, b


async def counts(conn: object) -> dict[str, int]:
    result = {}
    for table in TENANT_TABLES:
        result[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # type: ignore[attr-defined]
    return result


async def test_no_tenant_set_means_no_rows(
    committed_db: Database, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, _ = two_tenants
    zero = dict.fromkeys(TENANT_TABLES, 0)
    async with committed_db.engine.connect() as conn:
        assert await counts(conn) == zero  # a fresh connection
        await conn.commit()
        await conn.execute(text("SELECT set_config('hackops.org_id', :a, true)"), {"a": str(a)})
        seen = await counts(conn)  # serving tenant A: its rows of every table, B's none
        assert seen == {t: 2 if t in ("submissions", "teams") else 1 for t in TENANT_TABLES}
        await conn.commit()
        assert await counts(conn) == zero  # the same connection, next transaction


async def test_a_tenant_cannot_write_into_another(
    committed_db: Database, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = two_tenants
    async with committed_db.engine.connect() as conn:
        await conn.execute(text("SELECT set_config('hackops.org_id', :a, true)"), {"a": str(a)})
        with pytest.raises(ProgrammingError, match="row-level security"):
            await conn.execute(
                text(
                    "INSERT INTO org_invitations (id, org_id, email, role, token_hash, expires_at)"
                    " VALUES (gen_random_uuid(), :b, 'y@example.com', 'owner', 'h', now())"
                ),
                {"b": b},
            )
        await conn.rollback()
        await conn.execute(text("SELECT set_config('hackops.org_id', :a, true)"), {"a": str(a)})
        moved = await conn.execute(
            text("UPDATE org_memberships SET role = 'member' WHERE org_id = :b"), {"b": b}
        )
        assert moved.rowcount == 0  # type: ignore[attr-defined]
        await conn.rollback()


async def test_audit_log_is_append_only(
    committed_db: Database, two_tenants: tuple[uuid.UUID, uuid.UUID], admin_engine: AsyncEngine
) -> None:
    a, _ = two_tenants
    async with committed_db.engine.connect() as conn:
        await conn.execute(text("SELECT set_config('hackops.org_id', :a, true)"), {"a": str(a)})
        with pytest.raises(ProgrammingError, match="permission denied"):
            await conn.execute(text("UPDATE audit_log SET action = 'forged'"))
        await conn.rollback()
    async with admin_engine.connect() as conn:  # not even the owner rewrites history
        with pytest.raises(ProgrammingError, match="append-only"):
            await conn.execute(text("DELETE FROM audit_log"))
        await conn.rollback()


async def test_personal_rows_are_their_owners_only(
    committed_db: Database, admin_engine: AsyncEngine
) -> None:
    """Notifications and preferences belong to a person, whatever the tenant: with the tenant of
    the notification's organization set, another person still sees none of them."""
    org, ada, bob = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with admin_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO organizations (id, slug, name) VALUES (:id, 'rls-p', 'rls-p')"),
            {"id": org},
        )
        for user, email in ((ada, "ada-p@example.com"), (bob, "bob-p@example.com")):
            await conn.execute(
                text("INSERT INTO users (id, email) VALUES (:id, :email)"),
                {"id": user, "email": email},
            )
        await conn.execute(
            text(
                "INSERT INTO notifications (id, user_id, org_id, dedupe_key, category, title)"
                " VALUES (gen_random_uuid(), :ada, :org, 'k', 'announcements', 'Hi Ada')"
            ),
            {"ada": ada, "org": org},
        )
        await conn.execute(
            text(
                "INSERT INTO notification_preferences (user_id, category, channel, enabled)"
                " VALUES (:ada, 'team', 'email', false)"
            ),
            {"ada": ada},
        )
    count = (
        "SELECT (SELECT count(*) FROM notifications)"
        " + (SELECT count(*) FROM notification_preferences)"
    )
    async with committed_db.engine.connect() as conn:
        for user, expected in ((bob, 0), (ada, 2)):
            await conn.execute(
                text(
                    "SELECT set_config('hackops.org_id', :org, true),"
                    " set_config('hackops.user_id', :user, true)"
                ),
                {"org": str(org), "user": str(user)},
            )
            assert await conn.scalar(text(count)) == expected
            await conn.rollback()
        await conn.execute(
            text("SELECT set_config('hackops.user_id', :bob, true)"), {"bob": str(bob)}
        )
        with pytest.raises(ProgrammingError, match="row-level security"):
            await conn.execute(
                text(
                    "INSERT INTO notifications (id, user_id, dedupe_key, category, title)"
                    " VALUES (gen_random_uuid(), :ada, 'forged', 'announcements', 'Forged')"
                ),
                {"ada": ada},
            )
        await conn.rollback()
