"""Every message a person can trigger is written for people: every HTML form the pages render
(each page route of the route table visited by everyone who has a page there), posted with bad
input — every field empty, every field the wrong kind of value, every field far too long —
answers with sentences, never with pydantic's default wording ("String should have at least 1
character") and never with a 500. The API's 422 envelope reads for people the same way."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import SESSION_COOKIE
from hackops.models import Event, Organization
from tests.accounts.helpers import bearer
from tests.security.world import Tenant, build_tenant

#: pydantic's and its validators' own wording, which must never reach a person.
MACHINE_WORDING = re.compile(
    r"String should|Input should|Field required|value is not a valid|ensure this value"
    r"|Value error,|should be a valid|Assertion failed,|Extra inputs are not permitted"
    r"|should have at (?:least|most)|Unable to parse|unexpected extension|json_invalid"
    r"|validation error for|An email address must|missing_argument",
    re.I,
)

#: What a path parameter names in the world the test builds (by the parameter's name).
PARAMETERS = {
    "slug": lambda t: t.slug,
    "event_slug": lambda t: t.event_slug,
    "team_id": lambda t: t.team_id,
    "task_id": lambda t: t.task_id,
    "submission_id": lambda t: t.submission_id,
    "file_id": lambda t: t.file_id,
    "flag_id": lambda t: t.flag_id,
    "criterion_id": lambda t: t.criterion_id,
    "announcement_id": lambda t: t.announcement_id,
    "endpoint_id": lambda t: t.endpoint_id,
    "delivery_id": lambda t: t.delivery_id,
    "notification_id": lambda t: t.notification_id,
    "registration_id": lambda t: t.registration_id,
    "grant_id": lambda t: t.grant_id,
    "invitation_id": lambda t: t.invitation_id,
    "question_id": lambda t: "shirt",
    "action": lambda t: "edit",  # a task's edit form
}

#: Page addresses (GET) whose parameters name nothing the world holds, with why no form is
#: missed: they render no form a person fills in.
NOT_VISITED = {
    "/auth/oauth/{provider}/callback": "a redirect from the provider, no form",
    "/auth/oauth/{provider}/link": "a redirect to the provider, no form",
    "/auth/oauth/{provider}/start": "a redirect to the provider, no form",
    "/dev/mailbox/{email_id}/attachments/{index}": "a mail's attachment, a file",
    "/dev/mailbox/{email_id}/html": "a mail's HTML body, no form",
    "/unsubscribe/{token}": "one button (tests/notifications cover its wording)",
    "/calendar/{token}.ics": "a calendar file",
    "/orgs/{slug}/events/{event_slug}/admin/dashboard/{chart}.csv": "a chart's data, a file",
    "/orgs/{slug}/events/{event_slug}/admin/exports/{dataset}.{fmt}": "an export, a file",
    "/orgs/{slug}/events/{event_slug}/admin/schedule/{schedule_item_id}/edit": (
        "the form adding an item (…/admin/schedule, posted here) with the item's values"
    ),
}

#: Forms these routes render must each have been posted with bad input (the walk reaches them).
MUST_REACH = {
    "/signup",
    "/login",
    "/reset-password",
    "/sign-in-link",
    "/account/profile",
    "/account/password",
    "/account/email",
    "/account/security/tokens",
    "/orgs/new",
    "/orgs/{slug}/settings",
    "/orgs/{slug}/invitations",
    "/orgs/{slug}/webhooks",
    "/orgs/{slug}/new-event",
    "/orgs/{slug}/events/{event_slug}/admin",
    "/orgs/{slug}/events/{event_slug}/admin/windows",
    "/orgs/{slug}/events/{event_slug}/admin/tracks",
    "/orgs/{slug}/events/{event_slug}/admin/awards",
    "/orgs/{slug}/events/{event_slug}/admin/questions",
    "/orgs/{slug}/events/{event_slug}/admin/roles",
    "/orgs/{slug}/events/{event_slug}/admin/judging/criteria",
    "/orgs/{slug}/events/{event_slug}/admin/announcements",
    "/orgs/{slug}/events/{event_slug}/admin/checkin",
    "/orgs/{slug}/events/{event_slug}/admin/schedule",
    "/orgs/{slug}/events/{event_slug}/register",
    "/orgs/{slug}/events/{event_slug}/teams/create",
    "/orgs/{slug}/events/{event_slug}/teams/{team_id}/edit",
    "/orgs/{slug}/events/{event_slug}/teams/{team_id}/submission/save",
    "/orgs/{slug}/events/{event_slug}/teams/{team_id}/tasks",
}

TYPED_INPUTS = {"text", "email", "number", "date", "datetime-local", "time", "url", "search", "tel"}
WRONG = {
    "email": "not-an-address",
    "number": "many",
    "date": "31/02/2026",
    "datetime-local": "next tuesday",
    "time": "noon-ish",
    "url": "not a web address",
    "tel": "☎",
}
TOO_LONG = "x" * 5000


@dataclass
class FormSeen:
    action: str
    route: str  # the route's path format
    visitor: str
    fields: dict[str, str] = field(default_factory=dict)  # name → kind (input type, select …)
    values: dict[str, str] = field(default_factory=dict)  # what the page put in them

    @property
    def editable(self) -> list[str]:
        return [n for n, kind in self.fields.items() if kind not in {"hidden", "submit", "file"}]


class FormParser(HTMLParser):
    """The POST forms of a page: their action, fields (name → kind) and current values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.current: tuple[str, dict[str, str], dict[str, str]] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.current = (a.get("action", ""), {}, {})
            self.forms.append(self.current)
        if self.current is None or not a.get("name"):
            return
        _, fields, values = self.current
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                fields.setdefault(name, kind)
                if "checked" in a:
                    values[name] = a.get("value", "on")
                return
            fields[name] = kind
            values[name] = a.get("value", "")
        elif tag == "select":
            fields[name], self.select = "select", name
        elif tag == "textarea":
            fields[name], self.textarea, values[name] = "textarea", name, ""
        elif tag == "option" and self.select and (self.select not in values or "selected" in a):
            values[self.select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self.current is not None and self.textarea:
            self.current[2][self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def page_routes(app: FastAPI, method: str) -> list[str]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if (
            isinstance(route, APIRoute)
            and route.endpoint.__module__.startswith("hackops.web.")
            and method in (context.methods or ())
        ):
            found.append(context.path_format)
    return sorted(set(found))


def route_of(path: str, formats: list[str]) -> str | None:
    """The route format a form's action posts to (literal parts win over parameters)."""
    for fmt in sorted(formats, key=lambda f: f.count("{")):
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(fmt)) + "$"
        if re.match(pattern, path):
            return fmt
    return None


def visible_text(response: httpx2.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


async def world(client: httpx2.AsyncClient, session: AsyncSession) -> Tenant:
    """The security tests' world (an organization with someone in every role, an event with a
    team, a submission, a criterion, a judge, a draft announcement, a webhook …), its event
    published with registration, submissions and judging open, and a registration question."""
    tenant = await build_tenant(client, session, "wording")
    org = await session.scalar(select(Organization).where(Organization.slug == tenant.slug))
    assert org is not None
    now = datetime.now(UTC)
    await session.execute(
        update(Event)
        .where(Event.org_id == org.id, Event.slug == tenant.event_slug)
        .values(
            published_at=now - timedelta(days=2),
            registration_opens_at=now - timedelta(days=2),
            registration_closes_at=now + timedelta(days=5),
            starts_at=now - timedelta(days=1),
            submissions_close_at=now + timedelta(days=1),
            judging_closes_at=now + timedelta(days=3),
            questions=[
                {
                    "id": "shirt",
                    "kind": "choice",
                    "label": "T-shirt size",
                    "required": True,
                    "options": ["S", "M", "L"],
                },
                {"id": "diet", "kind": "text", "label": "Dietary needs", "required": True},
            ],
        )
    )
    return tenant


def address(fmt: str, tenant: Tenant) -> str | None:
    names = re.findall(r"\{([a-z_]+)\}", fmt)
    if "child_id" in names:
        child = tenant.award_id if "/awards/" in fmt else tenant.track_id
        return fmt.replace("{child_id}", child).format(
            **{n: PARAMETERS[n](tenant) for n in names if n != "child_id"}
        )
    if any(n not in PARAMETERS for n in names):
        return None
    return fmt.format(**{n: PARAMETERS[n](tenant) for n in names})


def bad_inputs(form: FormSeen) -> list[tuple[str, dict[str, str]]]:
    """The form's fields (hidden ones as the page put them) with bad input, three ways."""
    empty = {**form.values, **dict.fromkeys(form.editable, "")}
    wrong = dict(form.values)
    long = dict(form.values)
    for name in form.editable:
        kind = form.fields[name]
        if kind in {"checkbox", "radio"}:
            wrong[name] = "not-a-choice"
            continue
        wrong[name] = WRONG.get(kind, "not-a-choice" if kind == "select" else "<>{}" * 3)
        long[name] = TOO_LONG
    return [("every field empty", empty), ("the wrong kind", wrong), ("far too long", long)]


async def forms_on_pages(
    client: httpx2.AsyncClient, app: FastAPI, tenant: Tenant, visitors: dict[str, str | None]
) -> dict[tuple[str, tuple[str, ...]], FormSeen]:
    posts = page_routes(app, "POST")
    seen: dict[tuple[str, tuple[str, ...]], FormSeen] = {}
    for fmt in page_routes(app, "GET"):
        where = address(fmt, tenant)
        if where is None:
            assert fmt in NOT_VISITED, f"name a value for the parameters of {fmt} in PARAMETERS"
            continue
        for visitor, token in visitors.items():
            browse_as(client, token)
            page = await client.get(where)
            if page.status_code != 200 or not page.headers["content-type"].startswith("text/html"):
                continue
            parser = FormParser()
            parser.feed(page.text)
            for action, fields, values in parser.forms:
                target = action or where
                route = route_of(target.split("?")[0], posts)
                assert route is not None, f"{where} has a form posting to {target}: no route"
                key = (route, tuple(sorted(fields)))  # the same form seen by another: once
                if key not in seen:
                    seen[key] = FormSeen(target, route, visitor, fields, values)
    return seen


def browse_as(client: httpx2.AsyncClient, token: str | None) -> None:
    client.cookies.delete(SESSION_COOKIE)
    if token is not None:
        client.cookies.set(SESSION_COOKIE, token)


@pytest.mark.slow
async def test_every_form_answers_bad_input_in_words_for_people(
    client: httpx2.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    tenant = await world(client, session)
    visitors: dict[str, str | None] = {
        "owner": tenant.tokens["owner"],
        "member": tenant.tokens["member"],
        "admin": tenant.tokens["admin"],  # registered, asked to join the team
        "judge": tenant.judge_tokens["judge"],
        "rival": tenant.rival_token,
        "newcomer": tenant.tokens["organizer"],  # not registered: the registration form
        "visitor": None,
    }
    assert (await client.get("/login")).status_code == 200  # the CSRF cookie
    seen = await forms_on_pages(client, app, tenant, visitors)
    with_fields = [f for f in seen.values() if f.editable]
    problems: list[str] = []
    posted: set[str] = set()
    for form in with_fields:
        for how, data in bad_inputs(form):
            browse_as(client, visitors[form.visitor])
            answer = await client.post(form.action, data=data)
            posted.add(form.route)
            where = f"{form.route} as {form.visitor}, {how}"
            if answer.status_code >= 500:
                problems.append(f"{where}: {answer.status_code}")
                continue
            if answer.status_code in {302, 303}:
                answer = await client.get(answer.headers["location"])
            said = MACHINE_WORDING.search(visible_text(answer))
            if said:
                text = visible_text(answer)
                problems.append(f"{where}: …{text[max(0, said.start() - 60) : said.end() + 60]}…")
    assert not problems, "\n".join(problems)
    assert posted >= MUST_REACH, f"forms not reached: {sorted(MUST_REACH - posted)}"


async def test_the_api_says_what_is_wrong_in_words_for_people(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    tenant = await world(client, session)
    owner = bearer(tenant.tokens["owner"])
    base = f"/api/v1/organizations/{tenant.slug}/events"
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("empty", {"slug": "", "name": ""}, "Name"),
        ("wrong kinds", {"slug": "x" * 300, "name": 7, "capacity": "many"}, "Capacity"),
        ("missing", {}, "Name"),
        ("unknown field", {"slug": "ok-slug", "name": "Hack", "colour": "red"}, "colour"),
    ]
    for case, body, names in cases:
        refused = await client.post(base, json=body, headers=owner)
        assert refused.status_code == 422, (case, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "validation_error"
        for message in [error["message"], *(d["message"] for d in error["details"])]:
            assert not MACHINE_WORDING.search(message), (case, message)
        assert names in error["message"], (case, error["message"])
    not_json = await client.post(
        base, content=b"{not json", headers={**owner, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not MACHINE_WORDING.search(not_json.json()["error"]["message"]), not_json.text
