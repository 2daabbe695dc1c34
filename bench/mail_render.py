"""What rendering costs in `notifications.service.deliver`'s email half, without the database:
the message's template rendered once, then each person's draft (their signed unsubscribe link put
into both parts), against rendering the template for every person.

    .venv/bin/python bench/mail_render.py [people]
"""

from __future__ import annotations

import sys
import time
import uuid

from hackops.config import Settings
from hackops.mail.render import PLATFORM, render
from hackops.notifications import service
from hackops.notifications.unsubscribe import unsubscribe_url


def main(people: int) -> None:
    settings = Settings(
        hackops_env="test", secret_key="b" * 40, base_url="https://hack.example", _env_file=None
    )
    message = service.Message(
        category="announcements",
        title="Room change: the final demo moves to Hall 2",
        body="The final demo moves to Hall 2.\n\nDoors open at 17:30.",
        link="/orgs/acme/events/robo",
    )
    context = {
        "title": message.title,
        "body": message.body,
        "link": "https://hack.example/orgs/acme/events/robo",
        "link_label": message.link_label,
        "reason": "You get this mail because mail about announcements is on.",
    }
    ids = [uuid.uuid4() for _ in range(people)]

    start = time.perf_counter()
    rendered = render(
        "notification",
        subject=message.title,
        base_url=settings.base_url,
        brand=PLATFORM,
        unsubscribe_url=service._UNSUBSCRIBE_MARK,
        **context,
    )
    mail = service._Mail(message, rendered, settings, can_unsubscribe=True)
    drafts = [mail.draft(f"p{i}@example.org", uid, f"k:{uid}") for i, uid in enumerate(ids)]
    once = time.perf_counter() - start

    start = time.perf_counter()
    for uid in ids:
        render(
            "notification",
            subject=message.title,
            base_url=settings.base_url,
            brand=PLATFORM,
            unsubscribe_url=unsubscribe_url(settings, uid, message.category),
            **context,
        )
    each = time.perf_counter() - start

    html = drafts[0].html or ""
    print(f"{people} people, HTML part {len(html)} bytes, text part {len(drafts[0].body)} bytes")
    print(
        f"render once + personal links: {once * 1000:.0f} ms ({once / people * 1e6:.0f} µs/person)"
    )
    print(
        f"render per person:            {each * 1000:.0f} ms ({each / people * 1e6:.0f} µs/person)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
