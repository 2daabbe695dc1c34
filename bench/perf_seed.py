"""The data of bench/perf.py, in one database, seeded in SQL by the benches that own each part.

- organization `people` (events_load.seed_into): 100,000 people, 20 published events, 60,000
  registrations, 10,000 teams; event-01 dressed as a launch page (a description of a few
  paragraphs, three tracks, three awards) for the public event page; the 40,000 people not
  registered anywhere register for event-20;
- organization `projects` (submissions_seed.seed_into): `deadline` (5,000 teams of two),
  `throughput` (1,000 teams; submit and task create), `showcase` (5,000 approved projects, gallery
  open: search);
- organization `jury` (exports.seed_event): `judging` (300 submitted projects, 30 judges, 900
  assignments and evaluations, judging open: evaluation upsert) and `finale` (150 ranked
  projects, results published: the results JSON).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import events_load
import submissions_seed
from common import add_organization

import exports

PEOPLE, PROJECTS, JURY = "people", "projects", "jury"
LAUNCH = "event-01"  # the public event page's event (PEOPLE)
JUDGE_TOKEN = "jury-judge-"  # + the judge's user id


@dataclass(frozen=True)
class Scale:
    users: int = events_load.USERS
    registered: int = events_load.REGISTERED
    teams: int = events_load.TEAMS
    projects: submissions_seed.Sizes = field(
        default_factory=lambda: submissions_seed.Sizes(5_000, 1_000, 5_000)
    )
    judging: dict[str, int] = field(
        default_factory=lambda: {"people": 900, "teams": 300, "submissions": 300, "judges": 30}
    )
    finale: dict[str, int] = field(
        default_factory=lambda: {"people": 600, "teams": 200, "submissions": 150, "judges": 15}
    )


@dataclass
class Seeded:
    teams: dict[Any, Any]  # submissions_seed's {(event, k): (team id, captain n, second n)}
    query_hits: dict[str, int]
    evaluations: list[tuple[str, str]]  # (judge's token, submission id), every assignment
    criteria: list[str]  # the judging event's criteria ids
    seconds: dict[str, float]  # how long each part took to seed


DESCRIPTION = (
    "Forty-eight hours to build something your city needs.\n\n"
    "Bring a team or find one here: designers, developers, data people and domain experts"
    " work side by side. Mentors walk the floor on both days, and the jury reads every"
    " project in the gallery before the finale.\n\n"
    "Food, power and fast internet are on us. Projects stay yours; open licences encouraged."
)


def dress_launch(conn: psycopg.Connection[Any]) -> None:
    """event-01 of PEOPLE as an announced event: a description, three tracks and awards."""
    html = "".join(f"<p>{p}</p>" for p in DESCRIPTION.split("\n\n"))
    event = (
        "(SELECT e.id FROM events e JOIN organizations o ON o.id = e.org_id"
        " WHERE o.slug = %(org)s AND e.slug = %(event)s)"
    )
    args = {"org": PEOPLE, "event": LAUNCH, "description": DESCRIPTION, "html": html}
    conn.execute(
        "UPDATE events SET description = %(description)s, description_html = %(html)s,"
        " venue = 'Town hall', mode = 'hybrid', timezone = 'Europe/Berlin',"
        " registration_closes_at = now() + interval '20 days',"
        " starts_at = now() + interval '21 days',"
        " submissions_close_at = now() + interval '23 days'"
        f" WHERE id = {event}",
        args,
    )
    conn.execute(
        "INSERT INTO event_tracks (id, org_id, event_id, name, description, position)"
        f" SELECT gen_random_uuid(), e.org_id, e.id, t.name, t.name || ' for everyone', t.pos"
        " FROM events e, (VALUES ('Mobility', 0), ('Health', 1), ('Open data', 2)) t(name, pos)"
        f" WHERE e.id = {event}",
        args,
    )
    conn.execute(
        "INSERT INTO event_awards (id, org_id, event_id, track_id, name, prize, position)"
        " SELECT gen_random_uuid(), t.org_id, t.event_id, t.id, 'Best in ' || t.name,"
        " '1,000 EUR', t.position FROM event_tracks t"
        f" WHERE t.event_id = {event}",
        args,
    )


def seed_jury(
    conn: psycopg.Connection[Any], scale: Scale
) -> tuple[list[tuple[str, str]], list[str]]:
    """The jury's two events, a token per judge of `judging`; its (token, submission) pairs."""
    add_organization(conn, JURY)
    exports.seed_event(conn, "judging", scale.judging, org_slug=JURY, published=False)
    exports.seed_event(conn, "finale", scale.finale, org_slug=JURY, published=True)
    judging = (
        "(SELECT e.id FROM events e JOIN organizations o ON o.id = e.org_id"
        " WHERE o.slug = %(org)s AND e.slug = 'judging')"
    )
    args = {"org": JURY, "prefix": JUDGE_TOKEN}
    conn.execute(
        "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
        " SELECT gen_random_uuid(), r.user_id, 'session',"
        " encode(sha256((%(prefix)s || r.user_id)::bytea), 'hex'), now() + interval '1 day'"
        f" FROM event_roles r WHERE r.event_id = {judging} AND r.role = 'judge'",
        args,
    )
    pairs = [
        (f"{JUDGE_TOKEN}{judge}", str(submission))
        for judge, submission in conn.execute(
            f"SELECT judge_id, submission_id FROM judge_assignments WHERE event_id = {judging}"
            " ORDER BY submission_id, judge_id",
            args,
        )
    ]
    criteria = [
        str(c)
        for (c,) in conn.execute(
            f"SELECT id FROM judging_criteria WHERE event_id = {judging} ORDER BY position", args
        )
    ]
    return pairs, criteria


def seed(url: str, scale: Scale) -> Seeded:
    """Everything (module docstring), committed, then VACUUM ANALYZE; each part timed."""
    seconds: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        seconds[name] = round(time.perf_counter() - mark, 1)
        mark = time.perf_counter()

    with psycopg.connect(url) as conn:
        events_load.seed_into(
            conn, org=PEOPLE, users=scale.users, registered=scale.registered, teams=scale.teams
        )
        dress_launch(conn)
        lap(PEOPLE)
        projects = submissions_seed.seed_into(conn, org=PROJECTS, sizes=scale.projects)
        lap(PROJECTS)
        evaluations, criteria = seed_jury(conn, scale)  # with triggers on, as exports.py
        conn.commit()
        lap(JURY)
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        lap("vacuum_analyze")
    return Seeded(projects["teams"], projects["query_hits"], evaluations, criteria, seconds)
