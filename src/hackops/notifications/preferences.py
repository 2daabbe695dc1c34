"""A person's notification preferences: per category and channel, and the daily digest.

No row means the category's default (`categories.py`); a transactional category is shown but
refuses being turned off; the digest is an email option of categories with `digest_allowed`.
`service.deliver` reads the same rows (`service.choices`). One-click unsubscribe (a signed link,
no sign-in: `unsubscribe.py`) turns one category's email off for the person the link names.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import AppError, NotFound, ValidationFailed
from hackops.models import Channel, NotificationPreference, User
from hackops.notifications.categories import CATEGORIES, Category
from hackops.notifications.schemas import CategoryPreferenceIn, PreferencesIn
from hackops.tenancy import set_actor


class UnknownCategory(ValidationFailed):
    code = "unknown_category"
    message = "There is no such kind of notification."


class CategoryRequired(ValidationFailed):
    code = "category_required"
    message = "This kind of message cannot be turned off."


class DigestNotAvailable(ValidationFailed):
    code = "digest_not_available"
    message = "This kind of message cannot be gathered into a daily digest."


class DigestNeedsEmail(ValidationFailed):
    code = "digest_needs_email"
    message = "The daily digest comes by email: turn email on to get it."


class CannotUnsubscribe(AppError):
    status_code = 409
    code = "category_required"
    message = "These emails cannot be turned off: they answer something you did."


class UnsubscribeLinkInvalid(NotFound):
    code = "unsubscribe_link_invalid"
    message = "This unsubscribe link is not valid (it may be cut short, or its account is gone)."


@dataclass(frozen=True)
class CategoryChoice:
    category: Category
    in_app: bool
    email: bool
    digest: bool


async def mine(session: AsyncSession, user: User) -> list[CategoryChoice]:
    """The person's choice for every category, defaults filled in (a transactional category is
    always on)."""
    rows = await session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    found = {(row.category, row.channel): row for row in rows}
    out: list[CategoryChoice] = []
    for category in CATEGORIES.values():
        in_app = Channel.IN_APP in category.default_channels
        email = Channel.EMAIL in category.default_channels
        digest = False
        if not category.transactional:
            if (chosen := found.get((category.key, Channel.IN_APP))) is not None:
                in_app = chosen.enabled
            if (chosen := found.get((category.key, Channel.EMAIL))) is not None:
                email = chosen.enabled
                digest = chosen.enabled and chosen.digest and category.digest_allowed
        out.append(CategoryChoice(category, in_app, email, digest))
    return out


def _checked(item: CategoryPreferenceIn) -> Category:
    category = CATEGORIES.get(item.category)
    if category is None:
        raise UnknownCategory(details={"category": item.category})
    if category.transactional and not (item.in_app and item.email):
        raise CategoryRequired(
            f"{category.label} cannot be turned off: they answer something you did.",
            details={"category": category.key},
        )
    if item.digest and not category.digest_allowed:
        raise DigestNotAvailable(
            f"{category.label} cannot be gathered into a daily digest.",
            details={"category": category.key},
        )
    if item.digest and not item.email:
        raise DigestNeedsEmail(details={"category": category.key})
    return category


async def _save(
    session: AsyncSession, user_id: uuid.UUID, category: str, channel: Channel, **values: bool
) -> None:
    await session.execute(
        insert(NotificationPreference)
        .values(user_id=user_id, category=category, channel=channel, **values)
        .on_conflict_do_update(
            index_elements=["user_id", "category", "channel"],
            set_={**values, "updated_at": func.app_now()},
        )
    )


async def update(
    session: AsyncSession, actor: Actor, user: User, body: PreferencesIn
) -> list[CategoryChoice]:
    """Save the person's choices for the categories in `body` (others unchanged); every item
    is checked before anything is written."""
    checked: Sequence[tuple[Category, CategoryPreferenceIn]] = [
        (_checked(item), item) for item in body.categories
    ]
    for category, item in checked:
        if category.transactional:
            continue  # always on: nothing to store
        await _save(session, user.id, category.key, Channel.IN_APP, enabled=item.in_app)
        await _save(
            session, user.id, category.key, Channel.EMAIL, enabled=item.email, digest=item.digest
        )
    await record(
        session,
        actor,
        "notification_preferences.updated",
        resource_type="user",
        resource_id=user.id,
        details={
            item.category: {"in_app": item.in_app, "email": item.email, "digest": item.digest}
            for _, item in checked
        },
    )
    return await mine(session, user)


async def unsubscribe(
    session: AsyncSession,
    user_id: uuid.UUID,
    category_key: str,
    *,
    ip: str | None = None,
    user_agent: str = "",
) -> Category:
    """Turn off one category's email for the person a signed link names (no sign-in: the
    link is the credential, and it grants nothing else)."""
    category = CATEGORIES.get(category_key)
    user = await session.get(User, user_id)
    if category is None or user is None:
        raise UnsubscribeLinkInvalid
    if category.transactional:
        raise CannotUnsubscribe(
            f"Emails about {category.label.lower()} cannot be turned off: they answer something "
            "you did (a registration, a sign-in)."
        )
    # The link proves who it is for: their own rows, as if they were signed in.
    await set_actor(session, user.id)
    await _save(session, user.id, category.key, Channel.EMAIL, enabled=False, digest=False)
    await record(
        session,
        Actor(user=user, ip=ip, user_agent=user_agent[:400]),
        "notification_preferences.unsubscribed",
        resource_type="user",
        resource_id=user.id,
        details={"category": category.key},
    )
    return category
