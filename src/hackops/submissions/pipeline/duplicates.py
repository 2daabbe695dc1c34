"""The similarity step: fingerprint a version, find near-duplicates and identical files, flag them.

1. The version's texts (description, PDF and ZIP texts, the text of its repository and demo
   pages) are joined and fingerprinted (`similarity.fingerprint`, in a worker thread).
2. The fingerprint and its LSH band hashes are upserted (`submission_fingerprints`,
   `submission_bands`): a re-run leaves exactly one row per version and band.
3. Candidates come from ONE indexed query on `submission_bands (org_id, band, hash)`: the
   versions sharing at least one band, restricted to the LATEST version of every OTHER
   submission of the organization (this submission's own versions never count). Exact
   similarity (`similarity.similarity`) is then computed on the candidates' stored shingles.
4. Pairs at or above `DEFAULT_THRESHOLD` become `duplicate_flags` (kind `text`), within the event
   and across the organization's other events; files with the same SHA-256 in the latest version
   of another submission of the organization become kind `file`. Flags are upserted on
   `(submission_id, other_submission_id, kind)`: a dismissed or confirmed flag keeps its
   decision; an open flag that no longer holds for the latest version is removed.

The step takes a transaction-scoped advisory lock per organization first. Without it, two
versions processed at the same moment would each miss the other's bands (neither committed
yet) and a copied pair submitted seconds apart would never be flagged. The step is short (one
indexed lookup, a few dozen set intersections), so serializing it per organization is cheap.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    DuplicateFlag,
    FlagStatus,
    LinkCheck,
    SubmissionBand,
    SubmissionFingerprint,
    VersionText,
    new_id,
)
from hackops.submissions.pipeline.links import LinkStatus
from hackops.submissions.pipeline.runs import (
    TEXT_LINK_FIELDS,
    Record,
    StepEnv,
    StepInput,
)
from hackops.submissions.pipeline.similarity import DEFAULT_THRESHOLD, fingerprint, similarity

#: The candidate lookup. For each (band, hash) of the new version, one probe of the index
#: `ix_submission_bands_lookup (org_id, band, hash)`: the LATERAL subquery with OFFSET 0 is not
#: flattened, so the planner cannot trade the probes for a scan of the organization's bands (it
#: would with stale statistics). The matches are MATERIALIZED before being narrowed to the latest
#: version of each other submission, so the join never drives from `submissions` instead.
CANDIDATE_QUERY = """
WITH matches AS MATERIALIZED (
    SELECT b.version_id, b.submission_id, b.event_id
      FROM unnest(CAST(:bands AS smallint[]), CAST(:hashes AS bigint[])) AS q(band, hash)
     CROSS JOIN LATERAL (
            SELECT version_id, submission_id, event_id
              FROM submission_bands
             WHERE org_id = :org_id AND band = q.band AND hash = q.hash
            OFFSET 0
           ) AS b
)
SELECT m.version_id, m.submission_id, m.event_id, count(*) AS shared_bands
  FROM matches AS m
  JOIN submissions AS s
    ON s.id = m.submission_id AND s.latest_version_id = m.version_id
 WHERE m.submission_id <> :submission_id
 GROUP BY m.version_id, m.submission_id, m.event_id
"""

IDENTICAL_FILES_QUERY = """
SELECT f.submission_id, f.id, f.name, f.sha256, s.latest_version_id, s.event_id
  FROM submission_files AS f
  JOIN submissions AS s ON s.id = f.submission_id
  JOIN submission_versions AS v ON v.id = s.latest_version_id
 WHERE f.org_id = :org_id
   AND f.sha256 = ANY(CAST(:hashes AS varchar[]))
   AND f.submission_id <> :submission_id
   AND v.files @> jsonb_build_array(jsonb_build_object('id', CAST(f.id AS text)))
 ORDER BY f.submission_id, f.sha256, f.id
"""

LOCK_QUERY = "SELECT pg_advisory_xact_lock(hashtextextended('hackops.similarity:' || :org, 0))"


async def version_text(session: AsyncSession, job: StepInput) -> str:
    """Everything the version says about itself, in a stable order."""
    texts = list(
        await session.scalars(
            select(VersionText.content)
            .where(VersionText.version_id == job.version_id)
            .order_by(VersionText.source)
        )
    )
    pages = await session.scalars(
        select(LinkCheck.data["text"].astext)
        .where(
            LinkCheck.version_id == job.version_id,
            LinkCheck.status == LinkStatus.OK.value,
            LinkCheck.url.in_(job.link_urls(TEXT_LINK_FIELDS)),
        )
        .order_by(LinkCheck.url)
    )
    texts.extend(page for page in pages if page)
    return "\n\n".join(texts)


async def _store_fingerprint(
    session: AsyncSession, job: StepInput, minhash: list[int], shingles: list[int], count: int
) -> None:
    statement = pg_insert(SubmissionFingerprint).values(
        version_id=job.version_id,
        org_id=job.org_id,
        event_id=job.event_id,
        submission_id=job.submission_id,
        minhash=minhash,
        shingles=shingles,
        shingle_count=count,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["version_id"],
            set_={
                "minhash": statement.excluded.minhash,
                "shingles": statement.excluded.shingles,
                "shingle_count": statement.excluded.shingle_count,
            },
        )
    )


async def _store_bands(session: AsyncSession, job: StepInput, bands: list[tuple[int, int]]) -> None:
    await session.execute(delete(SubmissionBand).where(SubmissionBand.version_id == job.version_id))
    if bands:
        await session.execute(
            insert(SubmissionBand),
            [
                {
                    "version_id": job.version_id,
                    "band": band,
                    "org_id": job.org_id,
                    "event_id": job.event_id,
                    "submission_id": job.submission_id,
                    "hash": value,
                }
                for band, value in bands
            ],
        )


def _candidate_params(
    org_id: uuid.UUID, submission_id: uuid.UUID, bands: list[tuple[int, int]]
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "submission_id": submission_id,
        "bands": [band for band, _ in bands],
        "hashes": [value for _, value in bands],
    }


async def find_candidates(
    session: AsyncSession, job: StepInput, bands: list[tuple[int, int]]
) -> list[dict[str, Any]]:
    """Latest versions of other submissions sharing a band, with their stored shingles."""
    if not bands:
        return []
    rows = (
        await session.execute(
            text(CANDIDATE_QUERY), _candidate_params(job.org_id, job.submission_id, bands)
        )
    ).all()
    if not rows:
        return []
    shingles = {
        row[0]: row[1]
        for row in (
            await session.execute(
                select(SubmissionFingerprint.version_id, SubmissionFingerprint.shingles).where(
                    SubmissionFingerprint.version_id.in_([row.version_id for row in rows])
                )
            )
        )
    }
    return [
        {
            "version_id": row.version_id,
            "submission_id": row.submission_id,
            "event_id": row.event_id,
            "shared_bands": int(row.shared_bands),
            "shingles": shingles.get(row.version_id, []),
        }
        for row in rows
    ]


async def _upsert_flag(
    session: AsyncSession,
    job: StepInput,
    other_submission_id: uuid.UUID,
    kind: str,
    score: float,
    details: dict[str, Any],
) -> None:
    statement = pg_insert(DuplicateFlag).values(
        id=new_id(),
        org_id=job.org_id,
        event_id=job.event_id,
        submission_id=job.submission_id,
        other_submission_id=other_submission_id,
        kind=kind,
        score=score,
        details=details,
    )
    # The status (and who decided) is never touched: a decision outlives re-runs.
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["submission_id", "other_submission_id", "kind"],
            set_={"score": statement.excluded.score, "details": statement.excluded.details},
        )
    )


async def _drop_stale_open_flags(
    session: AsyncSession, job: StepInput, kind: str, keep: set[uuid.UUID]
) -> None:
    statement = delete(DuplicateFlag).where(
        DuplicateFlag.submission_id == job.submission_id,
        DuplicateFlag.kind == kind,
        DuplicateFlag.status == FlagStatus.OPEN,
    )
    if keep:
        statement = statement.where(DuplicateFlag.other_submission_id.not_in(keep))
    await session.execute(statement)


async def flag_identical_files(session: AsyncSession, job: StepInput) -> int:
    """Kind `file` flags: a file of this version with the same SHA-256 as one in the latest
    version of another submission of the organization. Returns the number of flagged pairs."""
    mine: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in job.files:
        mine[str(entry["sha256"])].append(entry)
    matches: dict[uuid.UUID, dict[str, Any]] = {}
    if mine:
        rows = await session.execute(
            text(IDENTICAL_FILES_QUERY),
            {"org_id": job.org_id, "submission_id": job.submission_id, "hashes": sorted(mine)},
        )
        for row in rows:
            match = matches.setdefault(
                row.submission_id,
                {
                    "version_id": str(job.version_id),
                    "other_version_id": str(row.latest_version_id),
                    "other_event_id": str(row.event_id),
                    "same_event": row.event_id == job.event_id,
                    "files": [],
                },
            )
            for entry in mine[row.sha256]:
                match["files"].append(
                    {
                        "sha256": row.sha256,
                        "file_id": str(entry["id"]),
                        "name": entry.get("name"),
                        "other_file_id": str(row.id),
                        "other_name": row.name,
                    }
                )
    for other, details in matches.items():
        await _upsert_flag(session, job, other, "file", 1.0, details)
    await _drop_stale_open_flags(session, job, "file", set(matches))
    return len(matches)


async def similarity_step(env: StepEnv, job: StepInput) -> Record:
    """All of the similarity step happens in its transaction (it reads what earlier steps wrote)."""

    async def record(session: AsyncSession) -> dict[str, Any]:
        await session.execute(text(LOCK_QUERY), {"org": str(job.org_id)})
        combined = await version_text(session, job)
        signature = await asyncio.to_thread(fingerprint, combined)
        await _store_fingerprint(
            session, job, signature.minhash, signature.shingles, signature.shingle_count
        )
        await _store_bands(session, job, signature.bands)
        candidates = await find_candidates(session, job, signature.bands)
        found: set[uuid.UUID] = set()
        for candidate in candidates:
            score = similarity(signature.shingles, candidate["shingles"])
            if score < DEFAULT_THRESHOLD:
                continue
            found.add(candidate["submission_id"])
            await _upsert_flag(
                session,
                job,
                candidate["submission_id"],
                "text",
                round(score, 4),
                {
                    "version_id": str(job.version_id),
                    "other_version_id": str(candidate["version_id"]),
                    "other_event_id": str(candidate["event_id"]),
                    "same_event": candidate["event_id"] == job.event_id,
                    "shared_bands": candidate["shared_bands"],
                },
            )
        await _drop_stale_open_flags(session, job, "text", found)
        file_flags = await flag_identical_files(session, job)
        return {
            "shingles": signature.shingle_count,
            "bands": len(signature.bands),
            "candidates": len(candidates),
            "text_flags": len(found),
            "file_flags": file_flags,
        }

    return record


async def explain_candidate_lookup(
    session: AsyncSession, version_id: uuid.UUID, *, analyze: bool = False
) -> str:
    """The plan of the candidate query for a fingerprinted version (EXPLAIN, or EXPLAIN ANALYZE).

    The session's tenant must be the version's organization. Raises LookupError when the
    version has no bands (not processed yet, or its text is too short to fingerprint).
    """
    fingerprint_row = (
        await session.execute(
            select(SubmissionFingerprint.org_id, SubmissionFingerprint.submission_id).where(
                SubmissionFingerprint.version_id == version_id
            )
        )
    ).first()
    bands = [
        (row[0], row[1])
        for row in (
            await session.execute(
                select(SubmissionBand.band, SubmissionBand.hash)
                .where(SubmissionBand.version_id == version_id)
                .order_by(SubmissionBand.band)
            )
        )
    ]
    if fingerprint_row is None or not bands:
        raise LookupError(f"version {version_id} has no LSH bands")
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
    rows = await session.execute(
        text(prefix + CANDIDATE_QUERY),
        _candidate_params(fingerprint_row.org_id, fingerprint_row.submission_id, bands),
    )
    return "\n".join(str(row[0]) for row in rows)
