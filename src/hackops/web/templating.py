"""The Jinja2 environment shared by every page."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.templating import Jinja2Templates

from hackops import __version__
from hackops.browser import CSRF_FIELD, csrf_token, pop_flashes
from hackops.web.eventkit import in_zone

TEMPLATES_DIR = Path(__file__).parent / "templates"
#: An event's pages for organizers: under the organization's section, with its settings.
_EVENT_ADMIN = re.compile(r"^/orgs/[^/]+/events/[^/]+/admin(/|$)")
#: An event's own pages (public, team, judging, gallery, results …): the events section.
_EVENT_PAGE = re.compile(r"^/orgs/[^/]+/events/[^/]+(/|$)")
STATIC_DIR = Path(__file__).parent / "static"


def nav_section(path: str) -> str | None:
    """Which item of the site header a page belongs to: "events" (the landing page and every
    event's own pages, for participants, judges and visitors alike), "my-events", "orgs" (the
    organizations and their events' admin), "account", "notifications" — or none."""
    if path == "/" or (_EVENT_PAGE.match(path) and not _EVENT_ADMIN.match(path)):
        return "events"
    if path == "/me/events":
        return "my-events"
    if path == "/orgs" or path.startswith("/orgs/"):
        return "orgs"
    if path == "/account" or path.startswith("/account/"):
        return "account"
    if path == "/notifications":
        return "notifications"
    return None


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.globals.update(
        csrf_token=csrf_token,
        csrf_field_name=CSRF_FIELD,
        get_flashes=pop_flashes,
        app_version=__version__,
        nav_section=nav_section,
        in_zone=in_zone,
    )
    return templates
