"""How much an organization may announce, checked when an announcement is sent or scheduled:

- its plan's cap: `organizations.max_announcements_per_month` announcements sent or scheduled in
  any 30 days, across all its events (a cancelled one gives its place back). Counted in the
  database with the organization's row locked (FOR UPDATE), so it holds for every process of
  the platform and two organizers cannot both take the last place;
- a burst budget (`ratelimit`, Redis when configured): `ANNOUNCEMENTS_PER_ORG` an hour, so a
  script or a stuck button cannot flood the organization's people.
Both refusals say what was reached and when the next announcement can go out.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from limits import parse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.errors import Conflict, RateLimited
from hackops.models import Announcement, AnnouncementStatus, Organization
from hackops.ratelimit import Limiter, Rule

#: Announcements one organization may send or schedule in an hour (all its events together).
ANNOUNCEMENTS_PER_ORG = Rule("announcements-org", parse("10/hour"))
CAP_WINDOW = timedelta(days=30)


class AnnouncementCapReached(Conflict):
    code = "announcement_cap_reached"
    message = "The organization's plan allows no more announcements for now."


async def check_cap(session: AsyncSession, org: Organization, now: datetime) -> None:
    """Refuse when the plan's announcements of the last 30 days are used up (org row locked)."""
    await session.execute(
        select(Organization.id).where(Organization.id == org.id).with_for_update()
    )
    since = now - CAP_WINDOW
    used, oldest = (
        await session.execute(
            select(func.count(), func.min(Announcement.queued_at)).where(
                Announcement.org_id == org.id,
                Announcement.status.in_((AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENT)),
                Announcement.queued_at >= since,
            )
        )
    ).one()
    limit = org.max_announcements_per_month
    if used < limit:
        return
    again = (oldest + CAP_WINDOW) if oldest is not None else now + CAP_WINDOW
    raise AnnouncementCapReached(
        f"Your organization's plan allows {limit} announcements in any 30 days, and they are"
        f" used up; the next one can go out on {again:%Y-%m-%d %H:%M} UTC. Ask the platform's"
        " administrators for a larger plan.",
        details={"limit": limit, "used": int(used), "available_at": again.isoformat()},
    )


async def spend_burst(limiter: Limiter, org: Organization) -> None:
    """Spend one of the organization's hourly announcements, or refuse (429, Retry-After)."""
    try:
        await limiter.consume(ANNOUNCEMENTS_PER_ORG, str(org.id))
    except RateLimited as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        minutes = max(1, math.ceil(int(details.get("retry_after") or 60) / 60))
        unit = "minute" if minutes == 1 else "minutes"
        raise RateLimited(
            f"Your organization has sent or scheduled {ANNOUNCEMENTS_PER_ORG.limit.amount}"
            f" announcements in the last hour; the next one can go out in about {minutes} {unit}.",
            details=details,
            headers=exc.headers,
        ) from None
