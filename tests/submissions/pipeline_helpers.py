"""Shared by the pipeline and duplicate tests: teams, submitted versions with stored files, a
real in-process worker, a local web page to link to, and waiting on the database."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import obstore
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hackops import jobs
from hackops.config import Settings
from hackops.db import Database
from hackops.models import (
    Event,
    EventRoleGrant,
    Membership,
    OutboundEmail,
    PipelineStep,
    StepState,
    Submission,
    SubmissionFile,
    SubmissionVersion,
    Team,
    TeamMember,
    User,
)
from hackops.submissions.files.service import FileKind, storage_key
from hackops.submissions.intake.service import file_entry, snapshot_of
from hackops.submissions.pipeline.tasks import start_pipeline
from hackops.tenancy import set_tenant
from tests.conftest import as_role
from tests.factories import create_registration, create_team, create_user


@dataclass
class TeamOf:
    team: Team
    members: list[User]


async def make_team(session: AsyncSession, event: Event, *, members: int = 1) -> TeamOf:
    """A team of `members` registered people (the first is the captain)."""
    users = [await create_user(session) for _ in range(members)]
    for user in users:
        await create_registration(session, event, user)
    team = await create_team(session, event, users[0])
    for user in users[1:]:
        session.add(
            TeamMember(org_id=event.org_id, event_id=event.id, team_id=team.id, user_id=user.id)
        )
    await session.flush()
    return TeamOf(team, users)


@dataclass
class StoredFile:
    name: str
    data: bytes
    kind: FileKind


@dataclass
class Submitted:
    submission: Submission
    version: SubmissionVersion
    files: list[SubmissionFile] = field(default_factory=list)


async def submit_version(
    session: AsyncSession,
    team: Team,
    *,
    title: str = "Project",
    description: str = "",
    files: list[StoredFile] | None = None,
    store: Any = None,
    links: dict[str, str] | None = None,
    start: bool = True,
) -> Submitted:
    """A submitted version, built as the submissions service does (ORM rows, files put into
    `store`), with its pipeline started when `start`."""
    await set_tenant(session, team.org_id)
    links = links or {}
    submission = Submission(
        org_id=team.org_id,
        event_id=team.event_id,
        team_id=team.id,
        status="submitted",
        title=title,
        tagline="",
        description=description,
        repository_url=links.get("repository_url"),
        demo_url=links.get("demo_url"),
        video_url=links.get("video_url"),
        technologies=[],
        track_ids=[],
    )
    session.add(submission)
    await session.flush()
    rows: list[SubmissionFile] = []
    for stored in files or []:
        key = storage_key(team.org_id, team.event_id, team.id)
        await obstore.put_async(store, key, stored.data)
        row = SubmissionFile(
            org_id=team.org_id,
            event_id=team.event_id,
            team_id=team.id,
            submission_id=submission.id,
            storage_key=key,
            name=stored.name,
            content_type=stored.kind.content_type,
            kind=stored.kind.value,
            size=len(stored.data),
            sha256=hashlib.sha256(stored.data).hexdigest(),
        )
        session.add(row)
        rows.append(row)
    await session.flush()
    version = SubmissionVersion(
        org_id=team.org_id,
        event_id=team.event_id,
        submission_id=submission.id,
        number=1,
        snapshot=snapshot_of(submission),
        files=[file_entry(row) for row in rows],
        submitted_by=team.captain_id,
    )
    session.add(version)
    await session.flush()
    submission.version_count = 1
    submission.latest_version_id = version.id
    await session.flush()
    if start:
        await start_pipeline(session, version)
    return Submitted(submission, version, rows)


@asynccontextmanager
async def running_worker(settings: Settings, database: Database) -> AsyncIterator[None]:
    """A real worker in this process, on every queue, until the block ends."""
    previous = jobs.bind_database(database, settings)
    async with jobs.open_queue(settings):
        worker = asyncio.create_task(jobs.run_worker(settings, name="pipeline-test-worker"))
        try:
            yield
        finally:
            worker.cancel()
            with pytest.raises(asyncio.CancelledError):
                await worker
    jobs.bind_database(*previous)  # the binding from before, not none: others may rely on it


async def wait_until(predicate: Callable[[], Awaitable[bool]], within: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def step_states(database: Database, org_id: uuid.UUID, version_id: uuid.UUID) -> list[str]:
    """The version's step states in pipeline order."""
    from hackops.submissions.pipeline.tasks import in_pipeline_order

    async with database.transaction() as session:
        await set_tenant(session, org_id)
        steps = await session.scalars(
            select(PipelineStep).where(PipelineStep.version_id == version_id)
        )
        return [step.state for step in in_pipeline_order(list(steps))]


async def steps_settled(database: Database, org_id: uuid.UUID, version_id: uuid.UUID) -> bool:
    """All done, or one failed (the rest stays queued)."""
    states = await step_states(database, org_id, version_id)
    return states == [StepState.DONE.value] * 4 or StepState.FAILED.value in states


async def count(session: AsyncSession, model: Any, *conditions: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)))


class _PageHandler(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def local_site(pages: dict[str, bytes]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving `pages` (path → HTML); yields its base URL."""
    handler = type("Pages", (_PageHandler,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


PAGE = (
    "<html><head><title>Solar Grid Hub</title>"
    '<meta name="description" content="Forecasting rooftop solar for neighbourhood grids">'
    "</head><body><main><h1>Solar Grid Hub</h1>"
    + "".join(
        f"<p>Paragraph {n}: our forecaster blends satellite irradiance, smart meter readings and"
        " weather stations to schedule neighbourhood batteries before the evening peak.</p>"
        for n in range(8)
    )
    + "</main></body></html>"
).encode()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def zip_bytes(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


async def organizer_of(session: AsyncSession, org_id: object, event_id: object) -> User:
    """An organization organizer plus an event organizer: both are told about failures."""
    user = await create_user(session)
    session.add(Membership(org_id=org_id, user_id=user.id, role="organizer"))
    event_organizer = await create_user(session)
    session.add(
        EventRoleGrant(
            org_id=org_id, event_id=event_id, user_id=event_organizer.id, role="organizer"
        )
    )
    await session.flush()
    return user


async def emails_to(database: Database, subject_part: str) -> list[tuple[str, str, str]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(OutboundEmail.to_address, OutboundEmail.subject, OutboundEmail.body_text)
            .where(OutboundEmail.subject.contains(subject_part))
            .order_by(OutboundEmail.to_address)
        )
        return [(to, subject, body or "") for to, subject, body in rows]


# The real `hackops worker` command; the explicit import makes the test independent of the
# TASK_MODULES entry (checked by the test above).
WORKER_BOOT = (
    "import sys, hackops.submissions.pipeline.tasks; from hackops.cli import main;"
    " sys.argv = ['hackops', 'worker', '-q', 'processing']; main()"
)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOT],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_environment(database_url: str, files_dir: Path) -> dict[str, str]:
    """The environment of a `hackops worker` process on the test database (owner URL given)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "STORAGE_", "HACKOPS_", "SECRET_", "WORKER_"))
    }
    env.update(
        HACKOPS_ENV="test",
        SECRET_KEY="test-" + "s" * 40,
        DATABASE_URL=as_role(database_url, "hackops_app"),
        DATABASE_ADMIN_URL=database_url,
        DATABASE_POOL_SIZE="6",
        STORAGE_URL=f"file://{files_dir}",
        WORKER_POLLING_INTERVAL="0.2",
        WORKER_CONCURRENCY="4",
        LOG_LEVEL="WARNING",
    )
    return env


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)
