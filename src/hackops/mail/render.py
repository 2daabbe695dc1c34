"""Mail rendered from templates: every mail has a text part and an HTML part, both in one layout
(`templates/layout.txt`, `templates/layout.html`) that shows who the mail is from — the
organization it concerns (its name and colour) or the platform — why the person gets it, and,
for a mail they can turn off, the unsubscribe link.

Two Jinja2 environments over `templates/`: HTML with autoescape (names people typed — events,
teams, organizations — are text, never markup), text without. Both use StrictUndefined, so a
template naming a value its caller did not pass fails at once instead of mailing a blank.
Links are absolute (BASE_URL); the HTML uses inline CSS only and no remote image (mail clients
strip style sheets and block remote images).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hackops.models import Organization

TEMPLATES_DIR = Path(__file__).parent / "templates"
PLATFORM_NAME = "HackOps"
#: The colour of a mail when its organization chose none (the site's own blue).
DEFAULT_COLOR = "#1f4fd1"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Brand:
    """Who a mail is from: a name, a colour `#rrggbb` and the path of its home page."""

    name: str = PLATFORM_NAME
    color: str = DEFAULT_COLOR
    path: str = "/"

    @property
    def on_color(self) -> str:
        """The text colour readable on `color` (WCAG contrast of at least 4.5 when possible)."""
        return "#ffffff" if _contrast(self.color, "#ffffff") >= 4.5 else "#111111"


PLATFORM = Brand()


def org_brand(org: Organization) -> Brand:
    """An organization's name and primary colour (its branding; the default colour when it
    chose none or a stored value is not `#rrggbb`: the value goes into CSS)."""
    color = str((org.branding or {}).get("primary_color") or "")
    return Brand(
        name=org.name,
        color=color.lower() if _COLOR.match(color) else DEFAULT_COLOR,
        path=f"/orgs/{org.slug}",
    )


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _environment(*, autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=autoescape,  # noqa: S701 - on for the HTML part; the text part is not HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


HTML = _environment(autoescape=True)
TEXT = _environment(autoescape=False)


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str


def template_names() -> list[str]:
    """Every mail template (without its .txt/.html suffix): each has both parts."""
    found = {
        path.relative_to(TEMPLATES_DIR).with_suffix("").as_posix()
        for path in TEMPLATES_DIR.rglob("*")
        if path.suffix in {".txt", ".html"} and not path.name.startswith(("_", "layout."))
    }
    return sorted(found)


def render(
    template: str,
    *,
    subject: str,
    base_url: str,
    brand: Brand = PLATFORM,
    unsubscribe_url: str | None = None,
    **context: Any,
) -> Rendered:
    """Both parts of the mail `template` (`templates/<template>.txt` and `.html`).

    The layout gets `subject` (the HTML title), `base_url` (links are absolute), `brand` (who the
    mail is from), `unsubscribe_url` (None for a mail that cannot be turned off); the template
    its own `context`."""
    values = {
        "subject": subject,
        "base_url": base_url.rstrip("/"),
        "brand": brand,
        "platform": PLATFORM_NAME,
        "unsubscribe_url": unsubscribe_url,
        **context,
    }
    return Rendered(
        text=TEXT.get_template(f"{template}.txt").render(values),
        html=HTML.get_template(f"{template}.html").render(values),
    )
