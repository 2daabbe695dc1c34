"""The organizer exports of an event: one table per dataset (columns, then rows), read for a
writer in `formats.py`.

Each table is one statement read through a server-side cursor (`exports.table`). What a table
needs besides its rows (question labels, criteria, track names, the published results) is small
and read first.

Datasets:
- `results`: the PUBLISHED results only (the snapshot frozen at publication, never the live
  ranking): overall places, each track's places, each award's winners. Refused before.
- `evaluations`: one row per evaluation, one column per criterion, judges anonymizable (in
  `exports.judging`).
- `submissions`: each team's project with its links and the names of its files.
- `teams`: one row per member (a team with no members has one row with empty member cells).
- `judges`: one row per judge and assigned project (a judge with none has one row; in
  `exports.judging`).
- `registrations`: one row per registration, one column per registration question (the
  organizers' list filters apply).

Audit: `record_export` writes one row per export (who, which dataset, which format, whether
anonymized) in the request's transaction, committed before the file is sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import Conflict
from hackops.events.access import EventAccess
from hackops.events.tracks.service import list_awards, list_tracks
from hackops.exports import judging
from hackops.exports.table import Dataset, Row, Table, rows_of, stream_rows, unique_names, when
from hackops.models import (
    Registration,
    Submission,
    SubmissionFile,
    Team,
    TeamMember,
    User,
)
from hackops.registrations.listing import organizer_query
from hackops.results import frozen
from hackops.results.service import published_result

#: What each dataset is, in words (the exports page and the API's description).
TITLES: dict[Dataset, tuple[str, str]] = {
    Dataset.REGISTRATIONS: ("Registrations", "Everyone who registered, one column per question."),
    Dataset.TEAMS: ("Teams and members", "One row per member of each team."),
    Dataset.SUBMISSIONS: ("Submissions", "Each project with its links and file names."),
    Dataset.JUDGES: ("Judges and assignments", "One row per judge and project handed to them."),
    Dataset.EVALUATIONS: ("Evaluations", "Every evaluation, one column per criterion."),
    Dataset.RESULTS: ("Results", "The published places: overall, per track, and the awards."),
}


class ResultsNotPublished(Conflict):
    code = "results_not_published"
    message = (
        "The results export is made from the published results, and they are not published "
        "yet. Publish the results first (Judging tab)."
    )


async def open_table(
    session: AsyncSession,
    access: EventAccess,
    dataset: Dataset,
    *,
    anonymize: bool = False,
    filters: dict[str, Any] | None = None,
) -> Table:
    """The table of `dataset` for the event of `access` (an organizer's, checked by the caller).
    Raises `ResultsNotPublished` for results before publication."""
    if dataset is Dataset.RESULTS:
        return await _results(session, access)
    if dataset is Dataset.EVALUATIONS:
        return await judging.evaluations(session, access, anonymize=anonymize)
    if dataset is Dataset.SUBMISSIONS:
        return await _submissions(session, access)
    if dataset is Dataset.TEAMS:
        return _teams(session, access)
    if dataset is Dataset.JUDGES:
        return judging.judges(session, access)
    return _registrations(session, access, filters or {})


async def record_export(
    session: AsyncSession,
    access: EventAccess,
    dataset: Dataset,
    fmt: str,
    *,
    anonymize: bool = False,
    filters: dict[str, Any] | None = None,
) -> None:
    """One audit row per export: who exported which data of which event, in which format."""
    details: dict[str, Any] = {"dataset": dataset.value, "format": fmt}
    if dataset is Dataset.EVALUATIONS:
        details["anonymized"] = anonymize
    if filters:
        details["filters"] = {k: v for k, v in filters.items() if v is not None}
    await record(
        session,
        access.actor,
        "event.exported",
        resource_type="event",
        resource_id=access.event.id,
        org_id=access.event.org_id,
        details=details,
    )


# --- reading ---------------------------------------------------------------------------------

# --- the datasets ----------------------------------------------------------------------------

RESULT_COLUMNS = [
    "list",
    "place",
    "submission_id",
    "title",
    "team",
    "score",
    "raw_mean",
    "evaluations",
    "prize",
]


async def _results(session: AsyncSession, access: EventAccess) -> Table:
    event = access.event
    result = await published_result(session, event) if event.results_published_at else None
    if result is None:
        raise ResultsNotPublished
    tracks = await list_tracks(session, event)
    names = {str(t.id): t.name for t in tracks}
    ranking = frozen.with_track_ranks(list(result.ranking), names)
    rows: list[Row] = []

    def place(listed: str, rank: int, row: dict[str, Any], prize: str = "") -> Row:
        return (
            listed,
            rank,
            row.get("submission_id", ""),
            row.get("title", ""),
            row.get("team_name", ""),
            row.get("score"),
            row.get("raw_mean"),
            row.get("evaluations"),
            prize,
        )

    rows += [place("Overall", r["rank"], r) for r in ranking]
    for track in tracks:
        in_track = [
            (p["rank"], r) for r in ranking for p in r.get("tracks", []) if p["id"] == str(track.id)
        ]
        rows += [place(f"Track: {track.name}", rank, r) for rank, r in sorted(in_track)]
    by_id = {r["submission_id"]: r for r in ranking}
    award_order = {str(a.id): a.position for a in await list_awards(session, event)}
    counters: dict[str, int] = {}
    for winner in sorted(
        result.winners, key=lambda w: award_order.get(w.get("award_id", ""), len(award_order))
    ):
        key = winner.get("award_id", "")
        counters[key] = counters.get(key, 0) + 1
        row = by_id.get(winner["submission_id"], {})
        rows.append(
            place(
                f"Award: {winner['award']}",
                counters[key],
                {**row, **{k: winner[k] for k in ("submission_id", "title", "team_name")}},
                prize=winner.get("prize", ""),
            )
        )
    return Table(Dataset.RESULTS, list(RESULT_COLUMNS), rows_of(rows))


SUBMISSION_COLUMNS = [
    "submission_id",
    "team",
    "title",
    "tagline",
    "status",
    "submitted_at",
    "late",
    "versions",
    "tracks",
    "technologies",
    "repository_url",
    "demo_url",
    "video_url",
    "files",
]


async def _submissions(session: AsyncSession, access: EventAccess) -> Table:
    track_names = {t.id: t.name for t in await list_tracks(session, access.event)}
    files = (
        select(
            SubmissionFile.submission_id,
            func.string_agg(SubmissionFile.name, literal("; ")).label("names"),
        )
        .where(SubmissionFile.event_id == access.event.id, SubmissionFile.deleted_at.is_(None))
        .group_by(SubmissionFile.submission_id)
        .subquery()
    )
    query = (
        select(
            Submission.id,
            Team.name,
            Submission.title,
            Submission.tagline,
            Submission.status,
            Submission.submitted_at,
            Submission.late,
            Submission.version_count,
            Submission.track_ids,
            Submission.technologies,
            Submission.repository_url,
            Submission.demo_url,
            Submission.video_url,
            files.c.names,
        )
        .join(Team, Team.id == Submission.team_id)
        .outerjoin(files, files.c.submission_id == Submission.id)
        .where(Submission.event_id == access.event.id)
        .order_by(Team.name, Submission.id)
    )

    def shape(r: Any) -> Row:
        tracks = "; ".join(track_names.get(t, "") for t in r[8])
        return (
            r[0], r[1], r[2], r[3], r[4], when(r[5]), r[6], r[7], tracks, ", ".join(r[9]),
            r[10] or "", r[11] or "", r[12] or "", r[13] or "",
        )  # fmt: skip

    return Table(Dataset.SUBMISSIONS, list(SUBMISSION_COLUMNS), stream_rows(session, query, shape))


TEAM_COLUMNS = [
    "team_id",
    "team",
    "members",
    "recruiting",
    "created_at",
    "member_name",
    "member_email",
    "member_role",
    "joined_at",
]


def _teams(session: AsyncSession, access: EventAccess) -> Table:
    query = (
        select(
            Team.id,
            Team.name,
            Team.member_count,
            Team.recruiting,
            Team.created_at,
            User.name,
            User.email,
            TeamMember.role,
            TeamMember.joined_at,
        )
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .outerjoin(User, User.id == TeamMember.user_id)
        .where(Team.event_id == access.event.id, Team.disbanded_at.is_(None))
        .order_by(Team.name, Team.id, TeamMember.joined_at, TeamMember.id)
    )

    def shape(r: Any) -> Row:
        return (r[0], r[1], r[2], r[3], when(r[4]), r[5] or "", r[6] or "", r[7] or "", when(r[8]))

    return Table(Dataset.TEAMS, list(TEAM_COLUMNS), stream_rows(session, query, shape))


REGISTRATION_COLUMNS = [
    "email",
    "name",
    "status",
    "queue_seq",
    "registered_at",
    "checked_in_at",
    "checkin_code",
    "source",
    "looking_for_team",
]


def answer_text(value: Any) -> Any:
    """A registration answer as one cell: choices joined, yes/no for a checkbox."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def _registrations(session: AsyncSession, access: EventAccess, filters: dict[str, Any]) -> Table:
    questions = [q for q in access.event.questions if isinstance(q, dict) and "id" in q]
    keys = [str(q["id"]) for q in questions]
    labels = unique_names([str(q.get("label") or q["id"]) for q in questions], REGISTRATION_COLUMNS)
    query = (
        organizer_query(access.event, **filters)
        .with_only_columns(
            User.email,
            User.name,
            Registration.status,
            Registration.queue_seq,
            Registration.created_at,
            Registration.checked_in_at,
            Registration.checkin_code,
            Registration.source,
            Registration.looking_for_team,
            Registration.answers,
        )
        .order_by(Registration.queue_seq)
    )

    def shape(r: Any) -> Row:
        answers = r[9] or {}
        return (
            r[0], r[1], r[2], r[3], when(r[4]), when(r[5]), r[6], r[7], r[8],
            *(answer_text(answers.get(k)) for k in keys),
        )  # fmt: skip

    return Table(
        Dataset.REGISTRATIONS,
        [*REGISTRATION_COLUMNS, *labels],
        stream_rows(session, query, shape),
    )
