"""`rows.detached` (the read pool's caller, `gate.run_on_pool`) builds model objects without
their constructor: it must work as the very first ORM use of a process (the mappers not
configured yet), as on a fresh web process whose first request is `GET /api/v1/me`."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import uuid
from datetime import UTC, datetime
from hackops.rows import detached
from hackops.models import AuthToken, User
values = []
for column in User.__table__.columns:
    if column.key == "id":
        values.append(uuid.uuid4())
    elif column.key == "email":
        values.append("ada@example.org")
    else:
        values.append(None)
user = detached(User, values)
assert user.email == "ada@example.org", user.email
assert isinstance(user.id, uuid.UUID)
token = detached(AuthToken, [None] * len(AuthToken.__table__.columns))
assert token.kind is None
print("ok")
"""


def test_a_detached_object_is_readable_as_a_process_first_orm_use() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
