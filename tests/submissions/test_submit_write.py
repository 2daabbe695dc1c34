"""Submit in one statement (`submit_version`, migration 0032): the statements one submit costs
through the API, what the function freezes compared with the ORM's own snapshot, and each
refusal it turns back into the domain's error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import (
    AuditEntry,
    OutboxEvent,
    PipelineStep,
    Submission,
    SubmissionFile,
    SubmissionVersion,
    Track,
)
from hackops.submissions.intake.service import file_entry, snapshot_of
from tests.helpers import AUTHORIZATION_AT_MOST, count_queries, frozen_time, split_at
from tests.submissions.test_api import CLOSES, code, fill, scene

#: What the route itself sends after the request's authorization: the one call.
SUBMIT_STATEMENTS = 1


async def test_a_submit_is_one_statement_after_the_authorization(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, url = await scene(session)
    await fill(client, s, url)
    await client.post(url + "/submit", headers=s.auth("alice"))  # a second submit: version 2
    with count_queries(connection) as log:
        response = await client.post(url + "/submit", headers=s.auth("bob"))
    assert response.status_code == 201, response.text
    assert response.json()["number"] == 2
    authorization, write = split_at(log, "submit_version(")
    assert len(write) == SUBMIT_STATEMENTS, write
    # The request gate alone: it reads the team with the caller's membership too (migration 0038).
    assert len(authorization) <= AUTHORIZATION_AT_MOST, authorization


async def test_the_version_freezes_what_the_orm_snapshot_would(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    await fill(client, s, url)
    submission = await session.scalar(select(Submission).where(Submission.team_id == team.id))
    assert submission is not None
    track = Track(org_id=s.org.id, event_id=s.event.id, name="Climate")
    session.add(track)
    await session.flush()
    submission.track_ids = [track.id]
    submission.demo_url = "https://example.com/demo"
    files = [
        SubmissionFile(
            org_id=s.org.id,
            event_id=s.event.id,
            team_id=team.id,
            submission_id=submission.id,
            storage_key=f"org/{s.org.id}/event/{s.event.id}/team/{team.id}/{n}",
            name=f"slides-{n}.pdf",
            content_type="application/pdf",
            kind="pdf",
            size=100 + n,
            sha256=f"{n:064x}",
            uploaded_by=s.users["alice"].id,
            deleted_at=datetime.now(UTC) if n == 1 else None,
        )
        for n in range(3)
    ]
    session.add_all(files)
    await session.flush()
    await session.refresh(submission)
    kept = sorted((f for f in files if f.deleted_at is None), key=lambda f: (f.created_at, f.id))

    response = await client.post(url + "/submit", headers=s.auth("alice"))
    assert response.status_code == 201, response.text
    body = response.json()
    version = await session.get(SubmissionVersion, uuid.UUID(body["id"]))
    assert version is not None
    assert version.snapshot == snapshot_of(submission) == body["snapshot"]
    assert version.files == [file_entry(f) for f in kept] == body["files"]
    assert (version.number, version.late, version.submitted_by) == (1, False, s.users["alice"].id)
    assert body["submitted_at"] == version.submitted_at.isoformat().replace("+00:00", "Z")

    await session.refresh(submission)
    assert (submission.status, submission.version_count) == ("submitted", 1)
    assert (submission.latest_version_id, submission.submitted_at) == (
        version.id,
        version.submitted_at,
    )
    steps = await session.execute(
        select(PipelineStep.step, PipelineStep.state).where(PipelineStep.version_id == version.id)
    )
    assert sorted((str(step), str(state)) for step, state in steps) == [
        ("extract_text", "queued"),
        ("fetch_links", "queued"),
        ("similarity", "queued"),
        ("validate_files", "queued"),
    ]
    audit = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "submission.submitted",
            AuditEntry.resource_id == str(submission.id),
        )
    )
    assert audit is not None
    assert audit.details == {"team_id": str(team.id), "version": 1, "late": False}
    assert (audit.actor_id, audit.org_id) == (s.users["alice"].id, s.org.id)
    event = await session.scalar(
        select(OutboxEvent).where(OutboxEvent.type == "submission.submitted")
    )
    assert event is not None
    assert (event.subject_type, event.subject_id) == ("submission", submission.id)
    first_step = await session.scalar(
        select(PipelineStep.id).where(
            PipelineStep.version_id == version.id, PipelineStep.step == "validate_files"
        )
    )
    jobs = await session.execute(
        text(
            "SELECT task_name, queue_name, queueing_lock, args, status, priority, lock"
            " FROM procrastinate_jobs WHERE args->>'event_id' = :event"
            " OR args->>'step_id' = :step ORDER BY task_name"
        ),
        {"event": str(event.id), "step": str(first_step)},
    )
    assert [tuple(job) for job in jobs] == [
        ("outbox.dispatch", "notifications", f"outbox:{event.id}", {"event_id": str(event.id)},
         "todo", 0, None),
        ("pipeline.validate_files", "processing", None,
         {"step_id": str(first_step), "org_id": str(s.org.id)}, "todo", 0, None),
    ]  # fmt: skip


async def test_refusals_read_as_before(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, team, url = await scene(session, grace_minutes=5)
    blank = await client.patch(url, headers=s.auth("alice"), json={"title": "\u3000 \t"})
    assert blank.status_code == 200, blank.text
    untitled = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (untitled.status_code, code(untitled)) == (409, "title_required")
    await client.patch(url, headers=s.auth("alice"), json={"title": "\u200b"})  # not a space
    assert (await client.post(url + "/submit", headers=s.auth("alice"))).status_code == 201

    async with frozen_time(connection, CLOSES + timedelta(minutes=5)):
        closed = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (closed.status_code, code(closed)) == (409, "submissions_closed")
    deadline = CLOSES + timedelta(minutes=5)
    assert datetime.fromisoformat(closed.json()["error"]["details"]["closed_at"]) == deadline

    reopened_until = CLOSES + timedelta(hours=2)
    await session.execute(
        update(Submission)
        .where(Submission.team_id == team.id)
        .values(reopened_until=reopened_until)
    )
    async with frozen_time(connection, CLOSES + timedelta(hours=1)):
        reopened = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (reopened.status_code, reopened.json()["late"]) == (201, False)

    await session.execute(
        update(Submission).where(Submission.team_id == team.id).values(status="approved")
    )
    locked = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (locked.status_code, code(locked)) == (409, "submission_locked")
    assert locked.json()["error"]["message"] == (
        "An approved submission is final; an organizer must reopen it to change it."
    )
    versions = await session.scalars(
        select(SubmissionVersion.number)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(Submission.team_id == team.id)
    )
    assert sorted(versions) == [1, 2]


async def test_before_the_event_starts_nothing_is_submitted(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, url = await scene(session)
    await fill(client, s, url)
    s.event.starts_at = datetime.now(UTC) + timedelta(hours=1)
    await session.flush()
    early = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (early.status_code, code(early)) == (409, "submissions_not_open")
