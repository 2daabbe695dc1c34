"""A submit through the API commits with its write (`db.final_write_session`): the team's
submission row is unlocked, and the version visible to others, as soon as `submit_version` has
run, not when the request's coroutine next runs (at the deadline, every team's next submit and
every edit waits on that lock). A refusal answers its error and writes nothing. Real commits
(`committed_db`), the app's own engine and pool."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from hackops.config import Settings, to_libpq_url
from hackops.db import Database
from hackops.main import create_app
from hackops.submissions.intake import service
from tests.helpers import serving
from tests.submissions.test_api import code, fill, scene

pytestmark = pytest.mark.slow


async def _row_lock_free(settings: Settings, team_id: object) -> bool:
    """Can another transaction lock the team's submission row right now (NOWAIT)?"""
    async with await psycopg.AsyncConnection.connect(
        to_libpq_url(settings.database_admin_url or "")
    ) as conn:
        try:
            await conn.execute(
                "SELECT 1 FROM submissions WHERE team_id = %s FOR UPDATE NOWAIT", [team_id]
            )
        except psycopg.errors.LockNotAvailable:
            return False
        finally:
            await conn.rollback()
    return True


async def _count(database: Database, sql: str, **params: Any) -> int:
    async with database.transaction() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        return int(await session.scalar(text(sql), params) or 0)


async def test_the_row_is_free_and_the_version_visible_once_the_write_has_run(
    settings: Settings, committed_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with committed_db.transaction() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        s, team, url = await scene(session)
    seen: dict[str, Any] = {}
    real: Callable[..., Awaitable[Any]] = service.submit

    async def submit_then_look(*args: Any, **kwargs: Any) -> Any:
        version = await real(*args, **kwargs)
        seen["lock_free"] = await _row_lock_free(settings, team.id)
        seen["visible"] = await _count(
            committed_db, "SELECT count(*) FROM submission_versions WHERE id = :id", id=version.id
        )
        return version

    monkeypatch.setattr(service, "submit", submit_then_look)
    app = create_app(settings, database=committed_db)
    async with serving(app) as http:
        await fill(http, s, url)
        response = await http.post(url + "/submit", headers=s.auth("bob"))
        assert response.status_code == 201, response.text
    assert seen == {"lock_free": True, "visible": 1}
    version_id = response.json()["id"]
    steps = await _count(
        committed_db, "SELECT count(*) FROM pipeline_steps WHERE version_id = :id", id=version_id
    )
    audited = await _count(
        committed_db,
        "SELECT count(*) FROM audit_log WHERE action = 'submission.submitted'"
        " AND details->>'team_id' = :team",
        team=str(team.id),
    )
    assert (steps, audited) == (4, 1)


async def test_a_refusal_writes_nothing(settings: Settings, committed_db: Database) -> None:
    """Nothing to submit yet (no title): 409 `title_required`, no version, no audit row."""
    async with committed_db.transaction() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        s, team, url = await scene(session)
    app = create_app(settings, database=committed_db)
    async with serving(app) as http:
        created = await http.patch(url, headers=s.auth("alice"), json={"tagline": "Untitled"})
        assert created.status_code == 200, created.text
        refused = await http.post(url + "/submit", headers=s.auth("alice"))
    assert (refused.status_code, code(refused)) == (409, "title_required"), refused.text
    versions = await _count(
        committed_db,
        "SELECT count(*) FROM submission_versions v JOIN submissions s ON s.id = v.submission_id"
        " WHERE s.team_id = :team",
        team=team.id,
    )
    assert versions == 0
