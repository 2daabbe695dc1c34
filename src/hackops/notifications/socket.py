"""The live notification socket, `GET /ws/notifications` (WebSocket).

- Who: the browser's session cookie, or `Authorization: Bearer <token>` (an API client; an
  API token needs the `read` or `write` scope). A cookie-authenticated handshake must come from
  this site (its `Origin`): another site's page cannot open a socket with the visitor's cookie.
  Refused handshakes get an HTTP answer in the API's error envelope (401, 403; 503 while the
  database cannot answer) and never become a socket.
- What the server sends (JSON text frames): `{"type": "unread", "unread": N}` at once and after
  every change, and `{"type": "notification", "notification": {…as the API lists it…}}` for
  each new one, always followed by the new unread count (counts stop at 100: "99+").
- Access is checked again every `NOTIFICATIONS_RECHECK_SECONDS` (as the live leaderboard's
  stream re-checks): a revoked or expired session or token, or a disabled account, closes the
  socket with code 4401 ("access ended"); a database that cannot answer the check closes it
  with 1013 ("try again later"). Pages then fall back to polling the unread count.
- The socket holds no database connection: each check is one short transaction, and pushes
  come from the process's one listener (`live.Hub`).
"""

from __future__ import annotations

import asyncio
import random

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from hackops.accounts.deps import SESSION_COOKIE
from hackops.config import Settings
from hackops.db import Database
from hackops.notifications.live import Access, Hub, Subscriber, allowed

log = structlog.get_logger("hackops.notifications.socket")

# WebSocket routes only: no request transaction (each check opens its own short one).
router = APIRouter()

PATH = "/ws/notifications"
#: Close codes: access ended (re-check refused), try again later (database unavailable).
CLOSE_ACCESS_ENDED = 4401
CLOSE_TRY_LATER = 1013
ACCESS_ENDED_REASON = "Your session has ended or was revoked: sign in again."


def _credentials(websocket: WebSocket) -> tuple[str | None, bool]:
    """(raw token, came from the cookie), as `accounts.deps.credentials` reads a request."""
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = websocket.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}".lower()


def same_site(websocket: WebSocket, settings: Settings) -> bool:
    """A browser's handshake comes from this site (its Origin); clients without one are not
    browsers, which cannot be made to send a cookie by another site."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    here = websocket.url
    scheme = "https" if here.scheme == "wss" else "http"
    allowed_origins = {_origin(settings.base_url), f"{scheme}://{here.netloc}".lower()}
    return origin.lower() in allowed_origins


async def _refuse(websocket: WebSocket, status: int, code: str, message: str) -> None:
    body = {"error": {"code": code, "message": message, "details": None}}
    try:
        await websocket.send_denial_response(JSONResponse(body, status_code=status))
    except RuntimeError:  # a server without the denial extension: a plain refusal
        await websocket.close(code=1008, reason=message[:120])
        return
    # One turn of the loop: uvicorn notes the closed connection before the endpoint returns
    # (otherwise it logs "returned without completing handshake" for a refusal it sent).
    await asyncio.sleep(0)


@router.websocket(PATH)
async def notification_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    settings: Settings = state.settings
    raw, from_cookie = _credentials(websocket)
    if from_cookie and not same_site(websocket, settings):
        await _refuse(websocket, 403, "origin_refused", "Open this from a HackOps page.")
        return
    try:
        access = await allowed(state.db, raw) if raw else None
    except Exception as exc:  # the database cannot answer: the page polls meanwhile
        log.warning("notification_socket_check_failed", error=str(exc)[:300])
        await _refuse(websocket, 503, "database_unavailable", "Live notifications are unavailable.")
        return
    if access is None:
        await _refuse(
            websocket,
            401,
            "not_authenticated",
            "Sign in first (session cookie or Authorization: Bearer <token>).",
        )
        return
    hub: Hub = state.notification_hub
    await websocket.accept()
    subscriber = hub.subscribe(access.user_id)
    try:
        await _serve(
            websocket,
            subscriber,
            state.db,
            raw or "",
            access,
            settings.notifications_recheck_seconds,
        )
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(subscriber)


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _serve(
    websocket: WebSocket,
    subscriber: Subscriber,
    database: Database,
    raw: str,
    access: Access,
    every: float,
) -> None:
    await websocket.send_json({"type": "unread", "unread": access.unread})
    loop = asyncio.get_running_loop()
    gone = asyncio.create_task(_until_closed(websocket))
    # Spread the checks of sockets opened together (a deploy, a page of many readers).
    next_check = loop.time() + every * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
    try:
        while True:
            waiting = asyncio.create_task(subscriber.queue.get())
            done, _ = await asyncio.wait(
                {waiting, gone},
                timeout=max(0.0, next_check - loop.time()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if waiting in done:
                await websocket.send_json(waiting.result())
                while not subscriber.queue.empty():  # what came meanwhile, without a task each
                    await websocket.send_json(subscriber.queue.get_nowait())
            else:
                waiting.cancel()
            if gone in done:
                return
            if loop.time() < next_check:
                continue
            try:
                still = await allowed(database, raw)
            except Exception as exc:
                log.warning("notification_socket_recheck_failed", error=str(exc)[:300])
                await websocket.close(CLOSE_TRY_LATER, "Live notifications are unavailable.")
                return
            if still is None or still.user_id != subscriber.user_id:
                await websocket.close(CLOSE_ACCESS_ENDED, ACCESS_ENDED_REASON)
                return
            await websocket.send_json({"type": "unread", "unread": still.unread})
            next_check = loop.time() + every
    finally:
        gone.cancel()
