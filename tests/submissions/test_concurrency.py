"""Submissions under concurrency, through the real HTTP stack and connection pool.

The uvicorn server of tests/registrations/test_concurrency.py (a process of its own, a pool of
20 connections) on a migrated database of this module's own, seeded with 200 people and their
sign-in tokens. Each round seeds a fresh event, team and draft in SQL, releases every client at
one barrier, then checks the database as its owner (who sees every row). Repeated.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest

from hackops.models import PIPELINE_ORDER, new_id
from tests.conftest import _migrated_database
from tests.registrations.test_concurrency import World, _serve, client, codes, report, warm
from tests.submissions.filehelpers import png_bytes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROUNDS = int(os.environ.get("SUBMIT_ROUNDS", "5"))
UPLOAD_ROUNDS = int(os.environ.get("UPLOAD_ROUNDS", "10"))
SUBMITS = 20
TEAM_SIZE = 5
STEPS = sorted(step.value for step in PIPELINE_ORDER)


@pytest.fixture(scope="module")
def world(server_admin_url: str, storage_dir: Path) -> Iterator[World]:
    for db_url in _migrated_database(server_admin_url, "hackops_submit_race"):
        yield from _serve(db_url, storage_dir)


@dataclass
class Round:
    event_slug: str
    team_id: str
    submission_id: str
    tokens: list[str]  # the team's members

    def url(self, world: World, tail: str = "") -> str:
        return (
            f"/api/v1/organizations/{world.org_slug}/events/{self.event_slug}"
            f"/teams/{self.team_id}/submission{tail}"
        )


def seed_round(world: World, people: range, *, file_max_count: int = 10, files: int = 0) -> Round:
    """An open event (started yesterday, closing tomorrow), `people` registered and in one team,
    a titled draft with `files` files already on it."""
    event_id, team_id, submission_id = new_id(), new_id(), new_id()
    slug = f"e-{secrets.token_hex(4)}"
    with psycopg.connect(world.db_url) as conn:
        user_ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM users WHERE email = ANY(%s) ORDER BY email",
                ([f"p{i}@seats.example" for i in people],),
            )
        ]
        assert len(user_ids) == len(people)
        conn.execute(
            "INSERT INTO events (id, org_id, slug, name, visibility, published_at, starts_at,"
            " submissions_close_at, team_max, file_max_count)"
            " VALUES (%s, %s, %s, %s, 'public', now() - interval '2 days',"
            " now() - interval '1 day', now() + interval '1 day', %s, %s)",
            (event_id, world.org_id, slug, slug, TEAM_SIZE, file_max_count),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
                " VALUES (%s, %s, %s, %s, 'registered', %s)",
                [
                    (new_id(), world.org_id, event_id, u, secrets.token_hex(5).upper())
                    for u in user_ids
                ],
            )
            cur.execute(
                "INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    team_id,
                    world.org_id,
                    event_id,
                    f"Team {slug}",
                    user_ids[0],
                    secrets.token_hex(4).upper(),
                    TEAM_SIZE,
                ),
            )
            cur.executemany(
                "INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (
                        new_id(),
                        world.org_id,
                        event_id,
                        team_id,
                        u,
                        "captain" if i == 0 else "member",
                    )
                    for i, u in enumerate(user_ids)
                ],
            )
            cur.execute(
                "INSERT INTO submissions (id, org_id, event_id, team_id, title, description)"
                " VALUES (%s, %s, %s, %s, 'Greenhouse', 'Plants that text you')",
                (submission_id, world.org_id, event_id, team_id),
            )
            cur.executemany(
                "INSERT INTO submission_files (id, org_id, event_id, team_id, submission_id,"
                " storage_key, name, content_type, kind, size, sha256)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, 'image/png', 'png', 1, %s)",
                [
                    (
                        new_id(),
                        world.org_id,
                        event_id,
                        team_id,
                        submission_id,
                        f"org/{world.org_id}/event/{event_id}/team/{team_id}/{new_id()}",
                        f"seeded-{n}.png",
                        "0" * 64,
                    )
                    for n in range(files)
                ],
            )
    return Round(slug, str(team_id), str(submission_id), [world.tokens[i] for i in people])


async def release(
    http: httpx2.AsyncClient, calls: list[tuple[str, str, dict[str, Any]]]
) -> list[httpx2.Response]:
    """POST every (url, token, options) at once: all wait at one barrier, then go."""
    barrier = asyncio.Barrier(len(calls))

    async def one(url: str, token: str, options: dict[str, Any]) -> httpx2.Response:
        await barrier.wait()
        return await http.post(url, headers={"Authorization": f"Bearer {token}"}, **options)

    return list(await asyncio.gather(*(one(*c) for c in calls)))


def submit_facts(world: World, submission_id: str) -> dict[str, Any]:
    with psycopg.connect(world.db_url) as conn:
        version_count, latest_id, status = conn.execute(
            "SELECT version_count, latest_version_id, status FROM submissions WHERE id = %s",
            (submission_id,),
        ).fetchone()  # type: ignore[misc]
        versions = conn.execute(
            "SELECT id, number FROM submission_versions WHERE submission_id = %s ORDER BY number",
            (submission_id,),
        ).fetchall()
        steps: dict[Any, list[str]] = {}
        for version_id, step in conn.execute(
            "SELECT version_id, step FROM pipeline_steps WHERE submission_id = %s"
            " AND state = 'queued' ORDER BY step",
            (submission_id,),
        ):
            steps.setdefault(version_id, []).append(step)
        # The first step's job of each version, queued on 'processing' (no worker runs here).
        jobs = Counter(
            version_id
            for (version_id,) in conn.execute(
                "SELECT s.version_id FROM procrastinate_jobs j"
                " JOIN pipeline_steps s ON s.id::text = j.args->>'step_id'"
                " WHERE s.submission_id = %s AND j.queue_name = 'processing'"
                " AND j.task_name = 'pipeline.validate_files' AND j.status = 'todo'"
                " AND s.step = 'validate_files'",
                (submission_id,),
            )
        )
        audited = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'submission.submitted'"
            " AND resource_id = %s",
            (submission_id,),
        ).fetchone()
    return {
        "version_count": version_count,
        "latest_id": latest_id,
        "status": status,
        "versions": versions,
        "steps": steps,
        "jobs": jobs,
        "audited": audited[0] if audited else None,
    }


def stored_objects(storage_dir: Path, team_id: str) -> set[str]:
    """The keys of the team's objects in the local store."""
    return {
        str(path.relative_to(storage_dir))
        for path in storage_dir.glob(f"org/*/event/*/team/{team_id}/*")
    }


async def test_twenty_submits_by_one_team_number_versions_without_gaps(world: World) -> None:
    assert len(world.tokens) >= ROUNDS * TEAM_SIZE
    async with client(SUBMITS, world) as http:
        await warm(http, SUBMITS)
        started = time.perf_counter()
        for n in range(ROUNDS):
            r = seed_round(world, range(n * TEAM_SIZE, (n + 1) * TEAM_SIZE))
            calls: list[tuple[str, str, dict[str, Any]]] = [
                (r.url(world, "/submit"), r.tokens[i % TEAM_SIZE], {}) for i in range(SUBMITS)
            ]
            responses = await release(http, calls)
            assert codes(responses) == {(201, ""): SUBMITS}, [resp.text for resp in responses]
            numbers = sorted(resp.json()["number"] for resp in responses)
            assert numbers == list(range(1, SUBMITS + 1))

            f = submit_facts(world, r.submission_id)
            assert [number for _, number in f["versions"]] == list(range(1, SUBMITS + 1))
            version_ids = [version_id for version_id, _ in f["versions"]]
            assert (f["version_count"], f["status"]) == (SUBMITS, "submitted")
            assert f["latest_id"] == version_ids[-1]
            assert f["steps"] == dict.fromkeys(version_ids, STEPS)
            assert f["jobs"] == dict.fromkeys(version_ids, 1)
            assert f["audited"] == SUBMITS

            listed = await http.get(
                r.url(world, "/versions"), headers={"Authorization": f"Bearer {r.tokens[0]}"}
            )
            assert [(v["number"], v["latest"]) for v in listed.json()] == [
                (number, number == SUBMITS) for number in range(SUBMITS, 0, -1)
            ]
    report(f"{SUBMITS} submits by one team x{ROUNDS}", started)


async def test_two_members_upload_into_the_last_file_slot(world: World, storage_dir: Path) -> None:
    """One file recorded, the other refused; the refused upload's object is removed again."""
    png = png_bytes()
    offset = ROUNDS * TEAM_SIZE  # people not used by the submit rounds
    assert offset + UPLOAD_ROUNDS * 2 <= len(world.tokens)
    async with client(2, world) as http:
        await warm(http, 2)
        started = time.perf_counter()
        for n in range(UPLOAD_ROUNDS):
            first = offset + n * 2
            r = seed_round(world, range(first, first + 2), file_max_count=3, files=2)
            calls = [
                (
                    r.url(world, "/files"),
                    token,
                    {"params": {"name": f"shot-{i}.png"}, "content": png},
                )
                for i, token in enumerate(r.tokens)
            ]
            responses = await release(http, calls)
            assert codes(responses) == {(201, ""): 1, (409, "too_many_files"): 1}, [
                resp.text for resp in responses
            ]
            winner = next(resp.json() for resp in responses if resp.status_code == 201)
            with psycopg.connect(world.db_url) as conn:
                rows = conn.execute(
                    "SELECT id::text, name FROM submission_files WHERE submission_id = %s"
                    " AND deleted_at IS NULL ORDER BY name",
                    (r.submission_id,),
                ).fetchall()
                key = conn.execute(
                    "SELECT storage_key FROM submission_files WHERE id = %s", (winner["id"],)
                ).fetchone()
                added = conn.execute(
                    "SELECT count(*) FROM audit_log WHERE action = 'submission_file.added'"
                    " AND details->>'team_id' = %s",
                    (r.team_id,),
                ).fetchone()
            assert [name for _, name in rows] == sorted(
                ["seeded-0.png", "seeded-1.png", winner["name"]]
            )
            assert winner["id"] in {file_id for file_id, _ in rows}
            assert added == (1,)
            assert key is not None
            assert stored_objects(storage_dir, r.team_id) == {key[0]}
    report(f"2 uploads for the last slot x{UPLOAD_ROUNDS}", started)
