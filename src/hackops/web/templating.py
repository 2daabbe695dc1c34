"""The Jinja2 environment shared by every page."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from hackops import __version__
from hackops.browser import CSRF_FIELD, csrf_token, pop_flashes

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.globals.update(
        csrf_token=csrf_token,
        csrf_field_name=CSRF_FIELD,
        get_flashes=pop_flashes,
        app_version=__version__,
    )
    return templates
