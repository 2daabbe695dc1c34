"""A real webhook receiver for the tests: an HTTP/1.1 server on 127.0.0.1 in the test's event
loop, that verifies every request's signature with the `standardwebhooks` library (the reference
implementation, not ours) and answers as the test scripts it: a status, a redirect, a stall until
released, or a body that never ends."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"thanks"
    headers: dict[str, str] = field(default_factory=dict)
    #: Hold the answer until `Receiver.release()`.
    stall: bool = False
    #: A 200 whose body never ends (until the client hangs up).
    endless: bool = False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    #: The names of the secrets whose signature the library accepted.
    verified: list[str]


class Receiver:
    """Serves on 127.0.0.1:<port>; `answers` are used in order, then `default`."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets = dict(secrets or {})
        self.answers: list[Answer] = []
        self.default = Answer()
        self.requests: list[Received] = []
        self.endless_bytes_sent = 0
        self._released = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):  # its handler sees the end of the stream and returns
            writer.close()
        await self._server.wait_closed()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def release(self) -> None:
        self._released.set()

    async def wait_for(self, count: int, within: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while len(self.requests) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.requests)} of {count} requests in time")
            await asyncio.sleep(0.02)

    def _verify(self, body: bytes, headers: dict[str, str]) -> list[str]:
        good = []
        for name, secret in self.secrets.items():
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            good.append(name)
        return good

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """One request and its answer; False when the connection is to end."""
        line = await reader.readline()
        if not line:
            return False
        path = line.decode("latin-1").split(" ")[1]
        headers: dict[str, str] = {}
        while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Received(path, headers, body, self._verify(body, headers)))
        answer = self.answers.pop(0) if self.answers else self.default
        if answer.stall:
            await self._released.wait()
        if answer.endless:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            )
            chunk = b"x" * 65536
            while True:  # until the client hangs up (ConnectionError ends the connection)
                writer.write(chunk)
                await writer.drain()
                self.endless_bytes_sent += len(chunk)
        head = [f"HTTP/1.1 {answer.status} X", f"Content-Length: {len(answer.body)}"]
        head += [f"{name}: {value}" for name, value in answer.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + answer.body)
        await writer.drain()
        return True
