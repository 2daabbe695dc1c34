"""Our signatures are Standard Webhooks signatures (checked with the reference library), and the
secrets are stored sealed: unreadable without SECRET_KEY, bound to their endpoint."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hackops.config import Settings
from hackops.webhooks.signing import (
    SecretUnreadable,
    new_secret,
    open_sealed,
    seal,
    sign,
    signature_header,
)
from hackops.webhooks.urls import TargetPolicy

KEY = "k" * 40


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert first != second


def test_our_signature_is_the_reference_librarys() -> None:
    secret = new_secret()
    body = '{"type":"webhook.test","data":{"id":"x"}}'
    moment = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    ours = sign(secret, "msg_1", int(moment.timestamp()), body.encode())
    assert ours == Webhook(secret).sign("msg_1", moment, body)


def test_both_secrets_of_an_overlap_verify_and_a_stranger_does_not() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"type":"webhook.test"}'
    now = int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": signature_header([new, old], "evt_1", now, body),
    }
    assert headers["webhook-signature"].count(" ") == 1
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"type": "webhook.test"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    tampered = {**headers, "webhook-id": "evt_2"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body, tampered)


def test_a_sealed_secret_opens_only_with_its_key_and_endpoint() -> None:
    secret = new_secret()
    endpoint = uuid.uuid4()
    sealed = seal(secret, endpoint_id=endpoint, secret_key=KEY)
    assert secret.encode() not in sealed
    assert base64.b64decode(secret.removeprefix("whsec_")) not in sealed
    assert open_sealed(sealed, endpoint_id=endpoint, secret_key=KEY) == secret
    assert seal(secret, endpoint_id=endpoint, secret_key=KEY) != sealed  # a fresh nonce each time
    with pytest.raises(SecretUnreadable):
        open_sealed(sealed, endpoint_id=endpoint, secret_key="another-" + KEY)
    with pytest.raises(SecretUnreadable):
        open_sealed(sealed, endpoint_id=uuid.uuid4(), secret_key=KEY)
    with pytest.raises(SecretUnreadable):
        open_sealed(b"\x02" + sealed[1:], endpoint_id=endpoint, secret_key=KEY)


def test_the_loopback_allowance_is_refused_outside_dev_mode() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_ALLOW_LOOPBACK lets webhooks reach"):
        Settings(
            hackops_env="prod",
            secret_key="p" * 40,
            webhook_allow_loopback=True,
            _env_file=None,  # type: ignore[call-arg]
        )
    dev = Settings(hackops_env="dev", webhook_allow_loopback=True, _env_file=None)  # type: ignore[call-arg]
    assert TargetPolicy.from_settings(dev) == TargetPolicy(
        require_https=False, allow_loopback=True, timeout=10.0
    )
    test = Settings(hackops_env="test", secret_key="t" * 40, _env_file=None)  # type: ignore[call-arg]
    assert TargetPolicy.from_settings(test).require_https
