"""Every mail template renders both parts in the layout with a sample of what its callers pass
(StrictUndefined: a value the template names and the caller does not pass is an error, never a
blank); links are absolute; the HTML has inline CSS only, no script and no remote image; names
people typed are text in the HTML, and the organization's colour is used only when it is one."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2 import UndefinedError

from hackops.mail.render import (
    DEFAULT_COLOR,
    PLATFORM,
    PLATFORM_NAME,
    Brand,
    org_brand,
    render,
    template_names,
)
from hackops.models import Organization

BASE = "https://hack.example"
LINK = f"{BASE}/some/page?token=abc&next=%2Fx"
HOSTILE = '<script>alert("x")</script> & <b>Bold</b>\r\nBcc: all@example.org'

#: What each template's callers pass (the layout's own values are added by `render`).
SAMPLES: dict[str, dict[str, Any]] = {
    "notification": {
        "title": "Team Sock Sorters has a new member",
        "body": "Max joined.\n\nSay hello.",
        "link": LINK,
        "link_label": "Open in HackOps",
        "reason": "You get this mail because mail about team activity is on.",
    },
    "registration/confirmed": {
        "name": "Ada",
        "event_name": "Robo Cup",
        "event_url": f"{BASE}/orgs/acme/events/robo",
        "registration_url": f"{BASE}/orgs/acme/events/robo/registration",
        "when": "Saturday 12 December 2026, 09:00 – Sunday 13 December 2026, 18:00 (Europe/Berlin)",
        "where": "Hall 1",
        "checkin_code": "ABCD2345EFGH",
        "qr_cid": "checkin-qr.1@hack.example",
        "calendar_file": "robo.ics",
    },
    "registration/waitlisted": {
        "name": "Ada",
        "event_name": "Robo Cup",
        "event_url": f"{BASE}/orgs/acme/events/robo",
        "registration_url": f"{BASE}/orgs/acme/events/robo/registration",
        "when": "",
        "where": "Online",
        "position": 3,
    },
    "registration/seat_freed": {"name": "Ada", "event_name": "Robo Cup", "link": LINK},
    "accounts/verify_email": {"name": "Ada", "link": LINK},
    "accounts/reset_password": {"name": "Ada", "link": LINK},
    "accounts/sign_in_link": {"name": "Ada", "link": LINK},
    "accounts/registration_attempt": {"name": "Ada", "email": "ada@example.org"},
    "accounts/identities_removed": {
        "name": "Ada",
        "proof": "You reset your password",
        "email": "ada@example.org",
        "providers": "GitHub",
    },
    "orgs/invitation": {
        "inviter": "Olga",
        "org_name": "ACME",
        "role": "member",
        "link": LINK,
    },
    "events/role_invitation": {
        "inviter": "Olga",
        "role": "a judge",
        "event_name": "Robo Cup",
        "org_name": "ACME",
        "link": LINK,
    },
    "events/role_granted": {
        "name": "Zoe",
        "inviter": "Olga",
        "role": "a mentor",
        "event_name": "Robo Cup",
        "org_name": "ACME",
        "link": LINK,
        "no_password": True,
    },
    "teams/invitation": {
        "inviter": "Pia",
        "team_name": "Sock Sorters",
        "event_name": "Robo Cup",
        "link": LINK,
    },
    "judging/flag_raised": {
        "judge": "Jade",
        "event_name": "Robo Cup",
        "title": "Gripper",
        "team_name": "Sock Sorters",
        "flag_reason": "A link does not work",
        "note": "The demo link answers 404.\nSecond line.",
        "link": LINK,
    },
    "results/published": {
        "name": "Ada",
        "event_name": "Robo Cup",
        "about": ["Your team's project “Gripper”:", "- Winner — Grand prize", "- 1st place (of 3)"],
        "link": LINK,
    },
    "submissions/links_unreadable": {
        "title": "Gripper",
        "version": 2,
        "failures": [{"url": "https://broken.example/x", "why": "answered 404"}],
    },
    "submissions/processing_failed": {
        "step": "text extraction",
        "title": "Gripper",
        "version": 2,
        "why": "The PDF could not be read.",
        "event_name": "Robo Cup",
        "team_name": "Sock Sorters",
    },
    "submissions/processing_failed_organizers": {
        "step": "text extraction",
        "title": "Gripper",
        "version": 2,
        "why": "The PDF could not be read.",
        "event_name": "Robo Cup",
        "team_name": "Sock Sorters",
    },
}


class Tags(HTMLParser):
    """The tags of an HTML document and their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_every_template_has_a_sample() -> None:
    assert set(template_names()) == set(SAMPLES)


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_each_template_renders_text_and_html_in_the_layout(template: str) -> None:
    brand = Brand(name="ACME Hack Club", color="#ff7a00", path="/orgs/acme")
    unsubscribe = f"{BASE}/unsubscribe/TOKEN"
    mail = render(
        template,
        subject="A subject",
        base_url=BASE + "/",
        brand=brand,
        unsubscribe_url=unsubscribe,
        **SAMPLES[template],
    )
    # the text part: the mail, then the layout's footer (why, unsubscribe, who)
    body, footer = mail.text.split("\n-- \n")
    assert body.strip()
    assert "You get this mail because" in footer
    assert f"Stop these mails with one click: {unsubscribe}" in footer
    assert footer.endswith(f"ACME Hack Club: {BASE}/orgs/acme\n")
    assert "None" not in mail.text
    assert "{{" not in mail.text
    assert "<p" not in mail.text
    # the HTML part: the layout with the brand, every link absolute, no remote resource
    assert mail.html.startswith("<!DOCTYPE html>")
    assert "<title>A subject</title>" in mail.html
    assert "border-top:6px solid #ff7a00" in mail.html
    assert "You get this mail because" in mail.html
    assert "None" not in mail.html
    tags = tags_of(mail.html)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "style", "link", "iframe", "object", "form"}
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert hrefs
    assert all(href and href.startswith(BASE + "/") for href in hrefs), hrefs
    assert unsubscribe in hrefs
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert all(src and src.startswith("cid:") for src in images), images
    # every link of the text part is in the HTML part too
    for url in re.findall(r"https://\S+", mail.text):
        assert url in hrefs or url.replace("&", "&amp;") in mail.html, url


def test_without_an_unsubscribe_address_there_is_no_unsubscribe_link() -> None:
    mail = render(
        "accounts/verify_email", subject="S", base_url=BASE, **SAMPLES["accounts/verify_email"]
    )
    assert "unsubscribe" not in mail.text.lower()
    assert "unsubscribe" not in mail.html.lower()
    assert mail.text.endswith(f"{PLATFORM_NAME}: {BASE}/\n")


@pytest.mark.parametrize("template", ["notification", "registration/confirmed"])
def test_a_missing_value_is_an_error_not_a_blank(template: str) -> None:
    for key in SAMPLES[template]:
        partial = {k: v for k, v in SAMPLES[template].items() if k != key}
        with pytest.raises(UndefinedError):
            render(template, subject="S", base_url=BASE, **partial)


def test_the_verification_text_keeps_its_wording_with_the_footer() -> None:
    mail = render(
        "accounts/verify_email", subject="S", base_url=BASE, name="Ada", link=f"{BASE}/v?t=1"
    )
    assert mail.text == (
        "Hello Ada,\n\nConfirm your email address by opening this link within 30 minutes:\n\n"
        f"{BASE}/v?t=1\n\nIf you did not create a HackOps account, ignore this message.\n"
        "\n-- \nYou get this mail because this address was used to create a HackOps account.\n"
        f"HackOps: {BASE}/\n"
    )


def test_hostile_names_are_text_in_the_html() -> None:
    org = Organization(
        name=HOSTILE, slug="acme", branding={"primary_color": "red;}</td><script>x</script>"}
    )
    brand = org_brand(org)
    assert brand.color == DEFAULT_COLOR
    mail = render(
        "registration/confirmed",
        subject=HOSTILE,
        base_url=BASE,
        brand=brand,
        **{**SAMPLES["registration/confirmed"], "name": HOSTILE, "event_name": HOSTILE},
    )
    assert "<script>" not in mail.html
    assert "<b>Bold</b>" not in mail.html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bold&lt;/b&gt;" in mail.html
    )
    assert not any(tag in {"script", "b"} for tag, _ in tags_of(mail.html))
    # the text part is text: the name as typed
    assert HOSTILE in mail.text


def test_the_organization_colour_and_a_readable_button() -> None:
    dark = org_brand(Organization(name="A", slug="a", branding={"primary_color": "#1F4FD1"}))
    assert dark.color == "#1f4fd1"
    assert dark.on_color == "#ffffff"
    light = org_brand(Organization(name="B", slug="b", branding={"primary_color": "#FFE066"}))
    assert light.on_color == "#111111"
    plain = org_brand(Organization(name="C", slug="c", branding={}))
    assert plain.color == DEFAULT_COLOR
    assert plain.path == "/orgs/c"
    assert PLATFORM.name == PLATFORM_NAME
    assert PLATFORM.path == "/"
