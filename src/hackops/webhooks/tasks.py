"""Delivering webhooks: one job per attempt, no database connection held during the request.

`deliver(delivery_id, token, attempt)` runs in three steps:
1. a short transaction reads the delivery, its endpoint and its outbox event, opens the signing
   secrets and builds the body (`_prepare`);
2. the HTTP request, with no connection checked out (`sending.post`: SSRF guard, 10 s, 64 KiB);
3. a short transaction locks the delivery and records the attempt in the log, the delivery's
   state, the endpoint's failure streak, and queues the next attempt (`_record`).

Retries (automatic): 5 s after the first failure, doubling, at most 6 h apart, 25 attempts in
all — about 3.2 days from the first. The job of the next attempt is queued in the transaction
that records the failure; it carries a fresh `job_token`, and a job whose token is no longer the
delivery's (a doubled or stale job) does nothing. Every attempt of a delivery carries the same
`webhook-id` (the event's id) and the same body; the timestamp and signatures are made afresh.
Delivery is at least once: a worker dying between the answer and its recording sends again.

Manual redelivery (`manual=True`) is one attempt now, whatever the schedule: a success
delivers (and ends the schedule), a failure of a delivery already delivered or given up marks
it failed, and a pending delivery keeps its schedule.

Switching an endpoint off (decided so): every attempt counts toward the endpoint's streak of
failures (reset by any success). When the streak is at least `DISABLE_AFTER_FAILURES` (10)
attempts AND began `DISABLE_AFTER` (72 h) ago or more — every delivery to it failing for three
days — the endpoint is turned off, once (a guarded UPDATE), audited as the system, and the
organization's owners are told in the app and by mail (category "system"). Jobs of pending
deliveries then find the endpoint off and fail them without a request ("the endpoint is turned
off"); an admin turns it back on and redelivers.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from procrastinate import RetryStrategy
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import SYSTEM
from hackops.audit.service import record as audit_record
from hackops.jobs import enqueue, job_settings, job_transaction, queue_app
from hackops.models import (
    DeliveryStatus,
    Membership,
    Organization,
    OrgRole,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from hackops.notifications.service import Message
from hackops.notifications.service import deliver as tell
from hackops.tenancy import set_actor
from hackops.webhooks import message, sending
from hackops.webhooks.signing import SecretUnreadable, open_sealed, signature_header
from hackops.webhooks.urls import TargetPolicy, display_url

log = structlog.get_logger("hackops.webhooks")

QUEUE = "webhooks"
FIRST_WAIT_S = 5
MAX_WAIT_S = 6 * 3600
MAX_ATTEMPTS = 25
DISABLE_AFTER_FAILURES = 10
DISABLE_AFTER = timedelta(hours=72)
#: An endpoint's `last_success_at` is kept to this precision (see `_endpoint_health`).
SUCCESS_PRECISION = timedelta(minutes=1)
#: Infrastructure failures only (the database lost while recording): the job runs again.
JOB_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)

TURNED_OFF = "Not sent: the endpoint is turned off."


def wait_after(attempt: int) -> int:
    """Seconds between attempt `attempt` (1-based) failing and the next one."""
    return int(min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** min(attempt - 1, 30)))


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the request needs, read in the first transaction."""

    url: str
    body: bytes
    message_id: str
    secrets: tuple[str, ...]
    started_at: datetime
    #: Set when the attempt cannot be made (the secret does not open): recorded as a failure.
    error: str = ""


@queue_app.task(name="webhooks.deliver", queue=QUEUE, retry=JOB_RETRY)
async def deliver(
    delivery_id: str, token: str | None = None, attempt: int = 1, manual: bool = False
) -> None:
    """One attempt of one delivery (see the module docstring); idempotent by its token."""
    settings = job_settings()
    policy = TargetPolicy.from_settings(settings)
    uid = uuid.UUID(delivery_id)
    prepared = await _prepare(uid, token, manual, settings.secret_key.get_secret_value())
    if prepared is None:
        return
    if prepared.error:
        outcome = sending.Outcome(None, 0, error=prepared.error)
    else:
        timestamp = int(time.time())
        headers = {
            "webhook-id": prepared.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                prepared.secrets, prepared.message_id, timestamp, prepared.body
            ),
        }
        outcome = await sending.post(prepared.url, prepared.body, headers, policy)
    await _record(uid, token, attempt, manual, prepared.started_at, outcome, settings.base_url)
    log.info(
        "webhook_attempted",
        delivery_id=delivery_id,
        attempt=attempt,
        manual=manual,
        status=outcome.status_code,
        ok=outcome.succeeded,
        latency_ms=outcome.latency_ms,
    )


async def _prepare(
    delivery_id: uuid.UUID, token: str | None, manual: bool, secret_key: str
) -> Prepared | None:
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        found = (
            await session.execute(
                select(WebhookDelivery, WebhookEndpoint, OutboxEvent, func.app_now())
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_event_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).one_or_none()
        if found is None:
            return None  # deleted with its endpoint
        delivery, endpoint, event, now = found
        if not manual and (
            delivery.status is not DeliveryStatus.PENDING or str(delivery.job_token) != token
        ):
            return None  # delivered, given up, or a later attempt owns the schedule
        if not endpoint.enabled:
            if not manual:
                delivery.status = DeliveryStatus.FAILED
                delivery.last_error = TURNED_OFF
                delivery.job_token = None
                delivery.next_attempt_at = None
            return None
        try:
            secrets = [
                open_sealed(endpoint.secret_sealed, endpoint_id=endpoint.id, secret_key=secret_key)
            ]
            previous = endpoint.previous_secret_sealed
            expires = endpoint.previous_secret_expires_at
            if previous is not None and expires is not None and expires > now:
                secrets.append(
                    open_sealed(previous, endpoint_id=endpoint.id, secret_key=secret_key)
                )
        except SecretUnreadable:
            return Prepared(
                url=endpoint.url,
                body=b"",
                message_id=str(event.id),
                secrets=(),
                started_at=now,
                error="Not sent: the signing secret cannot be read (the server's SECRET_KEY "
                "changed since it was made); rotate the endpoint's secret.",
            )
        return Prepared(
            url=endpoint.url,
            body=message.body(event),
            message_id=str(event.id),
            secrets=tuple(secrets),
            started_at=now,
        )


async def _record(
    delivery_id: uuid.UUID,
    token: str | None,
    attempt: int,
    manual: bool,
    started_at: datetime,
    outcome: sending.Outcome,
    base_url: str,
) -> None:
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        locked = (
            await session.execute(
                select(WebhookDelivery, func.app_now())
                .where(WebhookDelivery.id == delivery_id)
                .with_for_update(of=WebhookDelivery)
            )
        ).one_or_none()
        if locked is None:
            return  # the endpoint was deleted meanwhile
        delivery, now = locked
        scheduled = (
            not manual
            and delivery.status is DeliveryStatus.PENDING
            and str(delivery.job_token) == token
        )
        delivery.attempts += 1
        row = WebhookAttempt(
            org_id=delivery.org_id,
            delivery_id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            number=delivery.attempts,
            manual=manual,
            started_at=started_at,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            succeeded=outcome.succeeded,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
        session.add(row)
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.succeeded:
            if delivery.status is not DeliveryStatus.DELIVERED:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = now
            delivery.job_token = None
            delivery.next_attempt_at = None
        elif scheduled and attempt >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.job_token = None
            delivery.next_attempt_at = None
            delivery.last_error = (
                f"{outcome.error} Given up after {attempt} attempts over about three days."
            )[:500]
        elif scheduled:
            wait = wait_after(attempt)
            delivery.job_token = uuid.uuid4()
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            await enqueue(
                session,
                deliver,
                queue=QUEUE,
                schedule_in={"seconds": wait},
                delivery_id=str(delivery.id),
                token=str(delivery.job_token),
                attempt=attempt + 1,
            )
        elif manual and delivery.status is not DeliveryStatus.PENDING:
            delivery.status = DeliveryStatus.FAILED
        await session.flush()
        await _endpoint_health(session, delivery.endpoint_id, row, now, base_url)


async def _endpoint_health(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    attempt: WebhookAttempt,
    now: datetime,
    base_url: str,
) -> None:
    """Count the attempt in the endpoint's streak; turn it off after sustained failure."""
    if attempt.succeeded:
        # Written only when it changes something (a streak ends, or the last success is over a
        # minute old): every delivery to a busy endpoint would otherwise queue on its row lock.
        await session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == endpoint_id,
                or_(
                    WebhookEndpoint.consecutive_failures != 0,
                    WebhookEndpoint.last_success_at.is_(None),
                    WebhookEndpoint.last_success_at < now - SUCCESS_PRECISION,
                ),
            )
            .values(consecutive_failures=0, failing_since=None, last_success_at=now)
        )
        return
    streak = (
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(
                consecutive_failures=WebhookEndpoint.consecutive_failures + 1,
                failing_since=func.coalesce(WebhookEndpoint.failing_since, attempt.started_at),
            )
            .returning(WebhookEndpoint.consecutive_failures, WebhookEndpoint.failing_since)
        )
    ).one_or_none()
    if streak is None:
        return
    failures, failing_since = streak
    if failing_since is None or failures < DISABLE_AFTER_FAILURES:
        return
    if failing_since > now - DISABLE_AFTER:
        return
    reason = (
        f"Turned off automatically: every attempt failed since "
        f"{failing_since:%Y-%m-%d %H:%M} UTC ({failures} in a row). The last: {attempt.error}"
    )[:500]
    endpoint = await session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
        .values(enabled=False, disabled_at=now, disabled_reason=reason)
        .returning(WebhookEndpoint)
    )
    if endpoint is None:
        return  # already off
    await _switched_off(session, endpoint, failures, failing_since, attempt, base_url)


async def _switched_off(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    failures: int,
    failing_since: datetime,
    attempt: WebhookAttempt,
    base_url: str,
) -> None:
    org = await session.get(Organization, endpoint.org_id)
    assert org is not None
    shown = display_url(endpoint.url)
    await audit_record(
        session,
        SYSTEM,
        "webhook_endpoint.disabled_automatically",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        org_id=endpoint.org_id,
        details={"url": shown, "failures": failures, "failing_since": failing_since.isoformat()},
    )
    owners = list(
        await session.scalars(
            select(Membership.user_id).where(
                Membership.org_id == endpoint.org_id, Membership.role == OrgRole.OWNER
            )
        )
    )
    path = f"/orgs/{org.slug}/webhooks/{endpoint.id}"
    await tell(
        session,
        org_id=endpoint.org_id,
        user_ids=owners,
        message=Message(
            category="system",
            title=f"A webhook endpoint of {org.name} was turned off",
            subject=f"{org.name}: webhook endpoint turned off after failures",
            body=(
                f"Every attempt to send webhooks to {shown} has failed since "
                f"{failing_since:%Y-%m-%d %H:%M} UTC ({failures} attempts in a row). The last "
                f"one: {attempt.error}\n\nHackOps has stopped sending to it. Fix the receiver, "
                f"then turn the endpoint back on and redeliver what it missed: "
                f"{base_url.rstrip('/')}{path}"
            ),
            link=path,
        ),
        dedupe_key=f"webhook-off:{endpoint.id}:{attempt.id}",
    )
    log.warning("webhook_endpoint_turned_off", endpoint_id=str(endpoint.id), failures=failures)


#: Deliveries (with their log) are kept this long once they are delivered or given up.
LOG_KEPT = timedelta(days=30)
PRUNE_BATCH = 10_000


async def prune(session: AsyncSession, *, kept: timedelta = LOG_KEPT) -> int:
    """Delete up to PRUNE_BATCH finished deliveries older than `kept` (their attempts go with
    them); pending ones stay whatever their age. Idempotent."""
    old = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status != DeliveryStatus.PENDING,
            WebhookDelivery.created_at < func.app_now() - kept,
        )
        .limit(PRUNE_BATCH)
    )
    removed = await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)).returning(WebhookDelivery.id)
    )
    return len(removed.all())


@queue_app.periodic(cron="41 * * * *")
@queue_app.task(name="webhooks.prune_log", queue="default", retry=JOB_RETRY)
async def prune_log(timestamp: int) -> None:
    """Hourly: the delivery log of the last 30 days is what the pages and the API show."""
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        removed = await prune(session)
    log.info("webhook_log_pruned", removed=removed, scheduled_for=timestamp)
