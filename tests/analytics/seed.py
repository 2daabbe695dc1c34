"""A busy event for the dashboard, made in SQL (set-based, seconds for thousands of rows): its
registrations over 30 days with answers to three questions, teams of 1 to 5, projects in tracks
with a version and its processing steps, judges with assignments and submitted evaluations
(planted judge leniency), and a few open duplicate flags. Used by the query-count test (two
sizes) and `bench/dashboard.py` (5,000 registrations, 1,200 teams, 900 projects, 40 judges).

The event must exist and be the session's tenant; every row goes through the real triggers
(seat and member counters, the judging version, the conflict check).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

QUESTIONS = [
    {"id": "tshirt", "kind": "choice", "label": "T-shirt size", "options": ["S", "M", "L", "XL"]},
    {
        "id": "diet",
        "kind": "multi_choice",
        "label": "Dietary needs",
        "options": ["Vegetarian", "Vegan", "Gluten-free", "Halal"],
    },
    {"id": "photos", "kind": "checkbox", "label": "Photos of me are fine"},
    {"id": "note", "kind": "text", "label": "Anything else?"},
]


@dataclass(frozen=True)
class Size:
    registrations: int
    teams: int
    submissions: int
    judges: int
    per_submission: int = 3  # judges assigned to each submitted project


SMALL = Size(registrations=60, teams=12, submissions=8, judges=4)
BENCH = Size(registrations=5000, teams=1200, submissions=900, judges=40)


_STATEMENTS = [
    """
    UPDATE events SET questions = CAST(:questions AS jsonb), capacity = NULL,
        team_min = 1, team_max = 5
    WHERE id = :event
    """,
    # People: participants p1..pN and judges j1..jM (addresses unique per event).
    """
    INSERT INTO users (id, email, name, email_verified_at)
    SELECT gen_random_uuid(), 'p' || g || '-' || :tag || '@dash.example.com', 'Participant ' || g,
           now()
    FROM generate_series(1, :registrations) g
    """,
    """
    INSERT INTO users (id, email, name, email_verified_at)
    SELECT gen_random_uuid(), 'j' || g || '-' || :tag || '@dash.example.com',
           'Judge ' || lpad(g::text, 2, '0'), now()
    FROM generate_series(1, :judges) g
    """,
    # Registrations over 30 days: 2% cancelled, the last 5% waitlisted, 30% checked in; one in
    # ten imported; answers to every question but the free text for most.
    """
    INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code, answers,
                               source, looking_for_team, created_at)
    SELECT gen_random_uuid(), :org, :event, u.id,
           CASE WHEN n % 50 = 0 THEN 'cancelled'
                WHEN n > :registrations * 0.95 THEN 'waitlisted'
                WHEN n % 10 < 3 THEN 'checked_in' ELSE 'registered' END,
           upper(substr(md5(u.id::text || :tag), 1, 12)),
           jsonb_build_object(
               'tshirt', (ARRAY['S', 'M', 'L', 'XL'])[1 + n % 4],
               'diet', CASE n % 5 WHEN 0 THEN '["Vegetarian"]'::jsonb
                                  WHEN 1 THEN '["Vegan", "Gluten-free"]'::jsonb
                                  ELSE '[]'::jsonb END,
               'photos', n % 3 <> 0)
           || CASE WHEN n % 7 = 0 THEN jsonb_build_object('note', 'Arriving late') ELSE '{}' END,
           CASE WHEN n % 10 = 0 THEN 'import' ELSE 'self' END,
           n % 4 = 0,
           now() - interval '30 days' + (n::float / :registrations) * interval '29 days'
    FROM (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users
          WHERE email LIKE 'p%-' || :tag || '@dash.example.com') u
    ORDER BY n
    """,
    # Full now: the capacity is the seats taken (the waitlisted wait for one).
    "UPDATE events SET capacity = registered_count WHERE id = :event",
    # Teams: the first seated people are captains; the next ones join teams of 2 to 5.
    """
    WITH seated AS (
        SELECT user_id, row_number() OVER (ORDER BY queue_seq) AS n FROM registrations
        WHERE event_id = :event AND status IN ('registered', 'checked_in')
    ), created AS (
        INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members,
                           recruiting)
        SELECT gen_random_uuid(), :org, :event, 'Team ' || n, user_id,
               upper(substr(md5(user_id::text || 'team'), 1, 12)), 5, n % 3 = 0
        FROM seated WHERE n <= :teams
        RETURNING id, captain_id
    )
    INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)
    SELECT gen_random_uuid(), :org, :event, id, captain_id, 'captain' FROM created
    """,
    """
    WITH teams_n AS (
        SELECT id, row_number() OVER (ORDER BY name) - 1 AS i FROM teams WHERE event_id = :event
    ), free AS (
        SELECT r.user_id, row_number() OVER (ORDER BY r.queue_seq) - 1 AS k
        FROM registrations r
        WHERE r.event_id = :event AND r.status IN ('registered', 'checked_in')
          AND NOT EXISTS (SELECT 1 FROM team_members m
                          WHERE m.event_id = r.event_id AND m.user_id = r.user_id)
    )
    INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)
    SELECT gen_random_uuid(), :org, :event, t.id, f.user_id, 'member'
    FROM free f JOIN teams_n t ON t.i = f.k % :teams
    WHERE f.k / :teams < 1 + t.i % 4
    """,
    """
    INSERT INTO event_tracks (id, org_id, event_id, name, position)
    SELECT gen_random_uuid(), :org, :event, name, position
    FROM (VALUES ('Health', 1), ('Climate', 2), ('Education', 3), ('Open data', 4))
         v(name, position)
    """,
    # Projects: one in 20 still a draft; the rest submitted, a fifth approved, some in review.
    """
    WITH teams_n AS (
        SELECT id, row_number() OVER (ORDER BY name) AS n FROM teams WHERE event_id = :event
    ), tracks AS (
        SELECT array_agg(id ORDER BY position) AS ids FROM event_tracks WHERE event_id = :event
    )
    INSERT INTO submissions (id, org_id, event_id, team_id, status, title, track_ids,
                             submitted_at, version_count)
    SELECT gen_random_uuid(), :org, :event, t.id,
           CASE WHEN n % 20 = 0 THEN 'draft' WHEN n % 5 = 0 THEN 'approved'
                WHEN n % 7 = 0 THEN 'under_review' ELSE 'submitted' END,
           'Project ' || n,
           CASE WHEN n % 6 = 0 THEN '{}'::uuid[] ELSE ARRAY[tracks.ids[1 + n % 4]] END,
           CASE WHEN n % 20 = 0 THEN NULL ELSE now() - interval '1 day' END,
           CASE WHEN n % 20 = 0 THEN 0 ELSE 1 END
    FROM teams_n t, tracks WHERE n <= :submissions
    """,
    """
    WITH versions AS (
        INSERT INTO submission_versions (id, org_id, event_id, submission_id, number, snapshot)
        SELECT gen_random_uuid(), org_id, event_id, id, 1, jsonb_build_object('title', title)
        FROM submissions WHERE event_id = :event AND submitted_at IS NOT NULL
        RETURNING id, submission_id
    ), linked AS (
        UPDATE submissions s SET latest_version_id = v.id FROM versions v
        WHERE s.id = v.submission_id RETURNING s.id, v.id AS version_id, s.title
    )
    INSERT INTO pipeline_steps (id, org_id, event_id, submission_id, version_id, step, state)
    SELECT gen_random_uuid(), :org, :event, l.id, l.version_id, step,
           CASE WHEN step = 'similarity' AND right(l.title, 1) IN ('3', '7') THEN 'queued'
                WHEN step = 'fetch_links' AND right(l.title, 2) = '11' THEN 'failed'
                ELSE 'done' END
    FROM linked l,
         unnest(ARRAY['validate_files', 'extract_text', 'fetch_links', 'similarity']) step
    """,
    """
    WITH subs AS (
        SELECT id, row_number() OVER (ORDER BY title) AS n FROM submissions
        WHERE event_id = :event AND submitted_at IS NOT NULL
    )
    INSERT INTO duplicate_flags (id, org_id, event_id, submission_id, other_submission_id, kind,
                                 score)
    SELECT gen_random_uuid(), :org, :event, a.id, b.id, 'text', 0.85
    FROM subs a JOIN subs b ON b.n = a.n + 1 WHERE a.n % 97 = 1
    """,
    """
    INSERT INTO judging_criteria (id, org_id, event_id, name, weight, max_score, position)
    SELECT gen_random_uuid(), :org, :event, name, weight, 10, position
    FROM (VALUES ('Impact', 2.0, 1), ('Execution', 1.0, 2), ('Presentation', 1.0, 3))
         v(name, weight, position)
    """,
    """
    INSERT INTO event_roles (id, org_id, event_id, user_id, role)
    SELECT gen_random_uuid(), :org, :event, id, 'judge' FROM users
    WHERE email LIKE 'j%-' || :tag || '@dash.example.com'
    """,
    """
    WITH subs AS (
        SELECT id, row_number() OVER (ORDER BY title) - 1 AS n FROM submissions
        WHERE event_id = :event AND submitted_at IS NOT NULL
    ), judges AS (
        SELECT user_id, row_number() OVER (ORDER BY user_id) - 1 AS j FROM event_roles
        WHERE event_id = :event AND role = 'judge'
    )
    INSERT INTO judge_assignments (id, org_id, event_id, judge_id, submission_id)
    SELECT gen_random_uuid(), :org, :event, judges.user_id, subs.id
    FROM subs CROSS JOIN generate_series(0, :per_submission - 1) r
    JOIN judges ON judges.j = (subs.n + r * greatest(1, :judges / :per_submission)) % :judges
    """,
    # Four in five assignments evaluated: quality per project, a leniency per judge (-2..+2
    # points out of 10), a little noise; raw score as the service computes it (weighted mean).
    """
    WITH facts AS (
        SELECT a.judge_id, a.submission_id, s.team_id,
               (abs(hashtext(s.id::text)) % 600) / 100.0 + 2 AS quality,
               (abs(hashtext(a.judge_id::text)) % 5) - 2 AS lenient,
               row_number() OVER (ORDER BY a.id) AS n
        FROM judge_assignments a JOIN submissions s ON s.id = a.submission_id
        WHERE a.event_id = :event
    ), scored AS (
        SELECT f.*, c.id AS criterion, c.weight,
               least(10, greatest(0, round(f.quality + f.lenient
                     + (abs(hashtext(f.n::text || c.name)) % 3) - 1))) AS score
        FROM facts f JOIN judging_criteria c ON c.event_id = :event
        WHERE f.n % 5 <> 0
    )
    INSERT INTO evaluations (id, org_id, event_id, judge_id, submission_id, team_id, scores,
                             raw_score, status, submitted_at)
    SELECT gen_random_uuid(), :org, :event, judge_id, submission_id, team_id,
           jsonb_object_agg(criterion::text, score),
           round((100 * sum(weight * score / 10) / sum(weight))::numeric, 4),
           'submitted', now()
    FROM scored GROUP BY judge_id, submission_id, team_id
    """,
]


async def seed_event(
    session: AsyncSession | AsyncConnection, org_id: uuid.UUID, event_id: uuid.UUID, size: Size
) -> None:
    """Fill the event with `size` (it must be empty; the session's tenant is its org)."""
    params = {
        "org": org_id,
        "event": event_id,
        "tag": event_id.hex[:12],
        "questions": json.dumps(QUESTIONS),
        "registrations": size.registrations,
        "teams": size.teams,
        "submissions": size.submissions,
        "judges": size.judges,
        "per_submission": size.per_submission,
    }
    for statement in _STATEMENTS:
        await session.execute(text(statement), params)


_PUBLISH = """
WITH ranked AS (
    SELECT s.id, s.title, t.name AS team_name, avg(e.raw_score) AS score
    FROM submissions s JOIN teams t ON t.id = s.team_id
    JOIN evaluations e ON e.submission_id = s.id AND e.status = 'submitted'
    WHERE s.event_id = :event GROUP BY s.id, s.title, t.name
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY score DESC, id) AS rank FROM ranked
), frozen AS (
    INSERT INTO event_results (event_id, org_id, method, ranking, winners)
    SELECT :event, :org, 'raw_mean',
           coalesce(jsonb_agg(jsonb_build_object('rank', rank, 'submission_id', id,
                    'title', title, 'team_name', team_name, 'score', round(score::numeric, 4))
                    ORDER BY rank), '[]'::jsonb),
           '[]'::jsonb
    FROM numbered
    RETURNING event_id
)
UPDATE events SET results_published_at = now() WHERE id IN (SELECT event_id FROM frozen)
"""


async def publish_results(session: AsyncSession, org_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Freeze a ranking by raw mean as `event_results` and mark the results published (what the
    dashboard reads after publication; the real publishing is `results.service.publish`)."""
    await session.execute(text(_PUBLISH), {"org": org_id, "event": event_id})
