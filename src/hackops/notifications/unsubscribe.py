"""One-click unsubscribe links: signed, no sign-in needed, never expiring (a mail stays in an
inbox for years, and an unsubscribe link that stops working is a spam report).

The token names a person and a category, signed with SECRET_KEY (HMAC through itsdangerous,
salt "unsubscribe"); it grants nothing but turning that category's mail off for that person.
The page `GET /unsubscribe/{token}` asks for a click; `POST /unsubscribe/{token}` (the page's
button, and RFC 8058 one-click from the mail client, `List-Unsubscribe-Post:
List-Unsubscribe=One-Click`) turns the mail off.
"""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeSerializer

from hackops.config import Settings

SALT = "unsubscribe"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=SALT)


def make_token(settings: Settings, user_id: uuid.UUID, category: str) -> str:
    return str(_serializer(settings).dumps([str(user_id), category]))


def read_token(settings: Settings, token: str) -> tuple[uuid.UUID, str] | None:
    """The person and category a token names, or None when it is not one of ours."""
    try:
        value = _serializer(settings).loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None
    try:
        return uuid.UUID(value[0]), value[1]
    except ValueError:
        return None


def unsubscribe_url(settings: Settings, user_id: uuid.UUID, category: str) -> str:
    """The absolute address of the one-click link (BASE_URL)."""
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{make_token(settings, user_id, category)}"
