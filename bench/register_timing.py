"""Is registration's time an oracle for "this address is taken"? Fresh and taken addresses, timed.

    .venv/bin/python bench/register_timing.py [--rounds 40]

In a database of its own, with the production password-hashing parameters, calls the
registration service (`accounts.service.register`, one committed transaction per call, as the
API's edge does) alternately for a new address and for one that already has an account, and
reports the median and p90 of each branch and the difference of the medians. Both branches hash
the password (argon2id), which dominates; the rest is a few inserts either way.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import admin_url, as_role, drop_database, fresh_database  # noqa: E402

from hackops.accounts.admin import hasher_for  # noqa: E402
from hackops.accounts.service import Services, register  # noqa: E402
from hackops.actor import Actor  # noqa: E402
from hackops.config import Settings  # noqa: E402
from hackops.db import Database  # noqa: E402
from hackops.ratelimit import Limiter  # noqa: E402

DB_NAME = "hackops_bench_register"
PASSWORD = "a long enough bench passphrase"


async def run(url: str, rounds: int) -> dict[str, list[float]]:
    settings = Settings(
        hackops_env="test",
        secret_key="bench-" + "s" * 40,
        database_url=as_role(url, "hackops_app"),
        database_admin_url=url,
        storage_url=f"file://{tempfile.mkdtemp(prefix='hackops-bench-')}",
        log_level="WARNING",
        _env_file=None,
    )
    db = Database.from_settings(settings)
    services = Services(
        hasher=hasher_for(settings),
        limiter=Limiter.from_settings(settings),
        base_url="http://127.0.0.1",
        session_lifetime=timedelta(days=14),
    )
    anonymous = Actor(None, "127.0.0.1", "bench")
    timings: dict[str, list[float]] = {"fresh": [], "taken": []}

    async def once(email: str) -> float:
        started = time.perf_counter()
        async with db.transaction() as session:
            await register(session, anonymous, services, email=email, password=PASSWORD)
        return time.perf_counter() - started

    try:
        await once("taken@bench.example")
        for n in range(rounds):
            timings["fresh"].append(await once(f"fresh{n}@bench.example"))
            timings["taken"].append(await once("taken@bench.example"))
    finally:
        await db.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        try:
            timings = asyncio.run(run(url, max(1, min(args.rounds, 500))))
        finally:
            drop_database(admin, DB_NAME)
    medians = {}
    for branch, values in timings.items():
        ms = sorted(v * 1000 for v in values)
        medians[branch] = statistics.median(ms)
        p90 = ms[int(0.9 * (len(ms) - 1))]
        print(f"{branch:>5}: n={len(ms)} median {medians[branch]:.1f} ms, p90 {p90:.1f} ms")
    print(f"median difference (taken - fresh): {medians['taken'] - medians['fresh']:+.1f} ms")


if __name__ == "__main__":
    main()
