"""The processing pipeline with a real worker on the real database: the four steps and their
effects, failures (permanent and after retries) told to people, reruns, and workers SIGKILLed
mid-step."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import subprocess
from pathlib import Path

import obstore
import pytest
from obstore.store import LocalStore
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hackops import jobs
from hackops.actor import Actor
from hackops.config import Settings
from hackops.db import Database
from hackops.models import (
    AuditEntry,
    LinkCheck,
    PipelineStep,
    PipelineStepName,
    StepState,
    SubmissionBand,
    SubmissionFingerprint,
    User,
    VersionText,
)
from hackops.submissions.files.service import FileKind
from hackops.submissions.pipeline.tasks import (
    STEP_RETRY,
    pipeline_status,
    rerun_step,
    start_pipeline,
)
from hackops.tenancy import set_tenant
from tests.conftest import make_settings
from tests.factories import create_event, create_organization
from tests.submissions.filehelpers import pdf_bytes
from tests.submissions.pipeline_helpers import (
    PAGE,
    StoredFile,
    closed_port,
    count,
    emails_to,
    local_site,
    make_team,
    organizer_of,
    running_worker,
    scalar,
    start_worker,
    step_states,
    steps_settled,
    stop_worker,
    submit_version,
    wait_until,
    worker_environment,
    zip_bytes,
)

DONE = [StepState.DONE.value] * 4


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


@pytest.fixture
def worker_settings(database_url: str, files_dir: Path) -> Settings:
    """Dev mode, where the loopback switch of the link checker is allowed (tests serve pages on
    127.0.0.1); the files live in this test's folder."""
    return make_settings(database_url, files_dir, hackops_env="dev", link_fetch_allow_loopback=True)


@pytest.fixture
def store(files_dir: Path) -> LocalStore:
    return LocalStore(prefix=files_dir)


async def test_a_version_goes_through_the_four_steps_and_a_rerun_changes_nothing_twice(
    committed_db: Database, worker_settings: Settings, store: LocalStore
) -> None:
    pdf = pdf_bytes(2, text="Battery scheduling deck")
    archive = zip_bytes(
        {"README.md": "# Solar Grid Hub\nRun `make forecast` to train.", "src/main.py": "x = 1"}
    )
    demo_url = f"http://127.0.0.1:{closed_port()}/"
    with local_site({"/project": PAGE}) as site:
        async with committed_db.transaction() as session:
            org = await create_organization(session)
            event = await create_event(session, org)
            organizer = await organizer_of(session, org.id, event.id)
            crew = await make_team(session, event, members=2)
            submitted = await submit_version(
                session,
                crew.team,
                title="Solar Grid Hub",
                description="Forecasting **rooftop solar** for neighbourhood batteries.",
                files=[
                    StoredFile("deck.pdf", pdf, FileKind.PDF),
                    StoredFile("code.zip", archive, FileKind.ZIP),
                ],
                store=store,
                links={
                    "repository_url": f"{site}/project",
                    "demo_url": demo_url,
                    "video_url": "http://10.0.0.1/video",
                },
            )
        version = submitted.version
        pdf_row, zip_row = submitted.files

        async with running_worker(worker_settings, committed_db):
            await wait_until(lambda: steps_settled(committed_db, org.id, version.id))
            assert await step_states(committed_db, org.id, version.id) == DONE

            async with committed_db.transaction() as session:
                await set_tenant(session, org.id)
                texts = {
                    row[0]: row[1]
                    for row in (
                        await session.execute(
                            select(VersionText.source, VersionText.content).where(
                                VersionText.version_id == version.id
                            )
                        )
                    )
                }
                checks = {
                    check.url: check
                    for check in await session.scalars(
                        select(LinkCheck).where(LinkCheck.version_id == version.id)
                    )
                }
                fingerprint = await session.get(SubmissionFingerprint, version.id)
                bands = await count(
                    session, SubmissionBand, SubmissionBand.version_id == version.id
                )
                steps = await pipeline_status(session, submitted.submission.id)
            assert set(texts) == {"description", f"file:{pdf_row.id}", f"file:{zip_row.id}"}
            assert "Battery scheduling deck 1" in texts[f"file:{pdf_row.id}"]
            assert "Battery scheduling deck 2" in texts[f"file:{pdf_row.id}"]
            assert texts[f"file:{zip_row.id}"].startswith("# Solar Grid Hub")
            assert "x = 1" not in texts[f"file:{zip_row.id}"]

            page = checks[f"{site}/project"]
            assert (page.status, page.http_status, page.title) == ("ok", 200, "Solar Grid Hub")
            assert page.content_sha256 == hashlib.sha256(PAGE).hexdigest()
            assert page.snapshot_key == (
                f"org/{org.id}/event/{event.id}/team/{crew.team.id}"
                f"/links/{version.id}/{page.content_sha256}.html"
            )
            snapshot = await obstore.get_async(store, page.snapshot_key)
            assert bytes(await snapshot.bytes_async()) == PAGE
            assert "neighbourhood batteries" in page.data["text"]
            demo = checks[demo_url]
            assert demo.status == "unreachable"
            assert checks["http://10.0.0.1/video"].status == "refused"

            assert fingerprint is not None
            assert fingerprint.shingle_count >= 12
            assert bands == 100
            assert [s.step for s in steps] == [name.value for name in PipelineStepName]
            assert steps[2].result["failed"]
            assert steps[2].result["reported"] == 2
            assert all(s.attempts == 1 and s.finished_at is not None for s in steps)

            # One email per member, listing both failed links with their reasons.
            link_mails = await emails_to(committed_db, "could not be checked")
            assert sorted(to for to, _, _ in link_mails) == sorted(u.email for u in crew.members)
            for _, _, body in link_mails:
                assert demo.url in body
                assert "http://10.0.0.1/video" in body
                assert demo.reason in body

            # An organizer re-runs from the first step: every effect is rewritten in place.
            async with committed_db.transaction() as session:
                await set_tenant(session, org.id)
                again = await rerun_step(
                    session,
                    Actor(user=await session.get(User, organizer.id)),
                    submitted.submission,
                    PipelineStepName.VALIDATE_FILES,
                )
                assert again.state == StepState.QUEUED.value
            await wait_until(lambda: steps_settled(committed_db, org.id, version.id))
            assert await step_states(committed_db, org.id, version.id) == DONE

        async with committed_db.transaction() as session:
            await set_tenant(session, org.id)
            assert await count(session, VersionText, VersionText.version_id == version.id) == 3
            assert await count(session, LinkCheck, LinkCheck.version_id == version.id) == 3
            assert (
                await count(session, SubmissionBand, SubmissionBand.version_id == version.id) == 100
            )
            steps = await pipeline_status(session, submitted.submission.id)
            assert [s.attempts for s in steps] == [2, 2, 2, 2]
            assert steps[2].result["reported"] == 0  # the failing links were told once
            audit = await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "submission.pipeline_rerun")
            )
            assert audit is not None
            assert audit.actor_id == organizer.id
        assert len(await emails_to(committed_db, "could not be checked")) == 2


async def test_a_changed_file_fails_at_once_and_people_are_told_while_others_flow(
    committed_db: Database, worker_settings: Settings, store: LocalStore, admin_engine: AsyncEngine
) -> None:
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org)
        organizer = await organizer_of(session, org.id, event.id)
        bad_team = await make_team(session, event, members=2)
        good_team = await make_team(session, event)
        bad = await submit_version(
            session,
            bad_team.team,
            title="Tampered",
            files=[StoredFile("deck.pdf", pdf_bytes(1), FileKind.PDF)],
            store=store,
        )
        good = await submit_version(
            session,
            good_team.team,
            title="Fine",
            description="A tidy project about composting with sensors in community gardens.",
            files=[StoredFile("deck.pdf", pdf_bytes(1, text="Compost"), FileKind.PDF)],
            store=store,
        )
    # The stored object is replaced after upload: same size, other bytes.
    tampered = pdf_bytes(1).replace(b"Hello judges", b"Jello judges")
    assert len(tampered) == bad.files[0].size
    await obstore.put_async(store, bad.files[0].storage_key, tampered)

    async with running_worker(worker_settings, committed_db):
        await wait_until(lambda: steps_settled(committed_db, org.id, bad.version.id))
        await wait_until(lambda: steps_settled(committed_db, org.id, good.version.id))

    assert await step_states(committed_db, org.id, good.version.id) == DONE
    assert await step_states(committed_db, org.id, bad.version.id) == [
        StepState.FAILED.value,
        *[StepState.QUEUED.value] * 3,
    ]
    async with committed_db.transaction() as session:
        await set_tenant(session, org.id)
        failed = (await pipeline_status(session, bad.submission.id))[0]
    assert failed.attempts == 1  # permanent: no retry
    assert "SHA-256 differs" in failed.reason
    assert "'deck.pdf'" in failed.reason
    assert failed.retry_at is None
    assert failed.finished_at is not None
    async with admin_engine.connect() as conn:
        job = (
            await conn.execute(
                text(
                    "SELECT j.status::text, count(e.id) FROM procrastinate_jobs j"
                    " JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'started'"
                    " WHERE j.args->>'step_id' = :id GROUP BY j.status"
                ),
                {"id": str(failed.id)},
            )
        ).one()
    assert tuple(job) == ("failed", 1)  # one run, not retried

    told = await emails_to(committed_db, "failed")
    recipients = {to for to, _, _ in told}
    assert {u.email for u in bad_team.members} | {organizer.email} <= recipients
    assert len(told) == 4  # two members, the org organizer, the event organizer
    assert all("SHA-256 differs" in body for _, _, body in told)
    assert not any(to == good_team.members[0].email for to, _, _ in told)


async def test_unreadable_storage_is_retried_with_backoff_then_fails_and_a_rerun_recovers(
    committed_db: Database, worker_settings: Settings, store: LocalStore, admin_engine: AsyncEngine
) -> None:
    data = pdf_bytes(1, text="Retry me")
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org)
        organizer = await organizer_of(session, org.id, event.id)
        crew = await make_team(session, event)
        submitted = await submit_version(
            session,
            crew.team,
            title="Flaky storage",
            files=[StoredFile("deck.pdf", data, FileKind.PDF)],
            store=store,
        )
    key = submitted.files[0].storage_key
    await obstore.delete_async(store, key)
    step_id = None

    async def step() -> PipelineStep:
        async with committed_db.transaction() as session:
            await set_tenant(session, org.id)
            return (await pipeline_status(session, submitted.submission.id))[0]

    async def job_row() -> tuple[int, str, object]:
        async with admin_engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT attempts, status::text, scheduled_at FROM procrastinate_jobs"
                        " WHERE args->>'step_id' = :id"
                    ),
                    {"id": str(step_id)},
                )
            ).one()
            return int(row[0]), str(row[1]), row[2]

    step_id = (await step()).id
    async with running_worker(worker_settings, committed_db):
        for attempt in range(1, 4):

            async def retrying(expected: int = attempt) -> bool:
                # the step's row commits inside the job run; the job's own retry is recorded
                # by procrastinate after the run ends: wait for both (a busy machine widens
                # the gap between them)
                current = await step()
                if not (current.state == StepState.RETRYING.value and current.attempts == expected):
                    return False
                return (await job_row())[1] != "doing"

            await wait_until(retrying)
            current = await step()
            attempts, status, scheduled_at = await job_row()
            assert "could not be read" in current.reason
            assert "'deck.pdf'" in current.reason
            # retry_at is the worker's own schedule: 2, 4, 8 s after each failure.
            assert (attempts, status) == (attempt, "todo")
            assert current.retry_at is not None
            assert abs((current.retry_at - scheduled_at).total_seconds()) < 1
            wait = (current.retry_at - current.updated_at).total_seconds()
            assert wait == pytest.approx(STEP_RETRY.exponential_wait**attempt, abs=1)
            # Do not sit through the backoff: the job becomes due now.
            async with admin_engine.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE procrastinate_jobs SET scheduled_at = now()"
                        " WHERE args->>'step_id' = :id"
                    ),
                    {"id": str(step_id)},
                )

        async def failed() -> bool:
            return (await step()).state == StepState.FAILED.value

        await wait_until(failed)
        final = await step()
        assert final.attempts == 4
        assert final.retry_at is None
        assert "could not be read" in final.reason
        job_status = "SELECT status::text FROM procrastinate_jobs WHERE args->>'step_id' = :id"

        async def job_failed() -> bool:
            return await scalar(admin_engine, job_status, id=str(step_id)) == "failed"

        await wait_until(job_failed)
        told = await emails_to(committed_db, "failed")
        assert {to for to, _, _ in told} >= {crew.members[0].email, organizer.email}

        # The file comes back; the organizer runs the step again and the pipeline completes.
        await obstore.put_async(store, key, data)
        async with committed_db.transaction() as session:
            await set_tenant(session, org.id)
            await rerun_step(
                session,
                Actor(user=await session.get(User, organizer.id)),
                submitted.submission,
                PipelineStepName.SIMILARITY,  # starts at validate_files, the first not done
            )
        await wait_until(lambda: steps_settled(committed_db, org.id, submitted.version.id))
    assert await step_states(committed_db, org.id, submitted.version.id) == DONE


async def test_a_rolled_back_submit_leaves_no_steps_and_no_jobs(
    committed_db: Database, admin_engine: AsyncEngine
) -> None:
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org)
        crew = await make_team(session, event)
    async with committed_db.sessionmaker() as session:
        submitted = await submit_version(session, crew.team, description="never")
        assert (
            await count(session, PipelineStep, PipelineStep.version_id == submitted.version.id) == 4
        )
        await session.rollback()
    assert await scalar(admin_engine, "SELECT count(*) FROM pipeline_steps") == 0
    jobs_sql = "SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE 'pipeline.%'"
    assert await scalar(admin_engine, jobs_sql) == 0


async def test_status_shows_the_latest_version_in_order(session: AsyncSession) -> None:
    org = await create_organization(session)
    event = await create_event(session, org)
    crew = await make_team(session, event)
    submitted = await submit_version(session, crew.team, description="first")
    assert [s.step for s in await pipeline_status(session, submitted.submission.id)] == [
        name.value for name in PipelineStepName
    ]
    second = type(submitted.version)(
        org_id=org.id,
        event_id=event.id,
        submission_id=submitted.submission.id,
        number=2,
        snapshot=dict(submitted.version.snapshot),
        files=[],
    )
    session.add(second)
    await session.flush()
    await start_pipeline(session, second)
    submitted.submission.latest_version_id = second.id
    await session.flush()
    steps = await pipeline_status(session, submitted.submission.id)
    assert {s.version_id for s in steps} == {second.id}
    assert [s.state for s in steps] == [StepState.QUEUED.value] * 4


def test_the_worker_imports_the_pipeline_tasks() -> None:
    """`hackops worker` loads tasks from TASK_MODULES; without this entry no step would run."""
    assert "hackops.submissions.pipeline.tasks" in jobs.TASK_MODULES


# --- a worker killed mid-step -------------------------------------------------------------------

VERSIONS = 200
KILLS = 5


@pytest.mark.slow
@pytest.mark.timeout(240)  # ~75 s measured; headroom for a machine shared with other runs
async def test_workers_killed_mid_step_five_times_still_complete_every_step_once(
    committed_db: Database,
    admin_engine: AsyncEngine,
    database_url: str,
    files_dir: Path,
    tmp_path: Path,
) -> None:
    worker_env = worker_environment(database_url, files_dir)
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org)
        for number in range(VERSIONS):
            crew = await make_team(session, event)
            words = " ".join(f"topic{number}x{k} subject{number}y{k}" for k in range(12))
            await submit_version(session, crew.team, description=words)
    now = "SELECT now()"
    claimed = "SELECT count(*) FROM pipeline_steps WHERE state = 'running' AND started_at > :since"
    done = "SELECT count(*) FROM pipeline_steps WHERE state = 'done'"

    log = tmp_path / "worker.log"
    kills = 0
    clock = asyncio.get_running_loop().time
    began = clock()
    started = await scalar(admin_engine, now)
    worker = start_worker(worker_env, log)
    try:
        while kills < KILLS:
            # Kill while this worker has a step claimed and not yet recorded (mid-step), the
            # kills spread over the run so that every kind of step gets cut off.
            async def mid_step(
                since: object = started,
                process: subprocess.Popen[bytes] = worker,
                progress: int = (kills + 1) * VERSIONS * 4 // (KILLS + 1),
            ) -> bool:
                return (
                    await scalar(admin_engine, done) >= progress
                    and await scalar(admin_engine, claimed, since=since) > 0
                    and process.poll() is None
                )

            await wait_until(mid_step, within=30)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
            last_kill = clock()
            started = await scalar(admin_engine, now)
            worker = start_worker(worker_env, log)

        async def all_done() -> bool:
            return await scalar(admin_engine, done) == VERSIONS * 4

        await wait_until(all_done, within=90)
        finished = clock()
    finally:
        stop_worker(worker)

    async with admin_engine.connect() as conn:
        per_step = (
            await conn.execute(
                text(
                    "SELECT s.id, s.attempts, count(j.id) AS jobs,"
                    " bool_and(j.status = 'succeeded') AS succeeded"
                    " FROM pipeline_steps s LEFT JOIN procrastinate_jobs j"
                    " ON j.args->>'step_id' = s.id::text GROUP BY s.id, s.attempts"
                )
            )
        ).all()
    effects = [
        await scalar(admin_engine, f"SELECT count(*) FROM {table}")
        for table in ("version_texts", "submission_fingerprints", "submission_bands")
    ]
    async with admin_engine.connect() as conn:
        recovered = await conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT e.job_id FROM procrastinate_events e"
                " JOIN procrastinate_jobs j ON j.id = e.job_id"
                " WHERE e.type = 'started' AND j.args ? 'step_id'"
                " GROUP BY e.job_id HAVING count(*) > 1) AS rerun"
            )
        )
    assert len(per_step) == VERSIONS * 4
    # One job per step, all succeeded: no redelivery enqueued a next step twice.
    assert {(row.jobs, row.succeeded) for row in per_step} == {(1, True)}
    assert effects == [VERSIONS, VERSIONS, VERSIONS * 100]
    assert await scalar(admin_engine, "SELECT count(*) FROM duplicate_flags") == 0
    # The sweep deletes its own finished runs as it goes (one every 10 s would pile up).
    sweeps = (
        "SELECT count(*) FROM procrastinate_jobs"
        " WHERE task_name = 'pipeline.retry_stalled_jobs' AND status = 'succeeded'"
    )
    assert await scalar(admin_engine, sweeps) <= 2
    interrupted = sum(1 for row in per_step if row.attempts > 1)
    kinds = await scalar(
        admin_engine,
        "SELECT string_agg(DISTINCT step, ',') FROM pipeline_steps WHERE attempts > 1",
    )
    assert interrupted >= 1
    assert recovered >= 1
    print(  # noqa: T201 - the figure for the closing note
        f"\nkills={kills} in {last_kill - began:.1f} s; all {VERSIONS * 4} steps done"
        f" {finished - began:.1f} s after the first start; steps interrupted mid-run"
        f" {interrupted} ({kinds}); step jobs run again after a stall {recovered}"
    )
