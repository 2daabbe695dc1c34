"""An event's dashboard: the numbers an organizer checks hourly, as plain dataclasses.

Each section is one or two SQL statements of aggregates (the database counts; Python never walks the
registrations), so a dashboard is a fixed number of statements whatever the event's size — the
query-count test holds it. The one exception to "aggregates only" is the judges' leniency, in
`analytics.judging`: the judge-effect model is fitted on the event's submitted evaluations.

"Registrations" are the ones holding a seat (registered or checked in, as
`models.registration.SEATED`). Registrations over time count each current registration on the
day (in the event's zone) it was made, as it stands now: a waitlisted person promoted later
counts as registered from the start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.analytics.counts import Count, fetch_rows
from hackops.analytics.judging import Judging, judging
from hackops.events.access import EventAccess
from hackops.events.questions.service import Question, QuestionKind, questions_of


@dataclass(frozen=True, slots=True)
class Day:
    """Registrations made up to the end of `day` (cumulative), by their state now."""

    day: date
    registered: int
    waitlisted: int


@dataclass(frozen=True, slots=True)
class Timeline:
    days: list[Day]
    capacity: int | None
    by_source: list[Count]


@dataclass(frozen=True, slots=True)
class Funnel:
    registered: int
    checked_in: int
    in_team: int
    submitted: int
    approved: int
    waitlisted: int
    cancelled: int
    looking_for_team: int

    def steps(self) -> list[Count]:
        return [
            Count("Registered", self.registered),
            Count("Checked in", self.checked_in),
            Count("In a team", self.in_team),
            Count("Project submitted", self.submitted),
            Count("Project approved", self.approved),
        ]


@dataclass(frozen=True, slots=True)
class QuestionTotals:
    """Answers to one registration question by people holding a seat: a count per option
    (choice questions, checkboxes as Yes/No), or only how many answered (text questions)."""

    id: str
    label: str
    kind: str
    answered: int
    options: list[Count]


@dataclass(frozen=True, slots=True)
class Teams:
    by_size: list[Count]  # label: the number of members
    teams: int
    recruiting: int  # teams with room that say they recruit


@dataclass(frozen=True, slots=True)
class Submissions:
    by_track: list[Count]  # submitted projects per track ("No track" last)
    by_status: list[Count]
    submitted: int  # projects submitted at least once (every state but draft)
    processing: list[tuple[str, list[Count]]]  # per pipeline step, its latest versions' states
    open_duplicate_flags: int
    open_judging_flags: int


@dataclass(frozen=True, slots=True)
class Place:
    rank: int
    title: str
    team: str
    score: float
    margin: float | None  # points ahead of the next place (None for the last one shown)


@dataclass(frozen=True, slots=True)
class Dashboard:
    timeline: Timeline
    funnel: Funnel
    questions: list[QuestionTotals]
    teams: Teams
    submissions: Submissions
    judging: Judging
    results: list[Place] | None  # None until the results are published


RESULT_PLACES = 20  # the places shown with their margins

# --- registrations --------------------------------------------------------------------------

_TIMELINE = """
SELECT (r.created_at AT TIME ZONE :zone)::date AS day,
       count(*) FILTER (WHERE r.status IN ('registered', 'checked_in')) AS registered,
       count(*) FILTER (WHERE r.status = 'waitlisted') AS waitlisted
FROM registrations r
WHERE r.event_id = :event AND r.status <> 'cancelled'
GROUP BY 1 ORDER BY 1
"""

_SOURCES = """
SELECT r.source, count(*) FROM registrations r
WHERE r.event_id = :event AND r.status <> 'cancelled'
GROUP BY 1 ORDER BY 2 DESC, 1
"""

#: How the registrations' `source` values read; any other value is shown as it is stored.
SOURCE_LABELS = {"self": "Self-registered", "import": "Imported by organizers", "invite": "Invited"}


async def timeline(session: AsyncSession, access: EventAccess) -> Timeline:
    event = access.event
    rows = await fetch_rows(session, _TIMELINE, event=event.id, zone=event.timezone)
    days, registered, waitlisted = [], 0, 0
    for day, seated, waiting in rows:
        registered += seated
        waitlisted += waiting
        days.append(Day(day, registered, waitlisted))
    sources = await fetch_rows(session, _SOURCES, event=event.id)
    return Timeline(
        days,
        event.capacity,
        [Count(SOURCE_LABELS.get(source, source), n) for source, n in sources],
    )


_FUNNEL = """
SELECT count(*) FILTER (WHERE seated),
       count(*) FILTER (WHERE x.status = 'checked_in'),
       count(*) FILTER (WHERE seated AND team_id IS NOT NULL),
       count(*) FILTER (WHERE seated AND submitted),
       count(*) FILTER (WHERE seated AND approved),
       count(*) FILTER (WHERE x.status = 'waitlisted'),
       count(*) FILTER (WHERE x.status = 'cancelled'),
       count(*) FILTER (WHERE seated AND team_id IS NULL AND looking_for_team)
FROM (
    SELECT r.status, r.status IN ('registered', 'checked_in') AS seated, r.looking_for_team,
           m.team_id, s.submitted_at IS NOT NULL AS submitted, s.status = 'approved' AS approved
    FROM registrations r
    LEFT JOIN team_members m ON m.event_id = r.event_id AND m.user_id = r.user_id
    LEFT JOIN submissions s ON s.event_id = m.event_id AND s.team_id = m.team_id
    WHERE r.event_id = :event
) x
"""


async def funnel(session: AsyncSession, access: EventAccess) -> Funnel:
    (row,) = await fetch_rows(session, _FUNNEL, event=access.event.id)
    return Funnel(*(int(v) for v in row))


# Answers are counted in one pass over the seated registrations: per question, how many answered
# (`answers ? id`), and per option of a choice question or checkbox, how many chose it (`answers
# @> {id: option}`, or {id: [option]} for multi-choice) — containment checks in C, no row-wise
# unnesting of every answer. The statement is made of fixed text and bound parameters only.
_ANSWERS = """
SELECT ARRAY[{counts}]::bigint[] FROM registrations r
WHERE r.event_id = :event AND r.status IN ('registered', 'checked_in')
"""


def _answer_filters(asked: list[Question]) -> tuple[list[str], dict[str, str]]:
    """The FILTER conditions, in order (per question: answered, then each option), and their
    parameters."""
    conditions: list[str] = []
    params: dict[str, str] = {}
    for q in asked:
        name = f"q{len(params)}"
        params[name] = q.id
        conditions.append(f"r.answers ? :{name}")
        if q.kind is QuestionKind.CHECKBOX:
            values: list[Any] = [True, False]
        elif q.kind is QuestionKind.MULTI_CHOICE:
            values = [[option] for option in q.options]
        else:
            values = list(q.options)
        for value in values:
            name = f"q{len(params)}"
            params[name] = json.dumps({q.id: value})
            conditions.append(f"r.answers @> CAST(:{name} AS jsonb)")
    return conditions, params


async def questions(session: AsyncSession, access: EventAccess) -> list[QuestionTotals]:
    asked = questions_of(access.event)
    if not asked:
        return []
    conditions, params = _answer_filters(asked)
    counts = ", ".join(f"count(*) FILTER (WHERE {c})" for c in conditions)
    (row,) = await fetch_rows(
        session, _ANSWERS.format(counts=counts), event=access.event.id, **params
    )
    numbers = iter(int(n) for n in row[0])
    totals = []
    for q in asked:
        answered = next(numbers)
        if q.kind is QuestionKind.CHECKBOX:
            options = [Count("Yes", next(numbers)), Count("No", next(numbers))]
        else:
            options = [Count(option, next(numbers)) for option in q.options]
        totals.append(QuestionTotals(q.id, q.label, q.kind.value, answered, options))
    return totals


# --- teams ----------------------------------------------------------------------------------

_TEAMS = """
SELECT t.member_count, count(*),
       count(*) FILTER (WHERE t.recruiting AND t.member_count < t.max_members)
FROM teams t WHERE t.event_id = :event AND t.disbanded_at IS NULL
GROUP BY 1 ORDER BY 1
"""


async def teams(session: AsyncSession, access: EventAccess) -> Teams:
    rows = await fetch_rows(session, _TEAMS, event=access.event.id)
    return Teams(
        [Count(str(size), int(n)) for size, n, _ in rows],
        sum(int(n) for _, n, _ in rows),
        sum(int(r) for _, _, r in rows),
    )


# --- submissions ----------------------------------------------------------------------------

_TRACKS = """
SELECT name, n FROM (
    SELECT 0 AS part, t.position, t.name, count(s.id) AS n
    FROM event_tracks t
    LEFT JOIN submissions s ON s.event_id = t.event_id AND s.submitted_at IS NOT NULL
        AND t.id = ANY(s.track_ids)
    WHERE t.event_id = :event
    GROUP BY t.id, t.position, t.name
    UNION ALL
    SELECT 1, 0, 'No track', count(*) FROM submissions s
    WHERE s.event_id = :event AND s.submitted_at IS NOT NULL AND cardinality(s.track_ids) = 0
) x ORDER BY part, position, name
"""

_STATUS = """
SELECT s.status, count(*),
       (SELECT count(*) FROM duplicate_flags d WHERE d.event_id = :event AND d.status = 'open'),
       (SELECT count(*) FROM judging_flags f WHERE f.event_id = :event AND f.status = 'open')
FROM submissions s WHERE s.event_id = :event
GROUP BY 1
"""

# The processing of each project's latest submitted version.
_PROCESSING = """
SELECT p.step, p.state, count(*)
FROM pipeline_steps p
JOIN submissions s ON s.id = p.submission_id AND s.latest_version_id = p.version_id
WHERE p.event_id = :event
GROUP BY 1, 2
"""

STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "under_review": "Under review",
    "approved": "Approved",
    "rejected": "Rejected",
    "disqualified": "Disqualified",
}
STEP_LABELS = {
    "validate_files": "Files checked",
    "extract_text": "Text extracted",
    "fetch_links": "Links fetched",
    "similarity": "Duplicates compared",
}
# In the order of the charts' palette (app.css: accent, amber, grey, green, red).
STATE_LABELS = {
    "running": "Running",
    "retrying": "Retrying",
    "queued": "Queued",
    "done": "Done",
    "failed": "Failed",
}


async def submissions(session: AsyncSession, access: EventAccess) -> Submissions:
    event = access.event.id
    tracks = [Count(name, int(n)) for name, n in await fetch_rows(session, _TRACKS, event=event)]
    status_rows = await fetch_rows(session, _STATUS, event=event)
    by_status = {status: int(n) for status, n, _, _ in status_rows}
    duplicates = int(status_rows[0][2]) if status_rows else 0
    flags = int(status_rows[0][3]) if status_rows else 0
    states = {
        (step, state): int(n)
        for step, state, n in await fetch_rows(session, _PROCESSING, event=event)
    }
    processing = [
        (
            label,
            [Count(STATE_LABELS[state], states.get((step, state), 0)) for state in STATE_LABELS],
        )
        for step, label in STEP_LABELS.items()
    ]
    return Submissions(
        tracks,
        [Count(label, by_status.get(status, 0)) for status, label in STATUS_LABELS.items()],
        sum(n for status, n in by_status.items() if status != "draft"),
        processing,
        duplicates,
        flags,
    )


# --- results --------------------------------------------------------------------------------

_PLACES = """
SELECT (x ->> 'rank')::int, x ->> 'title', x ->> 'team_name', (x ->> 'score')::float
FROM event_results r CROSS JOIN LATERAL jsonb_array_elements(r.ranking) x
WHERE r.event_id = :event AND (x ->> 'rank')::int <= :places
ORDER BY 1
"""


async def results(session: AsyncSession, access: EventAccess) -> list[Place] | None:
    """The published places (the frozen ranking) with each one's lead over the next; None
    while the results are not published."""
    if access.event.results_published_at is None:
        return None
    rows = await fetch_rows(session, _PLACES, event=access.event.id, places=RESULT_PLACES + 1)
    return [
        Place(
            int(rank_),
            title or "Untitled",
            team or "",
            float(score),
            float(score) - float(rows[i + 1][3]) if i + 1 < len(rows) else None,
        )
        for i, (rank_, title, team, score) in enumerate(rows[:RESULT_PLACES])
    ]


async def without_jit(session: AsyncSession) -> None:
    """Turn PostgreSQL's JIT compilation off for the rest of the transaction. The planner's cost
    estimates of these aggregates pass `jit_above_cost`, and compiling them took ~250 ms of a
    dashboard's ~300 (bench/dashboard.py) to save a few: they read thousands of rows, not
    millions."""
    await session.execute(text("SET LOCAL jit = off"))


async def dashboard(session: AsyncSession, access: EventAccess) -> Dashboard:
    """Every section of the event's dashboard (a fixed number of statements)."""
    await without_jit(session)
    return Dashboard(
        await timeline(session, access),
        await funnel(session, access),
        await questions(session, access),
        await teams(session, access),
        await submissions(session, access),
        await judging(session, access),
        await results(session, access),
    )
