"""The seed of bench/submissions_load.py and bench/perf.py: one organization with three
published events, in SQL (triggers off while loading, counters set explicitly).

- `deadline`: `deadline_teams` teams of two, each with a titled draft, closing tomorrow (the
  deadline phase moves the close);
- `throughput`: `throughput_teams` teams of one with drafts, closing tomorrow;
- `showcase`: `gallery` approved submissions with generated project texts, gallery open.

People are u<n>@<org>.example.com: deadline team k has people 2k-1 (captain) and 2k, then the
throughput teams' captains, then the showcase's. Everyone but the showcase's people has a
sign-in token '<org>-token-<n>'.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import psycopg
from common import add_organization

QUERIES = [
    "solar", "food waste", "accessibility", "mental health", "air quality", "open data",
    "volunteers", "recycling map", "sign language", "flood warning",
]  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    deadline_teams: int = 500
    throughput_teams: int = 1_000
    gallery: int = 5_000


DOMAINS = {
    "climate": ["solar", "carbon", "emissions", "heat", "flood", "warning", "energy", "grid"],
    "food": ["food", "waste", "surplus", "restaurants", "pantry", "recipes", "farmers", "market"],
    "health": ["mental", "health", "clinic", "therapy", "symptoms", "sleep", "steps", "nurses"],
    "access": ["accessibility", "sign", "language", "captions", "screen", "reader", "blind"],
    "civic": ["open", "data", "council", "budget", "volunteers", "neighbours", "petitions"],
    "city": ["air", "quality", "sensors", "bikes", "parking", "recycling", "map", "noise"],
    "learning": ["students", "tutors", "quizzes", "flashcards", "maths", "reading", "school"],
}
GENERIC = [
    "app", "platform", "tool", "dashboard", "service", "assistant", "tracker", "network", "bot",
    "community", "people", "local", "real-time", "simple", "private", "offline", "mobile",
    "friendly", "fast", "shared",
]  # fmt: skip
STACK = [
    "python", "rust", "go", "typescript", "react", "vue", "svelte", "django", "fastapi",
    "postgres", "redis", "docker", "pytorch", "flutter", "swift", "kotlin", "arduino",
]  # fmt: skip
SENTENCES = [
    "We built a {g} {g2} that helps {d} and {d2} work together.",
    "Our {g} uses {t} to turn {d} {d2} into something {g2} people can act on.",
    "The team noticed that {d} is hard to track, so we made it {g} and {g2}.",
    "It connects {d} with {d2} through a {g} {g2} anyone can use.",
    "During the weekend we tested it with {d} groups and fixed the {g} parts first.",
    "Next we want to add {d2} and make the {g2} {g} work offline.",
]


def project(rng: random.Random, n: int) -> tuple[str, str, str, list[str]]:
    """A title, tagline, description (4 to 9 sentences) and technologies for project `n`."""
    words = DOMAINS[rng.choice(list(DOMAINS))]

    def fill(template: str) -> str:
        return template.format(
            d=rng.choice(words),
            d2=rng.choice(words),
            g=rng.choice(GENERIC),
            g2=rng.choice(GENERIC),
            t=rng.choice(STACK),
        )

    title = f"{rng.choice(words).title()} {rng.choice(GENERIC).title()} {n}"
    tagline = fill("A {g} {g2} for {d} and {d2}")
    description = " ".join(fill(rng.choice(SENTENCES)) for _ in range(rng.randint(4, 9)))
    return title, tagline, description, sorted(set(rng.sample(STACK, rng.randint(1, 4))))


def seed(url: str, sizes: Sizes = Sizes()) -> dict[str, Any]:
    """The organization `bench`, committed and analyzed."""
    with psycopg.connect(url) as conn:
        seeded = seed_into(conn, sizes=sizes)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return seeded


def seed_into(
    conn: psycopg.Connection[Any], *, org: str = "bench", sizes: Sizes = Sizes()
) -> dict[str, Any]:
    """The organization `org` (module docstring); nothing committed. Returns the teams
    {(event, k): (team id, captain n, second member n)} and each query's hits in the showcase."""
    rng = random.Random(11)
    deadline, throughput, gallery = sizes.deadline_teams, sizes.throughput_teams, sizes.gallery
    args: dict[str, Any] = {"org": org, "domain": f"@{org}.example.com"}
    conn.execute("SET session_replication_role = replica")
    add_organization(conn, org)
    conn.execute(
        """
        INSERT INTO events (id, org_id, slug, name, visibility, published_at, starts_at,
                            submissions_close_at, team_max, gallery_opened_at)
        SELECT gen_random_uuid(), o.id, e.slug, initcap(e.slug), 'public',
               now() - interval '3 days', now() - interval '2 days', e.closes, 5, e.gallery
        FROM organizations o, (VALUES
          ('deadline', now() + interval '1 day', NULL::timestamptz),
          ('throughput', now() + interval '1 day', NULL),
          ('showcase', now() - interval '1 day', now())) AS e(slug, closes, gallery)
        WHERE o.slug = %(org)s
        """,
        args,
    )
    conn.execute(
        "CREATE TEMP TABLE ours ON COMMIT DROP AS SELECT e.id, e.org_id, e.slug FROM events e"
        " JOIN organizations o ON o.id = e.org_id WHERE o.slug = %(org)s",
        args,
    )
    # People n = 1..: deadline teams k have members 2k-1 (captain) and 2k; then the
    # throughput teams' captains; then the showcase's.
    conn.execute(
        "CREATE TEMP TABLE people ON COMMIT DROP AS SELECT g AS n, gen_random_uuid() AS id,"
        " CASE WHEN g <= %s THEN 'deadline' WHEN g <= %s THEN 'throughput'"
        " ELSE 'showcase' END AS event FROM generate_series(1, %s) g",
        (2 * deadline, 2 * deadline + throughput, 2 * deadline + throughput + gallery),
    )
    conn.execute(
        "INSERT INTO users (id, email, name, email_verified_at)"
        " SELECT id, 'u' || n || %(domain)s, 'User ' || n, now() FROM people",
        args,
    )
    conn.execute(
        "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
        " SELECT gen_random_uuid(), id, 'session',"
        " encode(sha256((%(org)s || '-token-' || n)::bytea), 'hex'), now() + interval '1 day'"
        " FROM people WHERE event <> 'showcase'",
        args,
    )
    conn.execute(
        "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
        " SELECT gen_random_uuid(), e.org_id, e.id, p.id, 'registered',"
        " upper(substr(md5(p.id::text), 1, 12)) FROM people p JOIN ours e ON e.slug = p.event"
    )
    conn.execute(
        """
        CREATE TEMP TABLE squads ON COMMIT DROP AS
        SELECT n AS k, 'deadline' AS event, n * 2 - 1 AS captain, n * 2 AS second
          FROM generate_series(1, %(d)s) n
        UNION ALL
        SELECT n, 'throughput', %(t0)s + n, NULL FROM generate_series(1, %(t)s) n
        UNION ALL
        SELECT n, 'showcase', %(g0)s + n, NULL FROM generate_series(1, %(g)s) n
        """,
        {
            "d": deadline,
            "t0": 2 * deadline,
            "t": throughput,
            "g0": 2 * deadline + throughput,
            "g": gallery,
        },
    )
    conn.execute("ALTER TABLE squads ADD COLUMN id uuid DEFAULT gen_random_uuid()")
    conn.execute(
        """
        INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, member_count,
                           max_members)
        SELECT s.id, e.org_id, e.id, 'Team ' || s.k, c.id,
               upper(substr(md5(s.id::text), 1, 12)),
               CASE WHEN s.second IS NULL THEN 1 ELSE 2 END, 5
        FROM squads s JOIN ours e ON e.slug = s.event JOIN people c ON c.n = s.captain
        """
    )
    conn.execute(
        """
        INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)
        SELECT gen_random_uuid(), e.org_id, e.id, s.id, p.id,
               CASE WHEN p.n = s.captain THEN 'captain' ELSE 'member' END
        FROM squads s JOIN ours e ON e.slug = s.event
        JOIN people p ON p.n IN (s.captain, s.second)
        """
    )
    conn.execute(
        """
        INSERT INTO submissions (id, org_id, event_id, team_id, title, tagline, description)
        SELECT gen_random_uuid(), e.org_id, e.id, s.id, 'Project ' || s.k,
               'Our entry', 'A draft written before the rush.'
        FROM squads s JOIN ours e ON e.slug = s.event WHERE s.event <> 'showcase'
        """
    )
    conn.execute(
        "CREATE TEMP TABLE texts (k int, title text, tagline text, description text,"
        " technologies varchar(64)[]) ON COMMIT DROP"
    )
    with conn.cursor() as cur, cur.copy("COPY texts FROM STDIN") as copy:
        for k in range(1, gallery + 1):
            title, tagline, description, stack = project(rng, k)
            copy.write_row((k, title, tagline, description, stack))
    conn.execute(
        """
        INSERT INTO submissions (id, org_id, event_id, team_id, status, title, tagline,
                                 description, description_html, technologies, version_count,
                                 submitted_at, decided_at)
        SELECT gen_random_uuid(), e.org_id, e.id, s.id, 'approved', x.title, x.tagline,
               x.description, '<p>' || x.description || '</p>', x.technologies, 1,
               now() - interval '2 days' + s.k * interval '1 second', now() - interval '1 day'
        FROM squads s JOIN ours e ON e.slug = s.event JOIN texts x ON x.k = s.k
        WHERE s.event = 'showcase'
        """
    )
    conn.execute(
        """
        WITH v AS (
          INSERT INTO submission_versions (id, org_id, event_id, submission_id, number,
                                           snapshot, submitted_at)
          SELECT gen_random_uuid(), s.org_id, s.event_id, s.id, 1,
                 jsonb_build_object('title', s.title, 'tagline', s.tagline), s.submitted_at
          FROM submissions s JOIN ours e ON e.id = s.event_id WHERE e.slug = 'showcase'
          RETURNING id, submission_id
        )
        UPDATE submissions s SET latest_version_id = v.id FROM v WHERE v.submission_id = s.id
        """
    )
    conn.execute(
        "UPDATE events e SET registered_count = (SELECT count(*) FROM registrations r"
        " WHERE r.event_id = e.id) WHERE e.id IN (SELECT id FROM ours)"
    )
    teams = {
        (event, k): (str(team_id), captain, second)
        for event, k, team_id, captain, second in conn.execute(
            "SELECT event, k, id, captain, second FROM squads"
        )
    }
    hits = {
        q: conn.execute(
            "SELECT count(*) FROM submissions s JOIN ours e ON e.id = s.event_id"
            " WHERE e.slug = 'showcase' AND s.search @@ websearch_to_tsquery('english', %s)",
            (q,),
        ).fetchone()[0]  # type: ignore[index]
        for q in QUERIES
    }
    conn.execute("SET session_replication_role = origin")
    # The triggers that keep the public gallery's entries were off too (migration 0034).
    conn.execute("SELECT gallery_sync(id, NULL) FROM events WHERE slug = 'showcase'")
    return {"teams": teams, "query_hits": hits}
