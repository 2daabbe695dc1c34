"""What people choose channels for: one category per kind of news, with its defaults.

A transactional category (the account's own security mail, a registration's confirmation) cannot
be turned off: it is the answer to something the person did. A high-volume category may be
received as a daily digest by email instead of one mail per event.
"""

from __future__ import annotations

from dataclasses import dataclass

from hackops.models import Channel


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    description: str
    #: Cannot be turned off on any channel.
    transactional: bool = False
    #: Channels on when the person chose nothing.
    default_channels: frozenset[Channel] = frozenset({Channel.IN_APP, Channel.EMAIL})
    #: Email may be gathered into one daily digest.
    digest_allowed: bool = False


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category(
            "registration",
            "Registrations",
            "Your registrations: confirmation, a seat from the waitlist, check-in, cancellation.",
            transactional=True,
        ),
        Category(
            "team",
            "Team activity",
            "Invitations, people joining or leaving your teams.",
            digest_allowed=True,
        ),
        Category(
            "submission",
            "Submissions",
            "Your team's project: submitted, processed, approved or rejected.",
            digest_allowed=True,
        ),
        Category(
            "judging",
            "Judging",
            "Projects handed to you to review, reminders, flags on projects.",
        ),
        Category("results", "Results", "Results of the events you took part in."),
        Category("announcements", "Announcements", "What the organizers of your events announce."),
        Category(
            "reminders",
            "Reminders",
            "Deadlines coming up in your events (registration, submission, judging).",
        ),
        Category(
            "system",
            "Organization notices",
            "Notices for organization owners (a webhook endpoint turned off after failures).",
            transactional=True,
            default_channels=frozenset({Channel.IN_APP, Channel.EMAIL}),
        ),
    )
}


def category(key: str) -> Category:
    return CATEGORIES[key]
