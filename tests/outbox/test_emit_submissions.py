"""Submissions write their domain events: a submit and an organizer's decision through the real
API (one row each, none for a refusal or a decision that changes nothing), the pipeline's
processed / failed with a real worker (once per version, even when an organizer re-runs the
steps); the fan-out tells the team (and for a failure the organizers), not whoever acted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import obstore
import pytest
from obstore.store import LocalStore
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.config import Settings
from hackops.db import Database
from hackops.models import (
    EventRoleGrant,
    Notification,
    OutboundEmail,
    OutboxEvent,
    PipelineStepName,
    StepState,
    Submission,
    User,
)
from hackops.outbox.service import once_id
from hackops.submissions.files.service import FileKind
from hackops.submissions.pipeline.tasks import rerun_step
from hackops.tenancy import set_actor, set_tenant
from tests.conftest import make_settings
from tests.factories import create_event, create_organization
from tests.outbox.helpers import check, dispatch, events, one
from tests.submissions.filehelpers import pdf_bytes
from tests.submissions.pipeline_helpers import (
    StoredFile,
    make_team,
    organizer_of,
    running_worker,
    step_states,
    steps_settled,
    submit_version,
    wait_until,
)
from tests.submissions.test_api import code, fill, scene

DONE = [StepState.DONE.value] * 4


async def test_a_submit_writes_one_event_and_tells_the_teammates(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    s.users["bob"].email_verified_at = datetime.now(UTC)
    await session.flush()
    nothing = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (nothing.status_code, code(nothing)) == (409, "title_required")
    by_outsider = await client.post(url + "/submit", headers=s.auth("carol"))
    assert by_outsider.status_code == 404
    assert await events(session, "submission.submitted", s.event.id) == []

    await fill(client, s, url)
    submitted = await client.post(url + "/submit", headers=s.auth("alice"))
    assert submitted.status_code == 201, submitted.text
    version = submitted.json()
    submission_id = (await client.get(url, headers=s.auth("alice"))).json()["id"]
    row = await one(session, "submission.submitted", s.event.id)
    check(
        row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["alice"].id,
        payload={
            "submission_id": submission_id,
            "team_id": team.id,
            "version_id": version["id"],
            "version_number": 1,
            "late": False,
        },
    )
    told = await dispatch(session, row)
    bob = s.users["bob"].id
    assert set(told.in_app) == {bob}  # alice submitted it: she knows
    assert told.title(bob) == "Alice submitted “Greenhouse” (version 1)"
    assert told.in_app[bob].link == (
        f"/orgs/{s.org.slug}/events/{s.event.slug}/teams/{team.id}/submission"
    )
    assert set(told.mailed) == {bob}


async def test_a_decision_writes_approved_or_rejected_once_and_tells_the_team(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    await fill(client, s, url)
    await client.post(url + "/submit", headers=s.auth("alice"))
    submission_id = (await client.get(url, headers=s.auth("alice"))).json()["id"]
    decide = f"{s.base}/submissions/{submission_id}/decision"

    no_reason = await client.post(decide, headers=s.auth("olga"), json={"status": "rejected"})
    assert (no_reason.status_code, code(no_reason)) == (409, "reason_required")
    by_member = await client.post(decide, headers=s.auth("alice"), json={"status": "approved"})
    assert by_member.status_code == 404
    review = await client.post(decide, headers=s.auth("olga"), json={"status": "under_review"})
    assert review.status_code == 200, review.text  # no news for the team: no event
    for _ in range(2):  # deciding the same state again changes nothing
        approved = await client.post(decide, headers=s.auth("olga"), json={"status": "approved"})
        assert approved.status_code == 200, approved.text
    rejected = await client.post(
        decide, headers=s.auth("olga"), json={"status": "rejected", "reason": "No demo video"}
    )
    assert rejected.status_code == 200
    disqualified = await client.post(
        decide, headers=s.auth("olga"), json={"status": "disqualified", "reason": "Prior work"}
    )
    assert disqualified.status_code == 200

    approved_row = await one(session, "submission.approved", s.event.id)
    check(
        approved_row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["olga"].id,
        payload={"submission_id": submission_id, "team_id": team.id},
    )
    rejections = await events(session, "submission.rejected", s.event.id)
    assert [r.payload["disqualified"] for r in rejections] == [False, True]
    assert "No demo video" not in str(rejections[0].payload)  # the reason stays in the app

    members = {s.users["alice"].id, s.users["bob"].id}
    told = await dispatch(session, approved_row)
    assert set(told.in_app) == members
    assert told.title(s.users["alice"].id) == "“Greenhouse” was approved"
    rejected_told = await dispatch(session, rejections[0])
    assert set(rejected_told.in_app) == members
    note = rejected_told.in_app[s.users["bob"].id]
    # The fan-out reads the reason when it runs; by then the project is disqualified.
    assert note.title == "“Greenhouse” was rejected"
    for outsider in ("olga", "carol", "otto"):
        assert s.users[outsider].id not in told.people | rejected_told.people


# --- the pipeline, with a real worker --------------------------------------------------------


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


@pytest.fixture
def worker_settings(database_url: str, files_dir: Path) -> Settings:
    return make_settings(database_url, files_dir, hackops_env="dev")


@pytest.fixture
def store(files_dir: Path) -> LocalStore:
    return LocalStore(prefix=files_dir)


async def _events_of(database: Database, type_: str, version_id: object) -> list[OutboxEvent]:
    async with database.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        rows = await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.type == type_,
                OutboxEvent.payload["version_id"].astext == str(version_id),
            )
        )
        return list(rows)


async def _dispatched(database: Database, event_id: object) -> bool:
    async with database.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        row = await session.get(OutboxEvent, event_id)
        return row is not None and row.dispatched_at is not None


async def _told(database: Database, event_id: object) -> tuple[set[object], set[object]]:
    """(in-app, mailed) people of one event, as the worker's dispatcher left them."""
    async with database.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        in_app = set(
            await session.scalars(
                select(Notification.user_id).where(Notification.outbox_event_id == event_id)
            )
        )
        mailed = set(
            await session.scalars(
                select(OutboundEmail.user_id).where(OutboundEmail.dedupe_key.like(f"{event_id}%"))
            )
        )
    return in_app, mailed


async def _rerun(
    database: Database, org_id: uuid.UUID, submission: Submission, organizer: User
) -> None:
    async with database.transaction() as session:
        await set_tenant(session, org_id)
        await rerun_step(
            session,
            Actor(user=await session.get(User, organizer.id)),
            submission,
            PipelineStepName.VALIDATE_FILES,
        )


async def test_processed_and_failed_are_written_once_per_version_even_after_reruns(
    committed_db: Database, worker_settings: Settings, store: LocalStore
) -> None:
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org)
        organizer = await organizer_of(session, org.id, event.id)
        event_organizer = await session.scalar(
            select(EventRoleGrant.user_id).where(EventRoleGrant.event_id == event.id)
        )
        good_team = await make_team(session, event, members=2)
        bad_team = await make_team(session, event)
        # Confirmed addresses: a rule's mail would be queued, so "in the app only" is seen.
        await session.execute(update(User).values(email_verified_at=func.now()))
        good = await submit_version(
            session,
            good_team.team,
            title="Compost",
            description="A tidy project about composting with sensors in community gardens.",
        )
        bad = await submit_version(
            session,
            bad_team.team,
            title="Tampered",
            files=[StoredFile("deck.pdf", pdf_bytes(1), FileKind.PDF)],
            store=store,
        )
    tampered = pdf_bytes(1).replace(b"Hello judges", b"Jello judges")
    await obstore.put_async(store, bad.files[0].storage_key, tampered)

    async with running_worker(worker_settings, committed_db):
        for version in (good.version, bad.version):
            await wait_until(lambda v=version: steps_settled(committed_db, org.id, v.id))
        assert await step_states(committed_db, org.id, good.version.id) == DONE
        # An organizer runs both again: the good one finishes again, the bad one fails again.
        await _rerun(committed_db, org.id, good.submission, organizer)
        await _rerun(committed_db, org.id, bad.submission, organizer)
        for version in (good.version, bad.version):
            await wait_until(lambda v=version: steps_settled(committed_db, org.id, v.id))
        processed = await _events_of(committed_db, "submission.processed", good.version.id)
        failed = await _events_of(committed_db, "submission.processing_failed", bad.version.id)
        assert len(processed) == 1
        assert len(failed) == 1
        for row in (*processed, *failed):  # the worker's dispatcher fans them out
            await wait_until(lambda r=row: _dispatched(committed_db, r.id))

    assert await _events_of(committed_db, "submission.processed", bad.version.id) == []
    assert await _events_of(committed_db, "submission.processing_failed", good.version.id) == []
    done, broke = processed[0], failed[0]
    assert done.id == once_id("submission.processed", str(good.version.id))
    assert (done.org_id, done.event_id, done.actor_id) == (org.id, event.id, None)
    assert done.payload == {
        "submission_id": str(good.submission.id),
        "team_id": str(good_team.team.id),
        "version_id": str(good.version.id),
        "version_number": 1,
    }
    assert broke.payload == {
        "submission_id": str(bad.submission.id),
        "team_id": str(bad_team.team.id),
        "version_id": str(bad.version.id),
        "version_number": 1,
        "step": "validate_files",
    }
    # Processed: the team, in the app only. Failed: the team and the organizers, in the app
    # only (the pipeline's own failure mail reached them).
    assert await _told(committed_db, done.id) == ({u.id for u in good_team.members}, set())
    assert await _told(committed_db, broke.id) == (
        {bad_team.members[0].id, organizer.id, event_organizer},
        set(),
    )
