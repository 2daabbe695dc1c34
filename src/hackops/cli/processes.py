"""How many web processes `hackops serve` starts when `--workers` is not given.

Production: one per core this process may use — the machine's cores, fewer when the process is
pinned to some (CPU affinity: `taskset`, `docker --cpuset-cpus`) or given a CPU quota (cgroup
v2 `cpu.max`, v1 `cpu.cfs_quota_us`: `docker --cpus`, Kubernetes `limits.cpu`, rounded up).
A web process runs one event loop on one core, so fewer leaves cores idle and more only adds
memory and context switches. `WEB_CONCURRENCY` (the name uvicorn and Heroku-style platforms use)
overrides the count. Development and tests: one process (reloads, the in-process worker and the
dev mailbox stay simple).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from hackops.config import Environment, Settings

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The CPU quota of this process's cgroup in whole cores (rounded up), None if unlimited."""
    quota = period = None
    try:  # cgroup v2: "max 100000" or "<quota> <period>"
        fields = (root / "cpu.max").read_text().split()
        if len(fields) == 2 and fields[0] != "max":
            quota, period = int(fields[0]), int(fields[1])
    except (OSError, ValueError):
        for folder in (root / "cpu", root / "cpu,cpuacct", root):  # cgroup v1
            try:
                quota = int((folder / "cpu.cfs_quota_us").read_text())
                period = int((folder / "cpu.cfs_period_us").read_text())
                break
            except (OSError, ValueError):
                continue
    if quota is None or period is None or quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def usable_cpus(root: Path = CGROUP_ROOT) -> int:
    """The cores this process may run on: the machine's, its affinity's and its quota's least."""
    counts = [os.cpu_count() or 1]
    if hasattr(os, "sched_getaffinity"):
        counts.append(len(os.sched_getaffinity(0)))
    if (limit := cgroup_cpu_limit(root)) is not None:
        counts.append(limit)
    return max(1, min(counts))


def default_workers(settings: Settings, environ: dict[str, str] | None = None) -> int:
    """Web processes for `serve` without `--workers` (see the module notes)."""
    environ = dict(os.environ) if environ is None else environ
    given = environ.get("WEB_CONCURRENCY", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    if settings.hackops_env is not Environment.PROD:
        return 1
    return usable_cpus()
