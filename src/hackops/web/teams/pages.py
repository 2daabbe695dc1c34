"""Team pages: an event's teams area (my team, create, join by code, my finder profile, the
finder both ways), a team's page (members, editing, invitations, join requests, captain
transfer, leave, disband) and the page an invitation mail links to (accept or decline).

Loading and authorizing are the page dependencies (`EventPageDep`, `TeamPageDep`: the API's
`load_event_access` + `teams.access.load_team`), and every
action calls the same service function as the API route; a refusal comes back as a flash
message on the page the form was on. Every action is a plain form with a button: usable with
the keyboard alone, no script needed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ServicesDep
from hackops.db import SessionDep
from hackops.events.access import EventAccess
from hackops.models import TeamRole
from hackops.results import frozen
from hackops.results import service as results
from hackops.teams import finder, membership, recruiting, service
from hackops.teams.access import TeamView, current_team_id
from hackops.teams.schemas import (
    FinderProfileIn,
    JoinByCode,
    JoinRequestIn,
    TeamIn,
    TeamInvitationIn,
    TeamUpdate,
    invitation_out,
)
from hackops.web import eventkit, kit
from hackops.web.deps import EventPageDep, TeamPageDep, page_router, signed_in

router = page_router()


def _skills(raw: str) -> list[str]:
    return [s for s in (part.strip() for part in raw.split(",")) if s]


def _team_input(data: Mapping[str, str]) -> dict[str, Any]:
    """A team's name, description and wanted skills as the API's JSON carries them."""
    return {
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "skills_wanted": _skills(data.get("skills_wanted", "")),
    }


def _base(access: EventAccess) -> str:
    return eventkit.event_url(access)


async def _act(
    request: Request,
    session: AsyncSession,
    back: str,
    action: Callable[[], Awaitable[Any]],
    done: str,
) -> Response:
    """`kit.act`, except that an action returning a path goes there (a new team's page, the
    teams area after leaving) instead of back."""
    return await kit.act(
        request,
        session,
        back,
        action,
        done,
        then=lambda result: result if isinstance(result, str) else back,
    )


@router.get(kit.EVENT_BASE + "/teams")
async def teams_area(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    user = signed_in(access.actor)
    finder.require_finder_access(access)
    q = request.query_params.get("q", "")[:200].strip()
    skill = request.query_params.get("skill", "")[:64].strip().casefold() or None
    my_team = None
    if await current_team_id(session, access.event, user.id) is not None:
        my_team = (await service.my_team(session, access)).team
    teams = await finder.search_teams(session, access, q=q, skill=skill)
    people = await finder.search_people(session, access, q=q, skill=skill)
    return kit.render(
        request,
        "teams/area.html",
        {
            "access": access,
            "base": _base(access),
            "my_team": my_team,
            "registration": access.registration,
            "teams": teams,
            "people": people,
            "q": q,
            "skill": skill or "",
        },
    )


async def area_action(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    verb = request.url.path.rsplit("/", 1)[-1]
    back = _base(access) + "/teams"
    data = await kit.form_data(request)
    if verb == "create":

        async def create(body: TeamIn) -> str:
            team = await service.create_team(
                session,
                access,
                name=body.name,
                description=body.description,
                skills_wanted=body.skills_wanted,
            )
            return f"{back}/{team.id}"

        return await kit.act_checked(
            request,
            session,
            back,
            model=TeamIn,
            data=_team_input(data),
            action=create,
            done="Team created.",
            then=lambda team_url: team_url,
        )
    if verb == "join":
        return await kit.act_checked(
            request,
            session,
            back,
            model=JoinByCode,
            data={"code": data.get("code", "")},
            action=lambda body: membership.join_by_code(session, access, code=body.code),
            done="You joined the team.",
        )
    return await kit.act_checked(
        request,
        session,
        back,
        model=FinderProfileIn,
        data={
            "looking_for_team": data.get("looking_for_team") == "on",
            "skills": _skills(data.get("skills", "")),
            "note": data.get("note", ""),
        },
        action=lambda body: finder.update_profile(session, access, body),
        done="Finder profile saved.",
    )


@router.get(kit.EVENT_BASE + "/teams/{team_id}")
async def team_page(request: Request, session: SessionDep, view: TeamPageDep) -> Response:
    members = await service.list_members(session, view.team)
    invitations = (
        [invitation_out(i, name) for i, name in await recruiting.list_invitations(session, view)]
        if view.is_member
        else []
    )
    requests = await recruiting.list_join_requests(session, view) if view.is_member else []
    shown = await results.team_results(session, view)  # None until results are published
    standing = shown["standing"] if shown else None
    return kit.render(
        request,
        "teams/show.html",
        {
            "shown": shown,
            "placements": frozen.podium(standing["placements"]) if standing else [],
            "view": view,
            "team": view.team,
            "base": f"{_base(view.access)}/teams/{view.team.id}",
            "members": members,
            "invitations": invitations,
            "requests": requests,
            "me": signed_in(view.access.actor),
        },
    )


async def team_action(
    request: Request, session: SessionDep, view: TeamPageDep, services: ServicesDep
) -> Response:
    verb = request.url.path.rsplit("/", 1)[-1]
    limiter = services.limiter
    access = view.access
    back = f"{_base(access)}/teams/{view.team.id}"
    data = await kit.form_data(request)
    try:
        target_id = uuid.UUID(data.get("id", ""))
    except ValueError:
        target_id = uuid.UUID(int=0)  # matches nothing: the service says "not found"
    if verb == "edit":
        return await kit.act_checked(
            request,
            session,
            back,
            model=TeamUpdate,
            data={**_team_input(data), "recruiting": data.get("recruiting") == "on"},
            action=lambda body: service.update_team(session, view, body),
            done="Saved.",
        )
    if verb == "invite":
        base_url = request.app.state.settings.base_url
        return await kit.act_checked(
            request,
            session,
            back,
            model=TeamInvitationIn,
            data={"email": data.get("email", "")},
            action=lambda body: recruiting.invite(
                session, view, limiter, email=body.email, user_id=None, base_url=base_url
            ),
            done="Invitation mailed; its link is valid for 7 days.",
        )
    if verb == "request":
        return await kit.act_checked(
            request,
            session,
            back,
            model=JoinRequestIn,
            data={"message": data.get("message", "")},
            action=lambda body: recruiting.request_to_join(
                session, view, limiter, message=body.message
            ),
            done="Request sent to the captain.",
        )
    calls: dict[str, tuple[Callable[[], Awaitable[Any]], str]] = {
        "revoke": (lambda: recruiting.revoke_invitation(session, view, target_id), "Revoked."),
        "approve": (
            lambda: recruiting.decide_join_request(session, view, target_id, approve=True),
            "Approved: they are on the team.",
        ),
        "decline": (
            lambda: recruiting.decide_join_request(session, view, target_id, approve=False),
            "Declined.",
        ),
        "withdraw": (
            lambda: recruiting.withdraw_join_request(session, view, target_id),
            "Request withdrawn.",
        ),
        "captain": (
            lambda: membership.transfer_captain(session, view, target_id),
            "Captain changed.",
        ),
        "remove": (lambda: membership.remove_member(session, view, target_id), "Member removed."),
        "leave": (lambda: _leave(view, session, _base(access) + "/teams"), "You left the team."),
        "disband": (
            lambda: _disband(view, session, _base(access) + "/teams"),
            "The team is disbanded.",
        ),
    }
    call, done = calls[verb]
    if verb == "disband":  # asks first: the confirmation page's form carries the field
        return await kit.act_confirmed(
            request,
            session,
            back,
            call,
            done,
            then=lambda result: result if isinstance(result, str) else back,
        )
    return await _act(request, session, back, call, done)


@router.get(kit.EVENT_BASE + "/teams/{team_id}/disband")
async def disband_confirm(request: Request, session: SessionDep, view: TeamPageDep) -> Response:
    """What disbanding does, before the captain confirms it."""
    back = f"{_base(view.access)}/teams/{view.team.id}"
    if not view.is_captain:
        return kit.flash_redirect(request, back, "Only the team's captain can disband it.", "error")
    if await service.has_submitted(session, view.team):
        return kit.flash_redirect(request, back, service.TeamHasSubmission.message, "error")
    members = await service.list_members(session, view.team)
    others = [person.name or "someone" for m, person in members if m.role != TeamRole.CAPTAIN]
    leave = (
        f"You and the {len(others)} other members ({', '.join(others)}) leave the team; each of"
        " you can join or create another team."
        if others
        else "You leave the team and can join or create another team."
    )
    confirmation = kit.Confirmation(
        question=f"Disband {view.team.name}?",
        consequences=[
            leave,
            "Open invitations to the team are revoked and pending join requests declined.",
            "A disbanded team cannot be brought back.",
        ],
        button="Disband the team",
        cancel=back,
        danger=True,
    )
    eyebrow = (back, f"{view.access.event.name} · {view.team.name}")
    return kit.confirm_page(request, "confirm.html", confirmation, {"eyebrow": eyebrow})


# One path per action (no `{verb}` parameter: it would also match the task board's paths).
for _verb in ("create", "join", "profile"):
    router.post(f"{kit.EVENT_BASE}/teams/{_verb}")(area_action)
for _verb in (
    "edit",
    "invite",
    "revoke",
    "request",
    "approve",
    "decline",
    "withdraw",
    "captain",
    "remove",
    "leave",
    "disband",
):
    router.post(f"{kit.EVENT_BASE}/teams/{{team_id}}/{_verb}")(team_action)


async def _leave(view: TeamView, session: AsyncSession, area: str) -> str:
    await membership.leave_team(session, view)
    return area


async def _disband(view: TeamView, session: AsyncSession, area: str) -> str:
    await service.disband_team(session, view)
    return area


@router.get(kit.EVENT_BASE + "/team-invitations")
async def invitation_page(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    token = request.query_params.get("token", "")[:200]
    # The team and who invited, for the invited person only (else the refusal's error page).
    preview = await recruiting.preview_invitation(session, access, token=token)
    context = {"access": access, "base": _base(access), "token": token, "invitation": preview}
    return kit.render(request, "teams/invitation.html", context)


@router.post(kit.EVENT_BASE + "/team-invitations/{verb}")
async def invitation_action(
    request: Request,
    verb: Annotated[str, Path(pattern="^(accept|decline)$")],
    session: SessionDep,
    access: EventPageDep,
) -> Response:
    token = (await kit.form_data(request)).get("token", "")[:200]
    area = _base(access) + "/teams"
    back = f"{_base(access)}/team-invitations?token={token}"
    if verb == "accept":

        async def accept() -> str:
            member = await recruiting.accept_invitation(session, access, token=token)
            return f"{area}/{member.team_id}"

        return await _act(request, session, back, accept, "Welcome to the team.")

    async def decline() -> str:
        await recruiting.decline_invitation(session, access, token=token)
        return area

    return await _act(request, session, back, decline, "Invitation declined.")
