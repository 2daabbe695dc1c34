"""`hackops serve` without `--workers`: one web process per usable core in production, one in
development and tests (cli/processes.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hackops.cli import app as cli
from hackops.cli.processes import cgroup_cpu_limit, default_workers, usable_cpus
from hackops.config import Environment, Settings


def settings_in(env: Environment) -> Settings:
    return Settings(
        hackops_env=env,
        secret_key="s" * 48,
        base_url="https://hackops.example",
        _env_file=None,  # type: ignore[call-arg]
    )


def test_production_defaults_to_one_process_per_usable_core() -> None:
    prod = settings_in(Environment.PROD)
    assert default_workers(prod, {}) == usable_cpus()
    cores = os.cpu_count() or 1
    assert 1 <= usable_cpus() <= cores
    if hasattr(os, "sched_getaffinity"):
        assert usable_cpus() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("env", [Environment.DEV, Environment.TEST])
def test_development_and_tests_stay_one_process(env: Environment) -> None:
    assert default_workers(settings_in(env), {}) == 1


def test_web_concurrency_overrides_the_default() -> None:
    assert default_workers(settings_in(Environment.PROD), {"WEB_CONCURRENCY": "3"}) == 3
    assert default_workers(settings_in(Environment.DEV), {"WEB_CONCURRENCY": "2"}) == 2
    # Not a positive whole number: ignored.
    assert default_workers(settings_in(Environment.DEV), {"WEB_CONCURRENCY": "0"}) == 1
    assert default_workers(settings_in(Environment.DEV), {"WEB_CONCURRENCY": "many"}) == 1


def test_a_cgroup_v2_quota_in_whole_cores(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 2  # 1.5 cores: two processes, rounded up
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1
    assert usable_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None


def test_a_cgroup_v1_quota(tmp_path: Path) -> None:
    folder = tmp_path / "cpu,cpuacct"
    folder.mkdir()
    (folder / "cpu.cfs_quota_us").write_text("300000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) == 3
    (folder / "cpu.cfs_quota_us").write_text("-1\n")  # unlimited
    assert cgroup_cpu_limit(tmp_path) is None


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None


def test_serve_help_says_the_default() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    # Rich draws the options in a box, wrapping lines inside it.
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())
    assert "one per usable core" in text
    assert "WEB_CONCURRENCY" in text
