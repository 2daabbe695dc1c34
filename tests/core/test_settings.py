from __future__ import annotations

import pytest
from pydantic import ValidationError

from hackops.config import DEFAULT_SECRET_KEY, Settings, describe_settings_error
from tests.helpers import run_cli

GOOD_SECRET = "x" * 40


def build(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def error_line(**values: object) -> str:
    with pytest.raises(ValidationError) as info:
        build(**values)
    return describe_settings_error(info.value)


def test_default_secret_is_refused_in_prod() -> None:
    line = error_line(hackops_env="prod", secret_key=DEFAULT_SECRET_KEY)
    assert line.startswith("Invalid configuration: SECRET_KEY is empty or the built-in default")


def test_empty_secret_is_refused_outside_dev() -> None:
    assert "SECRET_KEY is empty" in error_line(hackops_env="test", secret_key="")


def test_short_secret_is_refused_in_prod() -> None:
    assert "SECRET_KEY must be at least 32 characters" in error_line(secret_key="short")


def test_default_secret_is_accepted_in_dev() -> None:
    settings = build(hackops_env="dev")
    assert settings.is_dev
    assert settings.secret_key.get_secret_value() == DEFAULT_SECRET_KEY


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://root@localhost/db", "must be a PostgreSQL URL"),
        ("not a url", "must be a PostgreSQL URL"),
        ("postgresql://localhost:5432", "must name a host and a database"),
        ("postgresql://localhost:99999/hackops", "has an invalid port"),
    ],
)
def test_malformed_database_url_is_refused(url: str, reason: str) -> None:
    line = error_line(secret_key=GOOD_SECRET, database_url=url)
    assert line.startswith("Invalid configuration: DATABASE_URL: ")
    assert reason in line


def test_valid_urls_are_accepted_and_converted() -> None:
    settings = build(
        secret_key=GOOD_SECRET,
        database_url="postgresql://u:p@db.internal:5432/hackops",
        redis_url="redis://cache:6379/0",
        storage_url="s3://bucket/prefix",
        base_url="https://hackops.example.org/",
    )
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db.internal:5432/hackops"
    assert settings.libpq_url == "postgresql://u:p@db.internal:5432/hackops"
    assert settings.base_url == "https://hackops.example.org"


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("redis_url", "http://cache", "REDIS_URL"),
        ("storage_url", "ftp://files", "STORAGE_URL"),
        ("base_url", "hackops.example.org", "BASE_URL"),
        ("hackops_env", "staging", "HACKOPS_ENV"),
        ("log_level", "LOUD", "LOG_LEVEL"),
    ],
)
def test_other_bad_values_name_their_setting(field: str, value: str, name: str) -> None:
    assert error_line(secret_key=GOOD_SECRET, **{field: value}).startswith(
        f"Invalid configuration: {name}: "
    )


def test_cli_stops_with_one_line_naming_the_setting() -> None:
    env = {
        "HACKOPS_ENV": "prod",
        "SECRET_KEY": GOOD_SECRET,
        "DATABASE_URL": "mysql://root@localhost/hackops",
    }
    result = run_cli("db", "current", env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Invalid configuration: DATABASE_URL: must be a PostgreSQL URL")


def test_cli_refuses_the_default_secret_in_prod() -> None:
    result = run_cli("db", "current", env={"HACKOPS_ENV": "prod"})
    assert result.returncode == 2
    assert "SECRET_KEY is empty or the built-in default" in result.stderr


def test_serve_in_production_refuses_to_start_without_base_url() -> None:
    result = run_cli(
        "serve", "--no-migrate", env={"HACKOPS_ENV": "prod", "SECRET_KEY": GOOD_SECRET}
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Invalid configuration: BASE_URL is not set; links in mail")
    assert "Embedded PostgreSQL" not in result.stderr  # refused before anything started


@pytest.mark.parametrize(
    ("env", "base_url", "missing"),
    [
        ("prod", None, True),
        ("prod", "https://hackops.example.org", False),
        ("test", None, False),  # test servers keep the default
        ("dev", None, False),  # `serve` derives it from the address served
    ],
)
def test_base_url_is_missing_only_in_production(
    env: str, base_url: str | None, missing: bool
) -> None:
    given = {"base_url": base_url} if base_url else {}
    settings = build(hackops_env=env, secret_key=GOOD_SECRET, **given)
    assert settings.base_url_missing is missing
