"""Alembic, driven from code: the app at start-up, the CLI and the tests all use these."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from hackops.config import to_sqlalchemy_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
#: Tables that live in our database but are not ours to model (the job queue's).
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


#: Indexes that exist only where an optional extension is installed (pg_trgm).
OPTIONAL_INDEX_PREFIX = "trgm_"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate filter: leave out the job queue's tables and extension-dependent indexes."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FOREIGN_TABLE_PREFIXES):
        return False
    return not (type_ == "index" and name.startswith(OPTIONAL_INDEX_PREFIX))


def alembic_config(database_url: str, *, app_role: str = "hackops_app") -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["app_role"] = app_role
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", to_sqlalchemy_url(database_url).replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head", *, app_role: str = "hackops_app") -> None:
    command.upgrade(alembic_config(database_url, app_role=app_role), revision)


def downgrade(database_url: str, revision: str, *, app_role: str = "hackops_app") -> None:
    command.downgrade(alembic_config(database_url, app_role=app_role), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)


def revision(database_url: str, message: str, *, autogenerate: bool = True) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)


def head_revisions() -> frozenset[str]:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())
