"""Routing without a broker: which queue each event type lands in, topic matching as RabbitMQ
does it, the AMQP settings, and a process without AMQP_URL loading nothing of RabbitMQ."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from pydantic import ValidationError

from hackops.bus.topology import QUEUES, queues_for, routing_key, topic_matches
from hackops.config import Settings, describe_settings_error
from hackops.outbox.catalog import CATALOG

SP, NT, EA = "submission_processing", "notifications", "evaluation_assignment"
#: Every type of the catalogue and the queues it lands in (docs: hackops/bus/topology.py).
EXPECTED = {
    "registration.created": [NT],
    "registration.promoted": [NT],
    "registration.cancelled": [NT],
    "registration.checked_in": [NT],
    "team.invitation_sent": [NT],
    "team.member_joined": [NT],
    "team.member_left": [NT],
    "submission.submitted": [SP, NT],
    "submission.processed": [SP, NT],
    "submission.processing_failed": [SP, NT],
    "submission.approved": [SP, NT, EA],
    "submission.rejected": [SP, NT, EA],
    "judging.judge_assigned": [NT, EA],
    "judging.evaluation_reminder": [NT, EA],
    "judging.flag_raised": [NT],
    "judging.flag_resolved": [NT],
    "results.published": [NT, EA],
    "announcement.sent": [NT],
    "reminder.due": [NT],
    "webhook.test": [],
}


def test_every_event_type_lands_in_the_queues_that_concern_it() -> None:
    assert set(EXPECTED) <= set(CATALOG)
    org = uuid.uuid4()
    for event_type, queues in EXPECTED.items():
        assert queues_for(routing_key(org, event_type)) == queues, event_type
        assert queues_for(routing_key(None, event_type)) == queues, event_type
    # a type added to the catalogue since tells people: it lands in notifications at least
    for event_type in set(CATALOG) - set(EXPECTED):
        assert NT in queues_for(routing_key(org, event_type)), event_type
    assert queues_for(f"{org}.registration.created.extra") == []  # bound per type, exactly
    assert list(QUEUES) == [SP, NT, EA]


def test_routing_keys_name_the_organization_or_the_platform() -> None:
    org = uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    assert routing_key(org, "team.member_left") == f"{org}.team.member_left"
    assert routing_key(None, "results.published") == "platform.results.published"


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("#", "a.b.c", True),
        ("*.submission.#", "org.submission.approved", True),
        ("*.submission.#", "org.submission", True),  # "#" is zero words too
        ("*.submission.#", "submission.approved", False),
        ("*.judging.judge_assigned", "org.judging.judge_assigned", True),
        ("*.judging.judge_assigned", "org.judging.judge_assigned.x", False),
        ("org.#.x", "org.x", True),
        ("org.#.x", "org.a.b.x", True),
        ("*", "a.b", False),
    ],
)
def test_topic_patterns_match_as_rabbitmq_matches_them(
    pattern: str, key: str, matches: bool
) -> None:
    assert topic_matches(pattern, key) is matches


def test_a_malformed_amqp_url_stops_start_up_with_one_line_that_hides_the_password() -> None:
    for value, message in [
        ("http://user:hunter2pw@host/", "must be an AMQP URL like amqp://user:password@host"),
        ("amqp://user:hunter2pw@host:99999/", "has an invalid port"),
        ("amqp:///vhost", "must be an AMQP URL like amqp://user:password@host"),
    ]:
        with pytest.raises(ValidationError) as caught:
            Settings(hackops_env="dev", amqp_url=value, _env_file=None)
        line = describe_settings_error(caught.value)
        assert line.startswith(f"Invalid configuration: AMQP_URL: {message}")
        assert "\n" not in line
        assert "hunter2pw" not in line


def test_the_amqp_url_is_shown_without_its_password() -> None:
    settings = Settings(
        hackops_env="dev",
        amqp_url="amqps://relay:hunter2pw@mq.example.org:5671/hackops",
        _env_file=None,
    )
    assert settings.amqp_url_shown == "amqps://relay:***@mq.example.org:5671/hackops"
    assert "hunter2pw" not in repr(settings)
    blank = Settings(hackops_env="dev", amqp_url=" ", _env_file=None)
    assert blank.amqp_url is None
    with pytest.raises(ValidationError, match="amqp_exchange"):
        Settings(hackops_env="dev", amqp_exchange="a b", _env_file=None)


def test_without_amqp_url_the_app_loads_nothing_of_rabbitmq() -> None:
    probe = (
        "import sys; from hackops.main import create_app; from hackops.config import Settings;"
        " create_app(Settings(hackops_env='dev', _env_file=None));"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('aio_pika', 'aiormq')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
