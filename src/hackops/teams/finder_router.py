"""Team finder API, under an event: my finder profile, teams and people matching my skills, and
suggestions. Included right after `teams.router` (same prefix and tag)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from hackops.db import SessionDep
from hackops.events.deps import EventDep
from hackops.routing import Router
from hackops.teams import finder
from hackops.teams.router import READ_ERRORS, WRITE_ERRORS, Limit, Offset
from hackops.teams.schemas import (
    FinderProfileIn,
    FinderProfileOut,
    PersonMatch,
    PersonMatchPage,
    TeamMatch,
    TeamMatchPage,
    TeamOut,
)

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["teams"],
)

SearchText = Annotated[str, Query(max_length=200)]
SkillFilter = Annotated[str | None, Query(min_length=1, max_length=64)]


def team_match(row: finder.TeamRow) -> TeamMatch:
    return TeamMatch(
        team=TeamOut(
            id=row.id,
            event_id=row.event_id,
            name=row.name,
            description=row.description,
            captain_id=row.captain_id,
            recruiting=row.recruiting,
            skills_wanted=row.skills_wanted,
            member_count=row.member_count,
            max_members=row.max_members,
            created_at=row.created_at,
        ),
        matching_skills=row.matching_skills,
        overlap=len(row.matching_skills),
        rank=row.rank,
    )


def person_match(row: finder.PersonRow) -> PersonMatch:
    return PersonMatch(
        user_id=row.user_id,
        name=row.name,
        skills=row.skills,
        note=row.note,
        matching_skills=row.matching_skills,
        overlap=len(row.matching_skills),
        rank=row.rank,
    )


@router.get(
    "/finder/me",
    response_model=FinderProfileOut,
    summary="My team-finder profile (on my registration)",
    responses=READ_ERRORS,
)
async def get_finder_profile(access: EventDep) -> FinderProfileOut:
    registration = access.registration
    if registration is None:
        raise finder.FinderNotFound
    return FinderProfileOut(
        looking_for_team=registration.looking_for_team,
        skills=registration.skills,
        note=registration.finder_note,
    )


@router.patch(
    "/finder/me",
    response_model=FinderProfileOut,
    summary="Say whether I look for a team, with which skills and a note",
    responses=WRITE_ERRORS,
)
async def update_finder_profile(
    body: FinderProfileIn, session: SessionDep, access: EventDep
) -> FinderProfileOut:
    registration = await finder.update_profile(session, access, body)
    return FinderProfileOut(
        looking_for_team=registration.looking_for_team,
        skills=registration.skills,
        note=registration.finder_note,
    )


@router.get(
    "/finder/teams",
    response_model=TeamMatchPage,
    summary="Teams for me: ranked by skill overlap with my skills, then text relevance",
    responses=READ_ERRORS,
)
async def find_teams(
    session: SessionDep,
    access: EventDep,
    q: SearchText = "",
    skill: SkillFilter = None,
    recruiting: bool = True,
    limit: Limit = 20,
    offset: Offset = 0,
) -> TeamMatchPage:
    rows = await finder.search_teams(
        session,
        access,
        q=q.strip(),
        skill=skill.strip().casefold() if skill else None,
        recruiting_only=recruiting,
        limit=limit,
        offset=offset,
    )
    return TeamMatchPage(items=[team_match(r) for r in rows], limit=limit, offset=offset)


@router.get(
    "/finder/people",
    response_model=PersonMatchPage,
    summary="People looking for a team: ranked by overlap with my team's wanted skills",
    responses=READ_ERRORS,
)
async def find_people(
    session: SessionDep,
    access: EventDep,
    q: SearchText = "",
    skill: SkillFilter = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> PersonMatchPage:
    rows = await finder.search_people(
        session,
        access,
        q=q.strip(),
        skill=skill.strip().casefold() if skill else None,
        limit=limit,
        offset=offset,
    )
    return PersonMatchPage(items=[person_match(r) for r in rows], limit=limit, offset=offset)


@router.get(
    "/finder/suggestions/teams",
    response_model=list[TeamMatch],
    summary="Suggested teams for me (recruiting, a free seat, wanting my skills)",
    responses=READ_ERRORS,
)
async def suggested_teams(session: SessionDep, access: EventDep) -> list[TeamMatch]:
    return [team_match(r) for r in await finder.suggest_teams(session, access)]


@router.get(
    "/finder/suggestions/people",
    response_model=list[PersonMatch],
    summary="Suggested people for my team (looking, with skills my team wants)",
    responses=READ_ERRORS,
)
async def suggested_people(session: SessionDep, access: EventDep) -> list[PersonMatch]:
    return [person_match(r) for r in await finder.suggest_people(session, access)]
