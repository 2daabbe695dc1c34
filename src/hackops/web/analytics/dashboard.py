"""An event's dashboard (admin tab "Dashboard"): the figures an organizer checks hourly, each
chart with its table ("Show as table") and its CSV (`…/admin/dashboard/<chart>.csv`).

The figures come from `analytics.service` and `analytics.judging` (aggregates, a fixed number of
statements); the charts are drawn here with `web.charts`. A chart's CSV reads only its own
section. Organizers only (`OrganizerPageDep`), as every admin tab.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.analytics import judging
from hackops.analytics import service as analytics
from hackops.analytics.counts import Count
from hackops.errors import NotFound
from hackops.events.access import EventAccess
from hackops.events.schedule import service as schedule
from hackops.events.schedule.days import by_day
from hackops.web import charts, kit
from hackops.web.charts import Chart, Table
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

DASHBOARD = kit.ADMIN + "/dashboard"
#: Agenda entries (schedule items and the event's own dates) under "Coming up".
COMING_UP = 6


class NoSuchChart(NotFound):
    code = "chart_not_found"
    message = "This dashboard has no such chart."


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --- the charts of each section ----------------------------------------------------------------


def registration_charts(t: analytics.Timeline, draw: bool) -> list[Chart]:
    labels = [d.day.strftime("%d %b") for d in t.days]
    series: list[tuple[str, list[Any]]] = [
        ("Registered", [d.registered for d in t.days]),
        ("Waitlisted", [d.waitlisted for d in t.days]),
    ]
    if t.capacity is not None:
        series.append(("Capacity", [t.capacity] * len(t.days)))
    over_time = Chart(
        "registrations-time",
        "Registrations over time",
        "Cumulative registrations holding a seat and on the waitlist by day, in the event's"
        " time zone" + (f", against the capacity of {t.capacity}." if t.capacity else "."),
        Table(
            ["Day", "Registered (cumulative)", "Waitlisted (cumulative)", "Capacity"],
            [[d.day.isoformat(), d.registered, d.waitlisted, t.capacity] for d in t.days],
        ),
        empty="No registrations yet.",
    )
    sources = Chart(
        "registrations-source",
        "Registrations by source",
        "Current registrations (seated or waitlisted) by how they were made.",
        Table(["Source", "Registrations"], [[c.label, c.value] for c in t.by_source]),
        empty="No registrations yet.",
    )
    if draw and t.days:
        over_time = _with_svg(
            over_time,
            charts.line(over_time.key, over_time.title, over_time.description, labels, series),
        )
    if draw and t.by_source:
        sources = _with_svg(sources, _count_bars(sources, t.by_source, "Registrations"))
    return [over_time, sources]


def funnel_charts(f: analytics.Funnel, draw: bool) -> list[Chart]:
    steps = f.steps()
    chart = Chart(
        "funnel",
        "From registration to an approved project",
        "People holding a seat at each step: registered, checked in, in a team, in a team"
        " that submitted its project, in a team whose project was approved.",
        Table(["Step", "People"], [[c.label, c.value] for c in steps]),
        empty="No registrations yet.",
    )
    if draw and f.registered:
        chart = _with_svg(chart, _count_bars(chart, steps, "People"))
    return [chart]


def question_charts(questions: list[analytics.QuestionTotals], draw: bool) -> list[Chart]:
    out = []
    for q in questions:
        if q.options:
            table = Table(["Answer", "People"], [[c.label, c.value] for c in q.options])
            description = f"Answers of the {q.answered} people with a seat who answered" + (
                " (several answers each)." if q.kind == "multi_choice" else "."
            )
        else:
            table = Table(["Question", "People who answered"], [[q.label, q.answered]])
            description = f"A free-text question: {q.answered} people with a seat answered."
        chart = Chart(
            f"questions-{q.id}", q.label, description, table, empty="Nobody answered yet."
        )
        if draw and q.options and q.answered:
            chart = _with_svg(chart, _count_bars(chart, q.options, "People"))
        elif not q.options:
            chart = Chart(chart.key, chart.title, description, table, empty=description)
        out.append(chart)
    return out


def team_charts(t: analytics.Teams, draw: bool) -> list[Chart]:
    chart = Chart(
        "teams-size",
        "Teams by size",
        f"How many teams have each number of members ({t.teams} teams).",
        Table(["Members", "Teams"], [[int(c.label), c.value] for c in t.by_size]),
        empty="No teams yet.",
    )
    if draw and t.by_size:
        svg = charts.bars(
            chart.key,
            chart.title,
            chart.description,
            [f"{c.label} member{'s' if c.label != '1' else ''}" for c in t.by_size],
            [("Teams", [c.value for c in t.by_size])],
            horizontal=False,
        )
        chart = _with_svg(chart, svg)
    return [chart]


def submission_charts(s: analytics.Submissions, draw: bool) -> list[Chart]:
    tracks = Chart(
        "submissions-track",
        "Submitted projects per track",
        "Projects submitted in each track (a project can enter several tracks).",
        Table(["Track", "Projects"], [[c.label, c.value] for c in s.by_track]),
        empty="No projects submitted yet.",
    )
    status = Chart(
        "submissions-status",
        "Projects by review state",
        "Every project of the event by where it stands in the review.",
        Table(["State", "Projects"], [[c.label, c.value] for c in s.by_status]),
        empty="No projects yet.",
    )
    states = [c.label for c in s.processing[0][1]] if s.processing else []
    processing = Chart(
        "submissions-processing",
        "Processing of the latest versions",
        "For each processing step, how many projects' latest submitted versions are in each state.",
        Table(
            ["Step", *states],
            [[step, *(c.value for c in counts)] for step, counts in s.processing],
        ),
        empty="Nothing submitted to process yet.",
    )
    if draw and any(c.value for c in s.by_track):
        tracks = _with_svg(tracks, _count_bars(tracks, s.by_track, "Projects"))
    if draw and any(c.value for c in s.by_status):
        status = _with_svg(status, _count_bars(status, s.by_status, "Projects"))
    if draw and any(c.value for _, counts in s.processing for c in counts):
        svg = charts.bars(
            processing.key,
            processing.title,
            processing.description,
            [step for step, _ in s.processing],
            [
                (state, [counts[i].value for _, counts in s.processing])
                for i, state in enumerate(states)
            ],
            stacked=True,
        )
        processing = _with_svg(processing, svg)
    return [tracks, status, processing]


def judging_charts(j: judging.Judging, draw: bool) -> list[Chart]:
    progress = Chart(
        "judging-progress",
        "Judging progress per judge",
        "Each judge's assigned projects: evaluated (submitted) and still to do.",
        Table(
            ["Judge", "Evaluated", "Assigned", "Submitted evaluations (all)"],
            [[r.name, r.done, r.assigned, r.evaluations] for r in j.judges],
        ),
        empty="No judges yet.",
    )
    per_project = Chart(
        "judging-per-project",
        "Evaluations per project",
        "How many submitted projects have each number of submitted evaluations.",
        Table(["Evaluations", "Projects"], [[int(c.label), c.value] for c in j.per_project]),
        empty="No projects submitted yet.",
    )
    tenths = [f"{10 * i}%" for i in range(11)]
    criteria = Chart(
        "judging-criteria",
        "Score distribution per criterion",
        "Submitted scores of each criterion as a share of its maximum, to the nearest tenth.",
        Table(
            ["Criterion", "Maximum", "Scores", "Mean", *tenths],
            [[c.name, c.max_score, c.count, _round(c.mean), *c.bins] for c in j.criteria],
        ),
        empty="No criteria yet.",
    )
    fitted = [r for r in j.judges if r.offset is not None and r.offset_se is not None]
    note = (
        f"Fitted on every submitted evaluation; the judges' leniency spreads by about"
        f" {j.offset_sd:.1f} points. Bars show ±2 standard errors."
    )
    leniency = Chart(
        "judging-leniency",
        "Judge leniency",
        "Points each judge gives above (or below) an average judge for the same project, from"
        " the judge-effect model the ranking uses, with ±2 standard errors.",
        Table(
            ["Judge", "Leniency (points)", "Standard error", "Scale", "Scale standard error"],
            [
                [
                    r.name,
                    _round(r.offset),
                    _round(r.offset_se),
                    _round(r.scale, 3),
                    _round(r.scale_se, 3),
                ]
                for r in fitted
            ],
        ),
        empty="Too few projects were evaluated by more than one judge to tell judges apart.",
        notes=[note] if fitted else [],
    )
    scale = Chart(
        "judging-scale",
        "Judge scale",
        "How strongly each judge separates better from worse projects: 1 is average, above 1"
        " spreads scores wider, below 1 narrower; with ±2 standard errors.",
        leniency.table,
        empty=leniency.empty,
    )
    if draw and j.judges:
        svg = charts.bars(
            progress.key,
            progress.title,
            progress.description,
            [r.name for r in j.judges],
            [
                ("Evaluated", [r.done for r in j.judges]),
                ("Still to do", [max(r.assigned - r.done, 0) for r in j.judges]),
            ],
            stacked=True,
        )
        progress = _with_svg(progress, svg)
    if draw and j.per_project:
        svg = charts.bars(
            per_project.key,
            per_project.title,
            per_project.description,
            [c.label for c in j.per_project],
            [("Projects", [c.value for c in j.per_project])],
            horizontal=False,
            x_title="Submitted evaluations",
        )
        per_project = _with_svg(per_project, svg)
    if draw and any(c.count for c in j.criteria):
        svg = charts.bars(
            criteria.key,
            criteria.title,
            criteria.description,
            tenths,
            [(c.name, c.bins) for c in j.criteria],
            horizontal=False,
        )
        criteria = _with_svg(criteria, svg)
    if draw and fitted:
        names = [r.name for r in fitted]
        # Never zoom into noise: the axes span at least ±1 point and a scale of 0.8 to 1.2.
        low = min(-1.0, *(_lower(r.offset, r.offset_se) for r in fitted))
        high = max(1.0, *(_upper(r.offset, r.offset_se) for r in fitted))
        scale_low = min(0.8, *(_lower(r.scale, r.scale_se) for r in fitted))
        scale_high = max(1.2, *(_upper(r.scale, r.scale_se) for r in fitted))
        leniency = _with_svg(
            leniency,
            charts.bars(
                leniency.key,
                leniency.title,
                leniency.description,
                names,
                [("Leniency", [_interval(r.offset, r.offset_se) for r in fitted])],
                range=(low, high),
                value_formatter=_signed,
            ),
        )
        scale = _with_svg(
            scale,
            charts.bars(
                scale.key,
                scale.title,
                scale.description,
                names,
                [("Scale", [_interval(r.scale, r.scale_se) for r in fitted])],
                zero=1,
                range=(scale_low, scale_high),
                value_formatter=_tenths,
            ),
        )
    return [progress, per_project, criteria, leniency, scale]


def result_charts(places: list[analytics.Place] | None, draw: bool) -> list[Chart]:
    if places is None:
        return []
    chart = Chart(
        "results-margins",
        "Published results: the lead of each place",
        "Points each place's score is ahead of the next place, in the published ranking.",
        Table(
            ["Place", "Project", "Team", "Score", "Lead over the next place"],
            [[p.rank, p.title, p.team, _round(p.score, 4), _round(p.margin, 4)] for p in places],
        ),
        empty="The published results rank no project.",
    )
    led = [p for p in places if p.margin is not None]
    if draw and led:
        svg = charts.bars(
            chart.key,
            chart.title,
            chart.description,
            [f"{p.rank}. {p.title}" for p in led],
            [("Lead (points)", [round(p.margin or 0.0, 4) for p in led])],
        )
        chart = _with_svg(chart, svg)
    return [chart]


def _signed(value: float) -> str:
    return f"{value:+.0f}"


def _tenths(value: float) -> str:
    return f"{value:.1f}"


def _lower(value: float | None, se: float | None) -> float:
    return (value or 0.0) - 2 * (se or 0.0)


def _upper(value: float | None, se: float | None) -> float:
    return (value or 0.0) + 2 * (se or 0.0)


def _interval(value: float | None, se: float | None) -> dict[str, Any]:
    v, e = value or 0.0, se or 0.0
    return {"value": round(v, 3), "ci": {"low": v - 2 * e, "high": v + 2 * e}}


def _count_bars(chart: Chart, counts: list[Count], name: str) -> Any:
    return charts.bars(
        chart.key,
        chart.title,
        chart.description,
        [c.label for c in counts],
        [(name, [c.value for c in counts])],
    )


def _with_svg(chart: Chart, svg: Any) -> Chart:
    return Chart(
        chart.key, chart.title, chart.description, chart.table, svg, chart.empty, chart.notes
    )


# --- one section's figures and charts, for the CSV of one chart ---------------------------------

Section = Callable[[AsyncSession, EventAccess], Awaitable[list[Chart]]]


def _section(
    read: Callable[[AsyncSession, EventAccess], Awaitable[Any]],
    draw: Callable[[Any, bool], list[Chart]],
) -> Section:
    async def charts_of(session: AsyncSession, access: EventAccess) -> list[Chart]:
        return draw(await read(session, access), False)

    return charts_of


SECTIONS: dict[str, Section] = {
    "registrations": _section(analytics.timeline, registration_charts),
    "funnel": _section(analytics.funnel, funnel_charts),
    "questions": _section(analytics.questions, question_charts),
    "teams": _section(analytics.teams, team_charts),
    "submissions": _section(analytics.submissions, submission_charts),
    "judging": _section(judging.judging, judging_charts),
    "results": _section(analytics.results, result_charts),
}


@router.get(DASHBOARD, name="event_dashboard")
async def dashboard_page(page: OrganizerPageDep) -> Response:
    d = await analytics.dashboard(page.session, page.access)
    sections = [
        ("registrations", "Registrations", registration_charts(d.timeline, True)),
        ("funnel", "Funnel", funnel_charts(d.funnel, True)),
        ("questions", "Answers to the registration questions", question_charts(d.questions, True)),
        ("teams", "Teams", team_charts(d.teams, True)),
        ("submissions", "Projects", submission_charts(d.submissions, True)),
        ("judging", "Judging", judging_charts(d.judging, True)),
        ("results", "Results", result_charts(d.results, True)),
    ]
    return await page.render(
        "analytics/dashboard.html",
        "dashboard",
        headers={"Cache-Control": "no-store"},
        d=d,
        sections=[s for s in sections if s[2]],
        csv_base=page.at("/dashboard"),
        coming=by_day(
            await schedule.upcoming_items(page.session, page.access.event.id, COMING_UP),
            page.access.event.timezone,
        ),
        assigned=sum(r.assigned for r in d.judging.judges),
        evaluated=sum(r.done for r in d.judging.judges),
    )


@router.get(DASHBOARD + "/{chart}.csv", name="event_dashboard_csv")
async def dashboard_csv(chart: str, page: OrganizerPageDep) -> Response:
    """One chart's table as CSV: only its section's figures are read."""
    section = SECTIONS.get(chart.split("-", 1)[0])
    if section is None:
        raise NoSuchChart
    await analytics.without_jit(page.session)
    for found in await section(page.session, page.access):
        if found.key == chart:
            return charts.csv_response(found.table, f"{page.access.event.slug}-{chart}.csv")
    raise NoSuchChart
