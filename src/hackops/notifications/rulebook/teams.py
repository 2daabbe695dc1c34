"""Teams: an invitation, someone joining, someone leaving (or the team disbanded)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboxEvent, Team
from hackops.notifications.audiences import but, name_of, team_members
from hackops.notifications.links import team_path, teams_path
from hackops.notifications.rulebook.common import IN_APP_ONLY, event_of
from hackops.notifications.service import Message
from hackops.notifications.telling import Telling, rule
from hackops.outbox.catalog import Payload, TeamInvitationSent, TeamMemberJoined, TeamMemberLeft


@rule(TeamInvitationSent.type)
async def team_invitation_sent(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The invited account (an invitation by address names none: only its mail goes out).
    In-app only: the invitation's own mail carries the single-use link, which never goes
    through the outbox; this note points to that mail."""
    assert isinstance(payload, TeamInvitationSent)
    event = await event_of(session, row)
    team = await session.get(Team, payload.team_id)
    invited = payload.invited_user_id
    if event is None or team is None or invited is None or invited == row.actor_id:
        return []
    inviter = await name_of(session, row.actor_id, "A captain")
    message = Message(
        category="team",
        title=f"{inviter} invited you to join the team {team.name}",
        body=(
            f"At {event.name}. Accept or decline with the link in the invitation mail we sent "
            "you; it is valid for 7 days."
        ),
        link=await team_path(session, event, team.id),
        channels=IN_APP_ONLY,
    )
    return [Telling([invited], message)]


@rule(TeamMemberJoined.type)
async def team_member_joined(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The team's other members (the captain among them) learn who joined; the newcomer is told
    only when someone else let them in (their join request approved). Nobody is told about a
    team's creation: its creator is its only member."""
    assert isinstance(payload, TeamMemberJoined)
    event = await event_of(session, row)
    team = await session.get(Team, payload.team_id)
    if payload.via == "created" or event is None or team is None or team.disbanded_at is not None:
        return []
    link = await team_path(session, event, team.id)
    newcomer = await name_of(session, payload.user_id)
    tellings = [
        Telling(
            but(await team_members(session, team.id), payload.user_id, row.actor_id),
            Message(
                category="team",
                title=f"{newcomer} joined your team {team.name}",
                body=f"The team now has {team.member_count} of {team.max_members} members.",
                link=link,
            ),
        )
    ]
    if row.actor_id != payload.user_id:
        approver = await name_of(session, row.actor_id, "The captain")
        tellings.append(
            Telling(
                [payload.user_id],
                Message(
                    category="team",
                    title=f"You are on the team {team.name}",
                    body=f"{approver} accepted your request to join, at {event.name}.",
                    link=link,
                ),
            )
        )
    return tellings


@rule(TeamMemberLeft.type)
async def team_member_left(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The members still on the team, but not whoever removed the person; the person themself
    only when the captain removed them or disbanded the team (someone who left knows it, and a
    cancelled registration has its own news)."""
    assert isinstance(payload, TeamMemberLeft)
    event = await event_of(session, row)
    team = await session.get(Team, payload.team_id)
    if event is None or team is None:
        return []
    if payload.reason == "disbanded":
        if not payload.removed:
            return []
        return [
            Telling(
                [payload.user_id],
                Message(
                    category="team",
                    title=f"The team {team.name} was disbanded",
                    body=(
                        f"You are no longer on a team at {event.name}: join another team or "
                        "create your own."
                    ),
                    link=await teams_path(session, event),
                ),
            )
        ]
    person = await name_of(session, payload.user_id)
    what = {
        "left": f"{person} left your team {team.name}",
        "removed": f"{person} was removed from your team {team.name}",
        "registration_cancelled": f"{person} left your team {team.name}",
    }[payload.reason]
    body = (
        "Their registration for the event was cancelled. "
        if payload.reason == "registration_cancelled"
        else ""
    ) + f"The team now has {team.member_count} of {team.max_members} members."
    tellings = [
        Telling(
            but(await team_members(session, team.id), payload.user_id, row.actor_id),
            Message(
                category="team",
                title=what,
                body=body,
                link=await team_path(session, event, team.id),
            ),
        )
    ]
    if payload.reason == "removed":
        tellings.append(
            Telling(
                [payload.user_id],
                Message(
                    category="team",
                    title=f"You were removed from the team {team.name}",
                    body=f"The captain removed you. You can join another team at {event.name}.",
                    link=await teams_path(session, event),
                ),
            )
        )
    return tellings
