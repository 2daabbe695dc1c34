"""Events side by side: an organization's (`/orgs/<slug>/dashboard`, its organizers and up) and
every organization's (`/admin/events`, platform admins; anyone else gets the 404 page), each as
a chart of participants, teams, submitted projects and judges per event, a table with the dates,
and the table as CSV (`…/events.csv`). Figures from `analytics.overview` (one statement).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from hackops.accounts.deps import ActorDep
from hackops.analytics import overview
from hackops.db import SessionDep
from hackops.models import OrgRole
from hackops.orgs import service as orgs
from hackops.web import charts, kit
from hackops.web.charts import Chart, Table
from hackops.web.deps import OrgOrganizerPageDep, PageUserDep, page_router

router = page_router()

ORG_DASHBOARD = "/orgs/{slug}/dashboard"
PLATFORM = "/admin/events"

_SERIES = ("Participants", "Teams", "Projects submitted", "Judges")


def _day(moment: object) -> str:
    return moment.date().isoformat() if moment is not None else ""  # type: ignore[attr-defined]


def events_chart(view: overview.Overview, *, across: bool, draw: bool) -> Chart:
    rows = view.events
    columns = [
        *(["Organization"] if across else []),
        "Event",
        "State",
        "Starts",
        "Submissions close",
        "Judging closes",
        "Capacity",
        "Participants",
        "Waitlisted",
        "Teams",
        "Projects submitted",
        "Judges",
    ]
    table = Table(
        columns,
        [
            [
                *([e.org_name] if across else []),
                e.name,
                e.state.replace("_", " "),
                _day(e.starts_at),
                _day(e.submissions_close_at),
                _day(e.judging_closes_at),
                e.capacity,
                e.participants,
                e.waitlisted,
                e.teams,
                e.submissions,
                e.judges,
            ]
            for e in rows
        ],
    )
    chart = Chart(
        "events",
        "Events side by side",
        "Participants (registrations holding a seat), teams, submitted projects and judges of"
        " each event, newest first.",
        table,
        empty="No events yet.",
    )
    if draw and rows:
        shown = rows[:25]
        labels = [f"{e.org_name}: {e.name}" if across else e.name for e in shown]
        svg = charts.bars(
            chart.key,
            chart.title,
            chart.description,
            labels,
            [
                (name, [getattr(e, field) for e in shown])
                for name, field in zip(
                    _SERIES, ("participants", "teams", "submissions", "judges"), strict=True
                )
            ],
        )
        notes = [f"The chart shows the newest 25 of {len(rows)} events; the table has all."]
        chart = Chart(
            chart.key,
            chart.title,
            chart.description,
            table,
            svg,
            chart.empty,
            notes if len(rows) > 25 else [],
        )
    return chart


@router.get(ORG_DASHBOARD, name="organization_dashboard")
async def org_dashboard(
    request: Request, session: SessionDep, access: OrgOrganizerPageDep
) -> Response:
    view = await overview.organization(session, access)
    rank = orgs.rank(access.role)
    return kit.render(
        request,
        "analytics/overview.html",
        {
            "org": access.org,
            "role": access.role,
            "is_admin": rank >= orgs.rank(OrgRole.ADMIN),
            "can_audit": True,
            "tab": "dashboard",
            "view": view,
            "chart": events_chart(view, across=False, draw=True),
            "csv_base": ORG_DASHBOARD.format(slug=access.org.slug),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get(ORG_DASHBOARD + "/events.csv", name="organization_dashboard_csv")
async def org_dashboard_csv(session: SessionDep, access: OrgOrganizerPageDep) -> Response:
    view = await overview.organization(session, access)
    table = events_chart(view, across=False, draw=False).table
    return charts.csv_response(table, f"{access.org.slug}-events.csv")


@router.get(PLATFORM, name="platform_events")
async def platform_events(
    request: Request, session: SessionDep, user: PageUserDep, actor: ActorDep
) -> Response:
    view = await overview.platform(session, actor)
    return kit.render(
        request,
        "analytics/overview.html",
        {
            "org": None,
            "view": view,
            "chart": events_chart(view, across=True, draw=True),
            "csv_base": PLATFORM,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get(PLATFORM + "/events.csv", name="platform_events_csv")
async def platform_events_csv(session: SessionDep, user: PageUserDep, actor: ActorDep) -> Response:
    view = await overview.platform(session, actor)
    return charts.csv_response(events_chart(view, across=True, draw=False).table, "events.csv")
