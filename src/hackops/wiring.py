"""The one place where the domains' hooks meet their handlers (`hackops.hooks`).

Each line is one cross-domain follow-up (or lookup): the hook a lower domain sends, the handler
of the domain above it. `connect()` is called by every entry point before a service runs:
`main.create_app`, the `hackops worker`, `admin create` and `demo` commands (`cli/`) and the
tests (`tests/conftest.py`). It is idempotent. The list, with who starts each follow-up, is in
`docs/conventions.md` ("Cross-domain follow-ups").
"""

from __future__ import annotations

from hackops.announcements import rules as announcement_rules
from hackops.events import hooks as event_hooks
from hackops.events.roles import hooks as role_hooks
from hackops.judging.assignment import rebalance
from hackops.notifications import fanout
from hackops.outbox.channels import connect_channel
from hackops.registrations import hooks as registration_hooks
from hackops.registrations import waitlist
from hackops.results import service as results
from hackops.submissions import hooks as submission_hooks
from hackops.teams import release
from hackops.webhooks import fanout as webhook_fanout


def connect() -> None:
    """Connect every hook to its handler (the same handlers again: nothing changes)."""
    # a larger (or no) capacity promotes the waitlist
    event_hooks.capacity_changed.connect(waitlist.capacity_changed)
    # a judge granted (directly or by an invitation) or revoked re-balances an assignment run
    role_hooks.judge_added.connect(rebalance.judge_added)
    role_hooks.judge_removed.connect(rebalance.judge_removed)
    # a cancelled or removed registration releases the person's team place
    registration_hooks.registration_cancelled.connect(release.registration_cancelled)
    # a submission's responses carry its standing once results are published (a lookup)
    submission_hooks.standing.connect(results.standing_asked)
    # every domain event fans out to the people it concerns (rules.py says who and what)
    connect_channel("people", fanout.people)
    # announcements and event reminders tell their people (announcements/rules.py says who)
    announcement_rules.connect()
    # every domain event of an organization goes to its webhook endpoints that want it
    connect_channel("webhooks", webhook_fanout.webhooks)
