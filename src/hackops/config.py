"""Settings: one class, read from the environment (and an optional `.env` file).

A bad value stops start-up with one line naming the setting (see `describe_settings_error`).
"""

from __future__ import annotations

import enum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused outside dev
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


BASE_URL_MISSING = (
    "Invalid configuration: BASE_URL is not set; links in mail are made from it. Set it to the"
    " address people open (BASE_URL=https://hackops.example.org), or HACKOPS_ENV=dev locally"
)


class Environment(enum.StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    hackops_env: Environment = Environment.PROD
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    database_url: str | None = None
    database_admin_url: str | None = None
    database_app_role: str = "hackops_app"
    database_pool_size: Annotated[int, Field(ge=1, le=500)] = 20
    database_max_overflow: Annotated[int, Field(ge=0, le=500)] = 10
    # Swap a pooled connection the server closed for a new one at checkout (`db.check_open`:
    # a look at its socket, no round trip); off: a request meets the closed connection.
    database_pool_pre_ping: bool = True
    # Raw-driver connections (autocommit) for the hottest one-statement reads (the live
    # leaderboard's gate); 0 turns them off and those reads go through the ORM session.
    database_read_pool_size: Annotated[int, Field(ge=0, le=100)] = 10
    # The request gate (`hackops.gate`): the caller, their organization and event in one
    # statement. Off: one ORM query at a time, as the loaders read them (the reference path).
    request_gate: bool = True
    redis_url: str | None = None
    # Public pages for anonymous visitors from the versioned cache (hackops.publiccache): on/off,
    # the process's memory for it, how often the versions are polled (the net under LISTEN).
    public_cache: bool = True
    public_cache_bytes: Annotated[int, Field(ge=1024**2, le=16 * 1024**3)] = 64 * 1024**2
    public_cache_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    storage_url: str | None = None
    data_dir: Path = Path(".hackops")
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool = True
    run_worker_in_process: bool = False
    worker_concurrency: Annotated[int, Field(ge=1, le=100)] = 4
    worker_polling_interval: Annotated[float, Field(gt=0, le=60)] = 5.0
    session_lifetime_days: Annotated[int, Field(ge=1, le=365)] = 14
    password_hash_time_cost: Annotated[int, Field(ge=1, le=10)] = 3
    password_hash_memory_kib: Annotated[int, Field(ge=1024, le=1048576)] = 65536
    password_hash_concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    # Request bodies (bodylimit.py): JSON and forms; the ceiling of the upload routes (each
    # upload is then held to its event's own limit); seconds without a byte before a 408.
    max_body_bytes: Annotated[int, Field(ge=1024, le=1024**3)] = 1024**2
    max_upload_bytes: Annotated[int, Field(ge=1024, le=16 * 1024**3)] = 2 * 1024**3
    body_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: SecretStr | None = None
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: SecretStr | None = None
    oauth_microsoft_client_id: str | None = None
    oauth_microsoft_client_secret: SecretStr | None = None
    oauth_microsoft_tenant: str = "common"
    smtp_host: str | None = None
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "HackOps <noreply@localhost>"
    # /metrics is served to these addresses (comma-separated IPs or networks), or to a caller
    # bearing METRICS_TOKEN, which also shows /health/ready's details (errors, timings).
    metrics_allow_from: str = "127.0.0.1,::1"
    metrics_token: SecretStr | None = None
    # Tests only: let the link checker fetch 127.0.0.1 (refused outside dev mode).
    link_fetch_allow_loopback: bool = False
    # Outbound webhooks (hackops.webhooks): the most one attempt may take (connect, send, read
    # the answer); tests only: let endpoints be on 127.0.0.1 (refused outside dev mode).
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    webhook_allow_loopback: bool = False
    # How often an open notification socket checks its session or token again (a revoked one
    # closes it within this many seconds).
    notifications_recheck_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # RabbitMQ event bus (hackops.bus): off unless AMQP_URL is set. The exchange and a queue
    # name prefix let several installations (or test runs) share one virtual host.
    amqp_url: SecretStr | None = None
    amqp_exchange: str = "hackops.events"
    amqp_queue_prefix: str = ""

    @property
    def is_dev(self) -> bool:
        return self.hackops_env is Environment.DEV

    @property
    def base_url_missing(self) -> bool:
        """Production with BASE_URL unset: mail links would lead to the built-in default. `serve`
        refuses to start (dev derives it from the address served; test servers keep the
        default, their mail is read by the tests)."""
        return self.hackops_env is Environment.PROD and "base_url" not in self.model_fields_set

    @property
    def secure_cookies(self) -> bool:
        return not self.is_dev and self.base_url.startswith("https://")

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @field_validator(
        "database_url", "database_admin_url", "redis_url", "storage_url", "smtp_host", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("database_url", "database_admin_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in _POSTGRES_SCHEMES:
            raise ValueError(
                "must be a PostgreSQL URL like postgresql://user:password@host:5432/dbname"
            )
        if not (parts.hostname or "host=" in parts.query) or not parts.path.strip("/"):
            raise ValueError("must name a host and a database, e.g. postgresql://host:5432/hackops")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError("has an invalid port") from exc
        return value

    @field_validator("database_app_role")
    @classmethod
    def _check_app_role(cls, value: str) -> str:
        if not value.replace("_", "").isalnum() or not value[:1].isalpha():
            raise ValueError("must be a plain role name (letters, digits, underscores)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"file", "s3", "memory"}:
            raise ValueError("must be a file://, s3:// or memory:// URL")
        return value

    @field_validator("metrics_allow_from")
    @classmethod
    def _check_metrics_allow_from(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(
                "must be comma-separated IP addresses or networks, e.g. 127.0.0.1,10.0.0.0/8"
                f" ({exc})"
            ) from None
        return value

    @field_validator("amqp_url", mode="before")
    @classmethod
    def _check_amqp_url(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        parts = urlsplit(str(raw))
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError("has an invalid port") from None
        if parts.scheme not in {"amqp", "amqps"} or not parts.hostname:
            # The value is never echoed: it may carry a password.
            raise ValueError("must be an AMQP URL like amqp://user:password@host:5672/vhost")
        return raw

    @field_validator("amqp_exchange")
    @classmethod
    def _check_amqp_exchange(cls, value: str) -> str:
        if not value:
            raise ValueError("must name an exchange (the default is hackops.events)")
        return _amqp_name(value)

    @field_validator("amqp_queue_prefix")
    @classmethod
    def _check_amqp_queue_prefix(cls, value: str) -> str:
        return _amqp_name(value)

    @property
    def amqp_url_shown(self) -> str | None:
        """AMQP_URL as it may be printed or logged: its password replaced by ***."""
        return None if self.amqp_url is None else mask_password(self.amqp_url.get_secret_value())

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.metrics_allow_from)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://hackops.example.org")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.hackops_env is not Environment.DEV:
            if not secret or secret == DEFAULT_SECRET_KEY:
                raise ValueError(
                    "SECRET_KEY is empty or the built-in default; set a random value of at least"
                    " 32 characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                    " or set HACKOPS_ENV=dev for local development"
                )
            if len(secret) < 32:
                raise ValueError("SECRET_KEY must be at least 32 characters outside dev mode")
            if self.link_fetch_allow_loopback:
                raise ValueError(
                    "LINK_FETCH_ALLOW_LOOPBACK opens the link checker to this machine; it is"
                    " for tests in dev mode only"
                )
            if self.webhook_allow_loopback:
                raise ValueError(
                    "WEBHOOK_ALLOW_LOOPBACK lets webhooks reach this machine; it is for tests in"
                    " dev mode only"
                )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in the form SQLAlchemy's psycopg dialect expects."""
        if self.database_url is None:
            raise RuntimeError("the embedded database has not been started")
        return to_sqlalchemy_url(self.database_url)

    @property
    def migration_url(self) -> str:
        """Where migrations run: the owner's connection (DATABASE_ADMIN_URL), else DATABASE_URL."""
        url = self.database_admin_url or self.database_url
        if url is None:
            raise RuntimeError("the embedded database has not been started")
        return to_libpq_url(url)

    @property
    def libpq_url(self) -> str:
        """The database URL in the form libpq (and so psycopg and procrastinate) expects."""
        if self.database_url is None:
            raise RuntimeError("the embedded database has not been started")
        return to_libpq_url(self.database_url)


def to_sqlalchemy_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    return url


def to_libpq_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if scheme == "postgresql+psycopg":
        return f"postgresql://{rest}"
    return url


def _amqp_name(value: str) -> str:
    if len(value) > 200 or not all(c.isascii() and (c.isalnum() or c in "-_.:") for c in value):
        raise ValueError("may hold only letters, digits and - _ . : (200 at most)")
    return value


def mask_password(url: str) -> str:
    """`amqp://user:secret@host/vh` → `amqp://user:***@host/vh` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def hide_password(text: str, url: str) -> str:
    """`text` (an error message about `url`) with the URL's password, if any, replaced."""
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def parse_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """`"127.0.0.1, 10.0.0.0/8"` → networks (a bare address is a network of one)."""
    return tuple(
        ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
    )


def describe_settings_error(error: ValidationError) -> str:
    """One line that names the setting at fault and why."""
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "SETTINGS"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if name != "SETTINGS" else message)
    return "Invalid configuration: " + "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
