"""The mail every participant gets when results are published: a link to the results page and,
for a team that won an award or was ranked, its own place. Written to the outbox in the
publishing transaction (`queue_email`); the `mail.send_email` job sends each after commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.mail.render import org_brand
from hackops.mail.service import queue_mail
from hackops.models import Event, Organization, Submission, TeamMember, User
from hackops.results import frozen


def team_lines(standing: Mapping[str, Any] | None) -> list[str]:
    """What the mail says about one team's project (nothing when it has no place or award)."""
    if standing is None:
        return []
    title = standing["title"] or "your project"
    lines = [f"Your team's project “{title}”:"]
    for award in standing["awards"]:
        lines.append(f"- {award['label']}" + (f" ({award['prize']})" if award["prize"] else ""))
    lines += [f"- {p['label']} (of {p['of']})" for p in standing["placements"]]
    return lines


async def mail_participants(
    session: AsyncSession,
    org: Organization,
    event: Event,
    rows: Sequence[Mapping[str, Any]],
    winners: Sequence[Mapping[str, Any]],
    base_url: str,
) -> int:
    """Queue one mail per team member; returns how many."""
    link = f"{base_url.rstrip('/')}/orgs/{org.slug}/events/{event.slug}/results"
    brand = org_brand(org)
    submission_of = dict(
        (
            await session.execute(
                select(Submission.team_id, Submission.id).where(Submission.event_id == event.id)
            )
        ).all()
    )
    members = await session.execute(
        select(User.id, User.email, User.name, TeamMember.team_id)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.event_id == event.id)
        .order_by(TeamMember.team_id, User.id)
    )
    lines_of: dict[Any, list[str]] = {}
    sent = 0
    for user_id, email, name, team_id in members:
        if team_id not in lines_of:
            sid = submission_of.get(team_id)
            found = frozen.standing(rows, winners, str(sid)) if sid is not None else None
            lines_of[team_id] = team_lines(found)
        await queue_mail(
            session,
            "results/published",
            to=email,
            user_id=user_id,
            subject=f"The results of {event.name} are out",
            base_url=base_url,
            brand=brand,
            context={
                "name": name or email,
                "event_name": event.name,
                "about": lines_of[team_id],
                "link": link,
            },
        )
        sent += 1
    return sent
