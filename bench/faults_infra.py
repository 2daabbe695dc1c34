"""What bench/faults.py runs against: a throwaway PostgreSQL cluster, a redis-server and the app,
each its own process on a free 127.0.0.1 port so a scenario can kill it; plus the seed data and
the request recorder. Nothing here touches the shared services (PostgreSQL on 5432, Redis 6379).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SHARED_PORTS = {5432, 6379, 5672}
WRITERS = 40
TOKEN = "faults-token-{n}"  # user n's bearer token (stored as its SHA-256, like any token)
PROBE_USER = WRITERS + 1  # the user whose GET /api/v1/me are the "ordinary requests"
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "hackops-demo-2026"  # dev-mode demo account
EVENT = "/api/v1/organizations/demo/events/faults"
# Settings of this shell that must not reach the app (it gets its own services, or none).
OUTSIDE_SETTINGS = ("DATABASE_", "REDIS_", "STORAGE_", "SMTP_", "AWS_", "WORKER_", "PASSWORD_HASH_")


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in SHARED_PORTS:
            return port


def _wait_port(port: int, *, up: bool, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return True
        except OSError:
            if not up:
                return True
        time.sleep(0.1)
    return False


class Cluster:
    """A throwaway PostgreSQL 15 cluster (system binaries) listening on 127.0.0.1:<free port>.

    initdb refuses root, so as root the cluster belongs to the `postgres` system user (or
    FAULTS_PG_USER). `kill()` is an immediate shutdown (no checkpoint, like a crash)."""

    def __init__(self, root: Path) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"no PostgreSQL binaries in {PG_BIN} (set FAULTS_PG_BIN)")
        self.root = root / "pg"
        self.data = self.root / "data"
        self.port = free_port()
        self.user: str | None = None
        self.root.mkdir(parents=True)
        if os.geteuid() == 0:
            self.user = os.environ.get("FAULTS_PG_USER", "postgres")
            entry = pwd.getpwnam(self.user)
            os.chmod(root, 0o755)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 200\n"
            )

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(PG_BIN / program), *args],
            check=True,
            user=self.user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.root,
            timeout=120,
        )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start")

    def kill(self) -> None:
        """Immediate shutdown: every backend quits at once, no checkpoint (crash recovery next)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres", role: str = "postgres") -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class RedisServer:
    """redis-server on 127.0.0.1:<free port>, no persistence; `kill()` is SIGKILL."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.dir = root / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        self.process = subprocess.Popen(
            [self.binary, *args, "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _wait_port(self.port, up=True, timeout=15):
            raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of `pid` in MB, from /proc."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                out[key] = int(value.split()[0]) // 1024
    return out


class App:
    """`hackops serve` as a real subprocess (dev mode, in-process worker) so it can be killed."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = root / "app.log"
        (root / "tmp").mkdir(exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(OUTSIDE_SETTINGS)},
            "HACKOPS_ENV": "dev",
            "LOG_JSON": "false",
            "LOG_LEVEL": "INFO",
            "RUN_WORKER_IN_PROCESS": "true",
            "BASE_URL": self.base_url,
            "DATA_DIR": str(root / "data"),
            "TMPDIR": str(root / "tmp"),  # where uploads and multipart bodies spool
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_mb = 0

    def start(self, *, first: bool) -> float:
        """Start (migrations and demo data on the first start); seconds until /health is 200."""
        hackops = Path(sys.executable).with_name("hackops")
        command = [str(hackops)] if hackops.exists() else [sys.executable, "-m", "hackops"]
        command += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--with-worker"]
        command += ["--demo"] if first else ["--no-migrate"]
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = started + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(self.base_url + "/health", timeout=2).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"the app did not answer /health in 180 s; see {self.log}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def memory(self) -> dict[str, int]:
        """VmRSS / VmHWM of the running app in MB (empty when it is not running)."""
        if self.process is None or self.process.poll() is not None:
            return {}
        status = _proc_status(self.pid)
        self.peak_mb = max(self.peak_mb, status.get("VmHWM", 0), status.get("VmRSS", 0))
        return status

    def kill9(self) -> None:
        self.memory()
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.memory()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def seed(admin_url: str) -> None:
    """In the demo organization (made by `serve --demo`): the running event `faults` and, for
    n = 1..41, a user with a bearer token; n = 1..40 each captain of a team with a titled draft
    submission (the writers and uploaders), n = 41 registered only (the ordinary requests)."""
    tokens = [
        (n, hashlib.sha256(TOKEN.format(n=n).encode()).hexdigest())
        for n in range(1, PROBE_USER + 1)
    ]
    with psycopg.connect(admin_url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO events (id, org_id, slug, name, visibility, published_at, starts_at,"
            " submissions_close_at, team_max)"
            " SELECT gen_random_uuid(), id, 'faults', 'Faults', 'public',"
            " now() - interval '3 days', now() - interval '1 day', now() + interval '2 days', 5"
            " FROM organizations WHERE slug = 'demo'"
        )
        conn.execute(
            "CREATE TEMP TABLE people AS SELECT g AS n, gen_random_uuid() AS id,"
            " gen_random_uuid() AS team FROM generate_series(1, %s) g",
            (PROBE_USER,),
        )
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at)"
            " SELECT id, 'f' || n || '@faults.example.com', 'Faults ' || n, now() FROM people"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
                " SELECT gen_random_uuid(), id, 'session', %s, now() + interval '1 day'"
                " FROM people WHERE n = %s",
                [(digest, n) for n, digest in tokens],
            )
        conn.execute(
            "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
            " SELECT gen_random_uuid(), e.org_id, e.id, p.id, 'registered',"
            " upper(substr(md5(p.id::text), 1, 12)) FROM people p, events e WHERE e.slug = 'faults'"
        )
        conn.execute(
            "INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, member_count,"
            " max_members) SELECT p.team, e.org_id, e.id, 'Team ' || p.n, p.id,"
            " upper(substr(md5(p.team::text), 1, 12)), 1, 5 FROM people p, events e"
            " WHERE e.slug = 'faults' AND p.n <= %s",
            (WRITERS,),
        )
        conn.execute(
            "INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)"
            " SELECT gen_random_uuid(), e.org_id, e.id, p.team, p.id, 'captain'"
            " FROM people p, events e WHERE e.slug = 'faults' AND p.n <= %s",
            (WRITERS,),
        )
        conn.execute(
            "INSERT INTO submissions (id, org_id, event_id, team_id, title, tagline, description)"
            " SELECT gen_random_uuid(), e.org_id, e.id, p.team, 'Project ' || p.n, 'Our entry',"
            " 'A draft.' FROM people p, events e WHERE e.slug = 'faults' AND p.n <= %s",
            (WRITERS,),
        )
        conn.execute("UPDATE events SET registered_count = %s WHERE slug = 'faults'", (PROBE_USER,))
        conn.execute("SET session_replication_role = origin")


def team_ids(admin_url: str) -> dict[int, str]:
    """Writer n -> the id of the team they captain."""
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT split_part(split_part(u.email, '@', 1), 'f', 2)::int, t.id FROM teams t"
            " JOIN users u ON u.id = t.captain_id WHERE u.email LIKE 'f%%@faults.example.com'"
        ).fetchall()
    return {int(n): str(team) for n, team in rows}


# --- requests and what became of them --------------------------------------------------------


@dataclass
class Rec:
    kind: str
    start: float
    end: float
    outcome: str  # "2xx" (also 3xx), "4xx", "5xx", "closed", "refused", "timeout"
    status: int = 0

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def outcome_of(exc: BaseException) -> str:
    if isinstance(exc, httpx2.ConnectError):
        return "refused"
    if isinstance(exc, httpx2.TimeoutException):
        return "timeout"
    return "closed"  # the connection ended without a response (reset, EOF, protocol error)


@dataclass
class Recorder:
    records: list[Rec] = field(default_factory=list)
    limit: int = 60_000  # every loop is also bounded in time; this bounds memory and load

    @property
    def full(self) -> bool:
        return len(self.records) >= self.limit

    async def send(
        self, client: httpx2.AsyncClient, kind: str, method: str, url: str, **kwargs: Any
    ) -> httpx2.Response | None:
        start = time.monotonic()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx2.HTTPError as exc:
            self.records.append(Rec(kind, start, time.monotonic(), outcome_of(exc)))
            return None
        status = response.status_code
        outcome = "2xx" if status < 400 else "4xx" if status < 500 else "5xx"
        self.records.append(Rec(kind, start, time.monotonic(), outcome, status))
        return response


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)


def tally(records: list[Rec]) -> dict[str, Any]:
    counts = dict.fromkeys(("2xx", "4xx", "5xx", "closed", "refused", "timeout"), 0)
    statuses: dict[str, int] = {}
    for r in records:
        counts[r.outcome] += 1
        if r.status:
            statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    return {"sent": len(records), **counts, "statuses": dict(sorted(statuses.items()))}


def window(records: list[Rec], start: float, end: float, kind: str | None = None) -> list[Rec]:
    """The requests that ended in [start, end): one cut short by a fault counts in the fault."""
    return [r for r in records if start <= r.end < end and (kind is None or r.kind == kind)]
