"""Throwaway servers of the tests' own, on free ports of 127.0.0.1, that a test stops and starts
again (outage tests). Never the shared services: those are not ours to stop."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hackops.config import Settings

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, up: bool, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                is_up = True
        except OSError:
            is_up = False
        if is_up == up:
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not come {'up' if up else 'down'} in {within} s")


@dataclass
class RedisServer:
    """A `redis-server` without persistence: killed, it comes back empty."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, up=True)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        wait_for_port(self.port, up=False)


@contextmanager
def throwaway_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class SmtpServer:
    """A minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no auth)
    in the test's event loop, keeping the messages it accepts. `stop` closes it and every open
    session; `start` listens again on the same port. `hold()` makes it a stalled server: it
    accepts connections (counted in `connections`) but greets none until `release()`."""

    port: int = field(default_factory=free_port)
    messages: list[bytes] = field(default_factory=list)
    server: asyncio.Server | None = None
    sessions: set[asyncio.StreamWriter] = field(default_factory=set)
    #: Answer every RCPT with a permanent refusal (550).
    refuse_recipients: bool = False
    #: Connections accepted so far (held ones included).
    connections: int = 0
    _answering: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._answering.set()

    def configure(self, settings: Settings, **more: Any) -> Settings:
        """`settings` sending mail through this server (plain, no credentials)."""
        return settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": self.port,
                "smtp_starttls": False,
                "smtp_username": None,
                "smtp_password": None,
                **more,
            }
        )

    def hold(self) -> None:
        """Accept connections but answer nothing (not even the greeting) until `release`."""
        self._answering.clear()

    def release(self) -> None:
        self._answering.set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._session, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self.sessions):
                writer.close()
            self._answering.set()  # held sessions wake up to their closed connection and end
            await self.server.wait_closed()
            self.server = None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions.add(writer)
        self.connections += 1
        try:
            await self._answering.wait()
            writer.write(b"220 localhost test SMTP\r\n")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-localhost\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                    await writer.drain()
                    body = b""
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        body += chunk
                    self.messages.append(body)
                    writer.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                elif verb == b"RCPT" and self.refuse_recipients:
                    writer.write(b"550 no such mailbox\r\n")
                elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    writer.write(b"250 OK\r\n")
                else:
                    writer.write(b"502 not implemented\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.sessions.discard(writer)
            writer.close()
