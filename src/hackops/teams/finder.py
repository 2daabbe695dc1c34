"""The team finder: people looking for a team and teams looking for people, and the finder
profile (looking-for-team, skills, note) on a participant's registration.

Ranking, both ways: first whether the skill arrays overlap at all (`&&`), then how many
skills match, then text relevance (`ts_rank` on teams.search for teams; on the person's name and
note for people), then age and id so pages are stable. Skills are stored case-folded (see
`schemas.normalize_skills`), so equality is enough to match them. The SQL is written out: the
ranking expressions are easier to read, and to check with EXPLAIN, than their expression-builder
form. Only fixed fragments are joined; every value is bound.

Row-level security: `@@`, `&&` and `@>` are not leakproof, so under the tenant's policy they are
filters, never GIN index conditions; the event's teams and registrations come from the
leakproof `event_id` btree indexes instead (a few hundred rows per event: ~2 ms at 100,000 people,
EXPLAIN ANALYZE as the app's role). The caller's own team is looked up inside the statement.

A match becomes a membership through an invitation or a join request: see recruiting.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import NotFound
from hackops.events.access import EventAccess
from hackops.models import SEATED, Registration, Team, TeamMember
from hackops.teams.access import TeamNotFound, is_participant, signed_in
from hackops.teams.limits import NotRegistered
from hackops.teams.schemas import FinderProfileIn

MAX_PAGE = 50
SUGGESTIONS = 10


class FinderNotFound(NotFound):
    code = "registration_not_found"
    message = "Register for the event to use the team finder."


@dataclass(frozen=True)
class TeamRow:
    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    description: str
    captain_id: uuid.UUID
    recruiting: bool
    skills_wanted: list[str]
    member_count: int
    max_members: int
    created_at: datetime
    matching_skills: list[str]
    rank: float


@dataclass(frozen=True)
class PersonRow:
    user_id: uuid.UUID
    name: str
    skills: list[str]
    note: str
    matching_skills: list[str]
    rank: float


TEAM_FIELDS = tuple(TeamRow.__dataclass_fields__)
PERSON_FIELDS = tuple(PersonRow.__dataclass_fields__)


def require_finder_access(access: EventAccess) -> None:
    """Participants (registered or checked in), organizers and mentors; anyone else (a judge
    included: they see only the teams they judge) 404."""
    if not access.sees_every_team and not is_participant(access):
        raise FinderNotFound


async def update_profile(
    session: AsyncSession, access: EventAccess, body: FinderProfileIn
) -> Registration:
    """Set looking-for-team, skills and note on the caller's own registration."""
    signed_in(access)
    registration = access.registration
    if registration is None:
        raise FinderNotFound
    if registration.status not in SEATED:
        raise NotRegistered
    fields = {"looking_for_team": "looking_for_team", "skills": "skills", "note": "finder_note"}
    applied = {fields[k]: v for k, v in body.changes().items() if k in fields and v is not None}
    for column, value in applied.items():
        setattr(registration, column, value)
    await session.flush()
    await record(
        session,
        access.actor,
        "registration.finder_updated",
        resource_type="registration",
        resource_id=registration.id,
        org_id=registration.org_id,
        details={"fields": sorted(applied)},
    )
    return registration


QUERY = """
    (SELECT CASE WHEN :q = '' THEN NULL
            ELSE websearch_to_tsquery('english', :q) || websearch_to_tsquery('simple', :q)
            END AS query) AS q
"""

TEAMS_SQL = """
SELECT * FROM (
  SELECT t.id, t.event_id, t.name, t.description, t.captain_id, t.recruiting,
         t.skills_wanted, t.member_count, t.max_members, t.created_at,
         ARRAY(SELECT s FROM unnest(t.skills_wanted) AS s WHERE s = ANY(:mine))
           AS matching_skills,
         (t.skills_wanted && CAST(:mine AS varchar[])) AS has_overlap,
         coalesce(ts_rank(t.search, q.query), 0) AS rank
  FROM teams AS t, {query}
  WHERE t.event_id = :event_id AND t.disbanded_at IS NULL {filters}
) AS ranked
ORDER BY has_overlap DESC, cardinality(matching_skills) DESC, rank DESC, created_at, id
LIMIT :limit OFFSET :offset
"""

PEOPLE_SQL = """
SELECT * FROM (
  SELECT r.user_id, u.name, r.skills, r.finder_note AS note, r.created_at,
         ARRAY(SELECT s FROM unnest(r.skills) AS s WHERE s = ANY(:wanted)) AS matching_skills,
         (r.skills && CAST(:wanted AS varchar[])) AS has_overlap,
         coalesce(ts_rank(to_tsvector('simple', u.name || ' ' || r.finder_note), q.query), 0)
           AS rank
  FROM registrations AS r JOIN users AS u ON u.id = r.user_id, {query}
  WHERE r.event_id = :event_id
    AND r.status IN ('registered', 'checked_in')
    AND r.looking_for_team
    AND u.deleted_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM team_members AS m WHERE m.event_id = r.event_id AND m.user_id = r.user_id
    )
    AND r.user_id <> :me {filters}
) AS ranked
ORDER BY has_overlap DESC, cardinality(matching_skills) DESC, rank DESC, created_at, user_id
LIMIT :limit OFFSET :offset
"""


#: The caller's own team is left out of "teams for me", looked up in the same statement.
NOT_MY_TEAM = """AND t.id IS DISTINCT FROM (
      SELECT m.team_id FROM team_members AS m WHERE m.event_id = :event_id AND m.user_id = :me
    )"""


def _me(access: EventAccess) -> uuid.UUID:
    """The caller's id (a nil id, which matches no one, for an anonymous caller)."""
    return access.actor.user.id if access.actor.user is not None else uuid.UUID(int=0)


async def _my_team(
    session: AsyncSession, access: EventAccess
) -> tuple[uuid.UUID, list[str]] | None:
    """The caller's team in this event and the skills it wants, in one statement."""
    row = (
        await session.execute(
            select(Team.id, Team.skills_wanted)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.event_id == access.event.id, TeamMember.user_id == _me(access))
        )
    ).first()
    return (row[0], list(row[1] or [])) if row is not None else None


async def search_teams(
    session: AsyncSession,
    access: EventAccess,
    *,
    q: str = "",
    skill: str | None = None,
    recruiting_only: bool = True,
    with_room_only: bool = False,
    overlap_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[TeamRow]:
    """Teams for me, ranked by how many of my finder skills they want."""
    require_finder_access(access)
    mine = list(access.registration.skills) if access.registration is not None else []
    filters = [NOT_MY_TEAM]
    if recruiting_only:
        filters.append("AND t.recruiting")
    if with_room_only:
        filters.append("AND t.member_count < t.max_members")
    if skill:
        filters.append("AND t.skills_wanted @> ARRAY[CAST(:skill AS varchar)]")
    if q:
        filters.append("AND t.search @@ q.query")
    if overlap_only:
        filters.append("AND t.skills_wanted && CAST(:mine AS varchar[])")
    sql = TEAMS_SQL.format(query=QUERY, filters=" ".join(filters))
    rows = await session.execute(
        text(sql),
        {
            "event_id": access.event.id,
            "mine": mine,
            "q": q,
            "skill": skill or "",
            "me": _me(access),
            "limit": min(limit, MAX_PAGE),
            "offset": offset,
        },
    )
    return [TeamRow(**{k: row._mapping[k] for k in TEAM_FIELDS}) for row in rows]


async def search_people(
    session: AsyncSession,
    access: EventAccess,
    *,
    q: str = "",
    skill: str | None = None,
    overlap_only: bool = False,
    require_team: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[PersonRow]:
    """People looking for a team (not on one), ranked by how many of my team's wanted skills
    they have."""
    require_finder_access(access)
    mine = await _my_team(session, access)
    if mine is None and require_team:
        raise TeamNotFound("You are not on a team in this event.")
    wanted = mine[1] if mine is not None else []
    filters = []
    if skill:
        filters.append("AND r.skills @> ARRAY[CAST(:skill AS varchar)]")
    if q:
        filters.append("AND to_tsvector('simple', u.name || ' ' || r.finder_note) @@ q.query")
    if overlap_only:
        filters.append("AND r.skills && CAST(:wanted AS varchar[])")
    sql = PEOPLE_SQL.format(query=QUERY, filters=" ".join(filters))
    rows = await session.execute(
        text(sql),
        {
            "event_id": access.event.id,
            "wanted": wanted,
            "q": q,
            "skill": skill or "",
            "me": _me(access),
            "limit": min(limit, MAX_PAGE),
            "offset": offset,
        },
    )
    return [PersonRow(**{k: row._mapping[k] for k in PERSON_FIELDS}) for row in rows]


async def suggest_teams(session: AsyncSession, access: EventAccess) -> list[TeamRow]:
    """Recruiting teams with a free seat that want at least one of my skills, best first."""
    return await search_teams(
        session,
        access,
        recruiting_only=True,
        with_room_only=True,
        overlap_only=True,
        limit=SUGGESTIONS,
    )


async def suggest_people(session: AsyncSession, access: EventAccess) -> list[PersonRow]:
    """People looking for a team who have at least one skill my team wants, best first."""
    return await search_people(
        session, access, overlap_only=True, require_team=True, limit=SUGGESTIONS
    )
