"""Duplicate detection through the real SQL path: a generated corpus with planted near-duplicates
spread over two events of one organization and a second organization, identical files, decided
flags that survive re-runs, latest versions only, and the plan of the candidate lookup."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from bench.similarity_corpus import generate_corpus
from obstore.store import MemoryStore
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.models import (
    DuplicateFlag,
    Event,
    PipelineStep,
    PipelineStepName,
    SubmissionVersion,
)
from hackops.submissions.files.service import FileKind
from hackops.submissions.intake.service import snapshot_of
from hackops.submissions.pipeline.duplicates import explain_candidate_lookup
from hackops.submissions.pipeline.runs import StepEnv
from hackops.submissions.pipeline.steps import extract_text
from hackops.submissions.pipeline.tasks import STEP_WORK, load_step_input
from hackops.tenancy import set_tenant
from tests.factories import create_event, create_organization
from tests.submissions.filehelpers import png_bytes
from tests.submissions.pipeline_helpers import StoredFile, Submitted, make_team, submit_version

SIZE = 200
PLANTED = 10
FIRST_EVENT = 150  # texts [0, 150) in the first event, the rest in the second


async def process(
    session: AsyncSession, settings: Settings, store: Any, version: SubmissionVersion
) -> dict[str, Any]:
    """Run the extract-text and similarity steps' real code on `version`, in this session."""
    await set_tenant(session, version.org_id)
    env = StepEnv(settings=settings, store=store)
    result: dict[str, Any] = {}
    for name in (PipelineStepName.EXTRACT_TEXT, PipelineStepName.SIMILARITY):
        step = await session.scalar(
            select(PipelineStep).where(
                PipelineStep.version_id == version.id, PipelineStep.step == name.value
            )
        )
        assert step is not None
        job = await load_step_input(session, step)
        assert job is not None
        work = extract_text if name is PipelineStepName.EXTRACT_TEXT else STEP_WORK[name.value]
        result = await (await work(env, job))(session)
    return result


async def new_version(
    session: AsyncSession, submitted: Submitted, description: str
) -> SubmissionVersion:
    """The team edits its description and submits again (version 2 becomes the latest)."""
    from hackops.submissions.pipeline.tasks import start_pipeline

    submission = submitted.submission
    submission.description = description
    version = SubmissionVersion(
        org_id=submission.org_id,
        event_id=submission.event_id,
        submission_id=submission.id,
        number=2,
        snapshot=snapshot_of(submission),
        files=[],
    )
    session.add(version)
    await session.flush()
    submission.version_count = 2
    submission.latest_version_id = version.id
    await session.flush()
    await start_pipeline(session, version)
    return version


async def flags_of(session: AsyncSession, org_id: uuid.UUID) -> list[DuplicateFlag]:
    await set_tenant(session, org_id)
    return list(await session.scalars(select(DuplicateFlag).order_by(DuplicateFlag.created_at)))


async def test_planted_near_duplicates_are_flagged_within_the_organization_only(
    session: AsyncSession, settings: Settings
) -> None:
    corpus = generate_corpus(size=SIZE, planted=PLANTED)
    planted_members = {index for pair in corpus.planted for index in pair}
    store = MemoryStore()
    shared_file = StoredFile("logo.png", png_bytes(5, 4), FileKind.PNG)

    org = await create_organization(session)
    events: list[Event] = [await create_event(session, org), await create_event(session, org)]
    other_org = await create_organization(session)
    other_event = await create_event(session, other_org)

    submitted: list[Submitted] = []
    for index, body in enumerate(corpus.texts):
        event = events[0] if index < FIRST_EVENT else events[1]
        crew = await make_team(session, event)
        files = [shared_file] if index in (3, 7) else []
        submitted.append(
            await submit_version(
                session,
                crew.team,
                title=f"Project {index}",
                description=body,
                files=files,
                store=store,
            )
        )
    # The other organization holds word-for-word copies of unplanted texts and the same file.
    copied = [index for index in range(SIZE) if index not in planted_members][:5]
    foreign: list[Submitted] = []
    for position, index in enumerate(copied):
        crew = await make_team(session, other_event)
        foreign.append(
            await submit_version(
                session,
                crew.team,
                description=corpus.texts[index],
                files=[shared_file] if position == 0 else [],
                store=store,
            )
        )

    candidates = 0
    for item in submitted:
        candidates += (await process(session, settings, store, item.version))["candidates"]
    for item in foreign:
        assert (await process(session, settings, store, item.version))["text_flags"] == 0

    index_of = {item.submission.id: index for index, item in enumerate(submitted)}
    flags = await flags_of(session, org.id)
    text_pairs = {
        tuple(sorted((index_of[f.submission_id], index_of[f.other_submission_id])))
        for f in flags
        if f.kind == "text"
    }
    assert text_pairs == corpus.planted  # recall 1.0 and precision 1.0 on this corpus
    assert all(f.score >= 0.8 for f in flags)
    assert len([f for f in flags if f.kind == "text"]) == PLANTED  # one flag per pair

    spanning = [
        f
        for f in flags
        if f.kind == "text"
        and (index_of[f.submission_id] < FIRST_EVENT)
        != (index_of[f.other_submission_id] < FIRST_EVENT)
    ]
    assert spanning, "the seed places at least one planted pair across the two events"
    for flag in spanning:
        assert flag.details["same_event"] is False
        assert flag.event_id == submitted[index_of[flag.submission_id]].submission.event_id

    file_flags = [f for f in flags if f.kind == "file"]
    # Both had submitted before either was checked, so each check flags the other.
    assert sorted(
        (index_of[f.submission_id], index_of[f.other_submission_id]) for f in file_flags
    ) == [
        (3, 7),
        (7, 3),
    ]
    assert file_flags[0].details["files"][0]["sha256"] == submitted[3].files[0].sha256
    assert file_flags[0].score == 1.0

    # Nothing crosses organizations, in either direction.
    assert await flags_of(session, other_org.id) == []
    foreign_ids = {item.submission.id for item in foreign}
    assert not foreign_ids & {f.other_submission_id for f in flags}
    print(  # noqa: T201 - the figure for the closing note
        f"\n{SIZE} submissions: {candidates / SIZE:.1f} candidates per lookup,"
        f" {len(text_pairs)} text flags for {len(corpus.planted)} planted pairs"
    )

    # The lookup for one new submission is an index scan on (org_id, band, hash).
    await set_tenant(session, org.id)
    bands = await session.scalar(text("SELECT count(*) FROM submission_bands"))
    assert bands == SIZE * 100
    plan = await explain_candidate_lookup(session, submitted[-1].version.id)
    print(f"EXPLAIN of the candidate lookup ({bands} band rows):\n{plan}")  # noqa: T201
    assert_probes_the_band_index(plan)
    assert_probes_the_band_index(
        await explain_candidate_lookup(session, submitted[-1].version.id, analyze=True)
    )
    with pytest.raises(LookupError):
        await explain_candidate_lookup(session, uuid.uuid4())


def assert_probes_the_band_index(plan: str) -> None:
    """The band index is used with all three of its columns, and the table is never scanned."""
    lines = plan.splitlines()
    scans = [n for n, line in enumerate(lines) if "ix_submission_bands_lookup" in line]
    assert scans, plan
    condition = next(line for line in lines[scans[0] :] if "Index Cond" in line)
    for column in ("org_id =", "band =", "hash ="):
        assert column in condition, plan
    assert "Seq Scan on submission_bands" not in plan


async def test_decisions_survive_reruns_and_only_latest_versions_are_compared(
    session: AsyncSession, settings: Settings
) -> None:
    corpus = generate_corpus(size=60, planted=4)
    (a, b), (c, d), *_ = sorted(corpus.planted)
    org = await create_organization(session)
    event = await create_event(session, org)
    store = MemoryStore()
    by_index: dict[int, Submitted] = {}
    for index in (a, b, c, d):
        crew = await make_team(session, event)
        by_index[index] = await submit_version(
            session, crew.team, description=corpus.texts[index], store=store
        )
        await process(session, settings, store, by_index[index].version)
    flags = await flags_of(session, org.id)
    assert len(flags) == 2

    # An organizer dismisses the (a, b) flag; re-running b's similarity keeps the decision.
    dismissed = next(f for f in flags if f.submission_id == by_index[b].submission.id)
    dismissed.status = "dismissed"
    dismissed.note = "Same team, two events"
    await session.flush()
    await process(session, settings, store, by_index[b].version)
    await process(session, settings, store, by_index[b].version)
    after = await flags_of(session, org.id)
    assert len(after) == 2
    await session.refresh(dismissed)
    assert (dismissed.status, dismissed.note) == ("dismissed", "Same team, two events")

    # c submits an unrelated version 2: d's old match was against c's superseded version, so
    # re-running d drops the open flag, and c's new version matches nothing.
    first = by_index[min(c, d)]
    second = by_index[max(c, d)]
    replacement = corpus.texts[next(i for i in range(60) if i not in (a, b, c, d))]
    assert (
        await process(session, settings, store, await new_version(session, first, replacement))
    )["text_flags"] == 0
    assert (await process(session, settings, store, second.version))["text_flags"] == 0
    remaining = await flags_of(session, org.id)
    assert [f.id for f in remaining] == [dismissed.id]
