"""What an announcement says: its title and Markdown body checked (with messages written for the
organizer), rendered as the event's description is (markdown-it, then nh3), and the message
people are told (`compose`). The preview and the fan-out both call `compose`, so the preview is
exactly what people read.

Input rules:
- the title is one line of plain text, 1 to 200 characters (whitespace runs become one space);
- the body is Markdown, 1 to 20,000 characters; raw HTML is refused (a `<script>` would be shown
  as text to every recipient, a `<b>` would not do what was meant): "write it in Markdown";
  a body that is only HTML, or renders to no text at all, is refused as empty;
- control characters other than line breaks and tabs, and the characters that reverse the
  direction of text, are refused in both; text of invisible characters only is empty.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from hackops.events.service import render_description
from hackops.models import Channel, Event
from hackops.notifications.service import Message

MAX_TITLE = 200
MAX_BODY = 20_000
CATEGORY = "announcements"

#: Only to find raw HTML in a body: `render` escapes it anyway (html=False).
_with_html = MarkdownIt("commonmark", {"html": True})
_TAG_IN_TITLE = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>")


#: Characters that reverse the direction text is shown in: a subject can be made to read as
#: something else than what it says ("Trojan Source"), so they are refused.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _control_characters(value: str, allowed: str = "") -> bool:
    return any(
        (unicodedata.category(c) == "Cc" and c not in allowed) or c in _BIDI_CONTROLS for c in value
    )


def _shows_nothing(value: str) -> bool:
    """Only spaces and invisible characters (zero-width spaces, joiners …)."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Zs") for c in value)


def check_title(value: str) -> str:
    """The title as it will be shown; ValueError with the reason for people."""
    if _control_characters(value, "\t\n\r"):
        raise ValueError(
            "The title contains control or direction-changing characters; type it again as"
            " plain text."
        )
    title = " ".join(value.split())
    if _shows_nothing(title):
        raise ValueError("Write a title: it is the subject of the mail and the notification.")
    if len(title) > MAX_TITLE:
        raise ValueError(f"Keep the title to {MAX_TITLE} characters; this one has {len(title)}.")
    tag = _TAG_IN_TITLE.search(title)
    if tag:
        raise ValueError(f"The title is plain text: remove the HTML tag <{tag.group(1)}>.")
    return title


def _html_tokens(tokens: list[Token]) -> list[Token]:
    found: list[Token] = []
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            found.append(token)
        if token.children:
            found += _html_tokens(token.children)
    return found


def visible_text(rendered: str) -> str:
    """The text a rendered body shows, without its markup (empty when nothing would show)."""
    shown = " ".join(html.unescape(nh3.clean(rendered, tags=set())).split())
    return "" if _shows_nothing(shown) else shown


def check_body(value: str) -> str:
    """The Markdown body as it will be sent; ValueError with the reason for people."""
    body = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _control_characters(body, "\t\n"):
        raise ValueError(
            "The message contains control or direction-changing characters; paste it again as text."
        )
    if _shows_nothing(body):
        raise ValueError("Write the message: it cannot be empty.")
    if len(body) > MAX_BODY:
        raise ValueError(
            f"The message is too long: {len(body):,} characters, at most {MAX_BODY:,}."
        )
    raw = _html_tokens(_with_html.parse(body))
    if raw:
        remaining = body
        for token in raw:
            remaining = remaining.replace(token.content.strip(), "")
        if not visible_text(render(remaining)):
            raise ValueError(
                "The message is only HTML, which is never sent (it is removed for safety);"
                " write the message in Markdown."
            )
        tag = _TAG_IN_TITLE.search(raw[0].content)
        shown = f"<{tag.group(1)}>" if tag else "HTML"
        raise ValueError(
            f"Write the message in Markdown: HTML such as {shown} is not allowed"
            " (use **bold**, _italics_, [links](https://…) and lists instead)."
        )
    if not visible_text(render(body)):
        raise ValueError("The message has no text to show; write a few words.")
    return body


def render(body: str) -> str:
    """The body as HTML for the event's pages: Markdown rendered, then sanitized (nh3)."""
    return render_description(body)


def local_moment(value: datetime, zone_name: str) -> datetime:
    """A moment to send at: an aware one as it is, a naive one read on the event's wall clock
    (ValueError when that time does not exist there, the clocks moving forward)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    zone = ZoneInfo(zone_name)
    moment = value.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValueError(f"This time does not exist in {zone_name} (the clocks change).")
    return moment.astimezone(UTC)


def with_offset(moment: datetime | None, zone_name: str) -> str:
    """'2026-11-24 18:00 CET (UTC+01:00)': a moment on the event's wall clock, with its offset."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone_name))
    offset = local.strftime("%z")
    sign_hours, minutes = offset[:3], offset[3:]
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC{sign_hours}:{minutes})"


def subject(event: Event, title: str) -> str:
    return f"{event.name}: {title}"


_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre|tr)>|<br\s*/?>", re.I)


def plain_text(body: str) -> str:
    """The Markdown body as plain text for the notification and the mail's text part: no
    `**`, `_` or link syntax; a link reads "words (address)"; one blank line between blocks."""
    rendered = _LINK.sub(
        lambda m: (
            m.group(2)
            if html.unescape(m.group(2)) == html.unescape(m.group(1))
            else f"{m.group(2)} ({m.group(1)})"
        ),
        render(body),
    )
    rendered = _BLOCK_END.sub(lambda m: m.group(0) + "\n", rendered)
    rendered = re.sub(r"<li>", "• ", rendered)
    text = html.unescape(nh3.clean(rendered, tags=set()))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def compose(event: Event, *, title: str, body: str, channels: list[str], link: str) -> Message:
    """What each recipient is told: the in-app notification (title, the text without Markdown,
    link) and the mail (subject, the text part without Markdown, the HTML part rendered)."""
    return Message(
        category=CATEGORY,
        title=title,
        body=plain_text(body),
        link=link,
        subject=subject(event, title),
        channels=frozenset(Channel(c) for c in channels),
        email_context={"body_html": render(body)},
    )
