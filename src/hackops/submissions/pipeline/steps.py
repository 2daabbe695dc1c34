"""The work of the first three pipeline steps: validate files, extract text, fetch links.

Each step is split in two so no database transaction stays open across slow I/O:

- the *work* (`validate_files`, `extract_text`, `fetch_links`) runs outside any transaction:
  it reads the stored files or fetches the links, and returns
- a *record* callable, which the runner calls inside the step's transaction to write the effect
  idempotently (upserts keyed by `(version_id, source)` and `(version_id, url)`, stale rows of
  the version removed) and which returns the summary stored in `pipeline_steps.result`.

Failures are `StepFailed` (worth retrying: storage unreadable, a snapshot not written) or
`PermanentStepFailure` (trying again cannot help: the stored bytes differ from what was
submitted). Their `reason` is shown to the team and the organizers, so it names the file and
says what happened, never an internal detail.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import obstore
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.mail.service import queue_email
from hackops.models import (
    Event,
    EventRole,
    EventRoleGrant,
    LinkCheck,
    Membership,
    OrgRole,
    PipelineStepName,
    Team,
    TeamMember,
    User,
    VersionText,
    new_id,
)
from hackops.submissions.files.docparse import in_document_pool
from hackops.submissions.files.service import (
    FileKind,
    FilePolicy,
    FileRejected,
    Spooled,
    extract_pdf_text,
    extract_zip_text,
    inspect_file_async,
    spool_upload,
    stream_file,
)
from hackops.submissions.pipeline.extract import is_html
from hackops.submissions.pipeline.links import (
    LinkPolicy,
    LinkResult,
    LinkStatus,
    RobotsCache,
    fetch_link,
    guarded_client,
)
from hackops.submissions.pipeline.similarity import MAX_TEXT_CHARS

#: The snapshot fields holding links, in the order they are checked and reported.
LINK_FIELDS = ("repository_url", "demo_url", "video_url")
#: Link pages whose text describes the project (a video page's text is the video host's).
TEXT_LINK_FIELDS = ("repository_url", "demo_url")
MAX_TITLE_CHARS = 500


class StepFailed(Exception):
    """The step did not complete; it is retried with backoff. `reason` is shown to people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentStepFailure(StepFailed):
    """Trying again cannot help (the stored bytes changed): the step fails at once."""


@dataclass(frozen=True, slots=True)
class StepInput:
    """What a claimed step works on, read in the claim transaction (plain values, no session).

    `token` is the step's `attempts` after the claim: the run may record its effect only while
    the row still shows this run (state running, same attempts), so a superseded run (a rerun,
    a stalled job taken over) changes nothing.
    """

    step_id: uuid.UUID
    step: str
    token: int
    org_id: uuid.UUID
    event_id: uuid.UUID
    submission_id: uuid.UUID
    team_id: uuid.UUID
    version_id: uuid.UUID
    version_number: int
    snapshot: dict[str, Any]
    files: list[dict[str, Any]]

    @property
    def title(self) -> str:
        return str(self.snapshot.get("title") or "your project")

    def link_urls(self, fields: tuple[str, ...] = LINK_FIELDS) -> list[str]:
        """The submitted URLs of `fields`, without blanks or repeats, in field order."""
        urls: list[str] = []
        for name in fields:
            value = self.snapshot.get(name)
            if isinstance(value, str) and value.strip() and value.strip() not in urls:
                urls.append(value.strip())
        return urls


@dataclass(frozen=True, slots=True)
class StepEnv:
    settings: Settings
    store: Any  # an obstore ObjectStore


Record = Callable[[AsyncSession], Awaitable[dict[str, Any]]]
StepWork = Callable[[StepEnv, StepInput], Awaitable[Record]]


# --- stored files ---------------------------------------------------------------------------


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("name") or entry.get("id"))


async def spool_stored(store: Any, entry: dict[str, Any]) -> Spooled:
    """The stored copy of a version's file, spooled and hashed; never more than its recorded size.

    More bytes than were recorded, or other bytes, is a permanent failure (the object was
    changed after upload); a store that cannot be read is worth retrying.
    """
    name, size, key = _name(entry), int(entry["size"]), str(entry["storage_key"])
    try:
        chunks = await stream_file(store, key)
        spooled = await spool_upload(chunks, max_bytes=size)
    except FileRejected as exc:
        raise PermanentStepFailure(
            f"The stored copy of {name!r} is larger than the {size} bytes that were submitted: "
            "it was changed after upload. Upload the file again and resubmit."
        ) from exc
    except Exception as exc:
        raise StepFailed(
            f"The stored file {name!r} could not be read ({type(exc).__name__})."
        ) from exc
    if spooled.size != size or spooled.sha256 != entry["sha256"]:
        spooled.close()
        raise PermanentStepFailure(
            f"The stored copy of {name!r} does not match what was submitted (its SHA-256 "
            "differs): it was changed after upload. Upload the file again and resubmit."
        )
    return spooled


def recheck_policy(size: int) -> FilePolicy:
    """The structural re-check of a stored file: every kind, the file's own size.

    The event's size and type limits were applied at upload; an organizer changing them later
    must not fail files accepted before. What is re-checked is integrity and structure.
    """
    return FilePolicy(max_bytes=max(size, 1))


async def validate_files(env: StepEnv, job: StepInput) -> Record:
    """Each file: the stored bytes hash to the recorded SHA-256 and pass the inspection again."""
    checked: list[dict[str, Any]] = []
    for entry in job.files:
        name = _name(entry)
        with await spool_stored(env.store, entry) as spooled:
            try:
                inspection = await inspect_file_async(
                    spooled, declared_name=name, policy=recheck_policy(spooled.size)
                )
            except FileRejected as exc:
                raise PermanentStepFailure(
                    f"{name!r} failed the file check: {exc.message}"
                ) from exc
        if inspection.kind.value != entry.get("kind"):
            raise PermanentStepFailure(
                f"{name!r} was recorded as {entry.get('kind')} but its bytes are "
                f"{inspection.kind.label}."
            )
        checked.append(
            {
                "id": str(entry["id"]),
                "name": name,
                "kind": inspection.kind.value,
                "sha256": inspection.sha256,
                "details": inspection.details,
            }
        )

    async def record(session: AsyncSession) -> dict[str, Any]:
        return {"files": checked}

    return record


# --- text extraction ------------------------------------------------------------------------


def _extract(kind: str, spooled: Spooled) -> str:
    if kind == FileKind.PDF.value:
        return extract_pdf_text(spooled.file, MAX_TEXT_CHARS)
    return extract_zip_text(spooled.file, MAX_TEXT_CHARS)


async def extract_text(env: StepEnv, job: StepInput) -> Record:
    """The description, each PDF's text (`file:<id>`) and the README-like texts of each ZIP."""
    texts: dict[str, str] = {}
    description = str(job.snapshot.get("description") or "").replace("\x00", "")
    if description.strip():
        texts["description"] = description[:MAX_TEXT_CHARS]
    for entry in job.files:
        kind = entry.get("kind")
        if kind not in (FileKind.PDF.value, FileKind.ZIP.value):
            continue
        with await spool_stored(env.store, entry) as spooled:
            try:
                content = await in_document_pool(_extract, str(kind), spooled)
            except FileRejected as exc:
                raise PermanentStepFailure(
                    f"The text of {_name(entry)!r} could not be read: {exc.message}"
                ) from exc
        if content.strip():
            texts[f"file:{entry['id']}"] = content

    async def record(session: AsyncSession) -> dict[str, Any]:
        for source, content in texts.items():
            statement = pg_insert(VersionText).values(
                id=new_id(),
                org_id=job.org_id,
                version_id=job.version_id,
                source=source,
                content=content,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["version_id", "source"],
                    set_={"content": statement.excluded.content},
                    where=VersionText.content.is_distinct_from(statement.excluded.content),
                )
            )
        await session.execute(
            delete(VersionText).where(
                VersionText.version_id == job.version_id, VersionText.source.not_in(list(texts))
            )
        )
        return {
            "sources": sorted(texts),
            "characters": sum(len(content) for content in texts.values()),
        }

    return record


# --- links ------------------------------------------------------------------------------------


def link_policy(settings: Settings) -> LinkPolicy:
    return LinkPolicy(base_url=settings.base_url, allow_loopback=settings.link_fetch_allow_loopback)


def snapshot_key(job: StepInput, result: LinkResult) -> str:
    """`org/<id>/event/<id>/team/<id>/links/<version>/<sha256>.html` (`.bin` for non-HTML)."""
    suffix = "html" if is_html(result.content_type) else "bin"
    return (
        f"org/{job.org_id}/event/{job.event_id}/team/{job.team_id}"
        f"/links/{job.version_id}/{result.sha256}.{suffix}"
    )


async def fetch_links(env: StepEnv, job: StepInput) -> Record:
    """Fetch each submitted URL under the link policy and keep a snapshot of what came back.

    `fetch_link` reports remote problems as a status, never raises; those links are recorded
    and reported to the team by email (once per version and link), and the step still succeeds.
    """
    urls = job.link_urls()
    results: list[LinkResult] = []
    keys: dict[str, str] = {}
    if urls:
        policy = link_policy(env.settings)
        robots = RobotsCache()
        async with guarded_client(policy) as client:
            results = list(
                await asyncio.gather(
                    *(
                        fetch_link(url, policy=policy, client=client, robots_cache=robots)
                        for url in urls
                    )
                )
            )
        for result in results:
            if not result.body or result.sha256 is None:
                continue
            key = snapshot_key(job, result)
            try:
                await obstore.put_async(env.store, key, result.body)
            except Exception as exc:
                raise StepFailed(
                    f"The snapshot of {result.url} could not be stored ({type(exc).__name__})."
                ) from exc
            keys[result.url] = key

    async def record(session: AsyncSession) -> dict[str, Any]:
        previous = {
            row[0]: row[1]
            for row in (
                await session.execute(
                    select(LinkCheck.url, LinkCheck.status).where(
                        LinkCheck.version_id == job.version_id
                    )
                )
            )
        }
        for result in results:
            await _upsert_link_check(session, job, result, keys.get(result.url))
        await session.execute(
            delete(LinkCheck).where(
                LinkCheck.version_id == job.version_id, LinkCheck.url.not_in(urls)
            )
        )
        failed = [result for result in results if result.status is not LinkStatus.OK]
        # Reported once: a link already recorded as failing for this version was reported then.
        new_failures = [
            result for result in failed if previous.get(result.url) in (None, LinkStatus.OK.value)
        ]
        if new_failures:
            await report_failed_links(session, job, new_failures)
        return {
            "links": len(results),
            "ok": len(results) - len(failed),
            "failed": [
                {"url": result.url, "status": str(result.status), "reason": result.reason or ""}
                for result in failed
            ],
            "reported": len(new_failures),
        }

    return record


async def _upsert_link_check(
    session: AsyncSession, job: StepInput, result: LinkResult, key: str | None
) -> None:
    values: dict[str, Any] = {
        "status": str(result.status),
        "reason": result.reason or "",
        "http_status": result.http_status,
        "final_url": result.final_url[:2000] if result.final_url else None,
        "title": (result.title or "")[:MAX_TITLE_CHARS],
        "data": result.to_json(),
        "snapshot_key": key,
        "content_sha256": result.sha256,
    }
    statement = pg_insert(LinkCheck).values(
        id=new_id(),
        org_id=job.org_id,
        submission_id=job.submission_id,
        version_id=job.version_id,
        url=result.url,
        **values,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["version_id", "url"],
            set_={
                **{name: statement.excluded[name] for name in values},
                "fetched_at": func.app_now(),
            },
        )
    )


# --- who is told ------------------------------------------------------------------------------


async def team_recipients(session: AsyncSession, team_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(user id, email) of the team's current members."""
    rows = await session.execute(
        select(User.id, User.email)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, User.deleted_at.is_(None))
        .order_by(User.email)
    )
    return [(row[0], row[1]) for row in rows]


async def report_failed_links(
    session: AsyncSession, job: StepInput, failures: list[LinkResult]
) -> None:
    """One email to each team member listing the links that could not be checked, and why."""
    lines = "\n".join(f"- {result.url}\n  {result.reason or result.status}" for result in failures)
    body = (
        f"We checked the links of “{job.title}” (version {job.version_number}) and could not "
        f"read {'this one' if len(failures) == 1 else 'these'}:\n\n{lines}\n\n"
        "Judges follow these links. Please fix them and submit again before the deadline."
    )
    for user_id, email in await team_recipients(session, job.team_id):
        await queue_email(
            session,
            to=email,
            subject=f"Links of “{job.title}” could not be checked",
            body=body,
            user_id=user_id,
        )


STEP_LABELS: dict[str, str] = {
    PipelineStepName.VALIDATE_FILES: "file validation",
    PipelineStepName.EXTRACT_TEXT: "text extraction",
    PipelineStepName.FETCH_LINKS: "link checking",
    PipelineStepName.SIMILARITY: "similarity check",
}


async def organizer_recipients(
    session: AsyncSession, org_id: uuid.UUID, event_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """(user id, email) of the event's organizers: its organizer role, and the organization's
    organizers, admins and owners."""
    event_organizers = select(EventRoleGrant.user_id).where(
        EventRoleGrant.event_id == event_id, EventRoleGrant.role == EventRole.ORGANIZER
    )
    org_organizers = select(Membership.user_id).where(
        Membership.org_id == org_id,
        Membership.role.in_([OrgRole.ORGANIZER, OrgRole.ADMIN, OrgRole.OWNER]),
    )
    rows = await session.execute(
        select(User.id, User.email)
        .where(
            User.deleted_at.is_(None),
            User.id.in_(event_organizers) | User.id.in_(org_organizers),
        )
        .order_by(User.email)
    )
    return [(row[0], row[1]) for row in rows]


async def notify_failure(session: AsyncSession, claimed: StepInput, reason: str) -> None:
    """Email the team members and the event's organizers that a step failed, and why."""
    label = STEP_LABELS[claimed.step]
    team_name = await session.scalar(select(Team.name).where(Team.id == claimed.team_id))
    event_name = await session.scalar(select(Event.name).where(Event.id == claimed.event_id))
    team = await team_recipients(session, claimed.team_id)
    for user_id, email in team:
        await queue_email(
            session,
            to=email,
            subject=f"Processing of “{claimed.title}” failed",
            body=(
                f"The {label} of “{claimed.title}” (version {claimed.version_number}) failed:\n\n"
                f"{reason}\n\nThe organizers of {event_name} have been told and can run it again."
            ),
            user_id=user_id,
        )
    told = {user_id for user_id, _ in team}
    for user_id, email in await organizer_recipients(session, claimed.org_id, claimed.event_id):
        if user_id in told:
            continue
        await queue_email(
            session,
            to=email,
            subject=f"[{event_name}] Processing failed for team {team_name}",
            body=(
                f"The {label} of “{claimed.title}” by team {team_name} (version "
                f"{claimed.version_number}) failed after its attempts:\n\n{reason}\n\n"
                "You can run the step again from the submission's review page."
            ),
            user_id=user_id,
        )
