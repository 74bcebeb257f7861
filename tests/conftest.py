"""Shared fixtures: paths, the installed CLI, and environments that keep tests off the network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.settings import BUNDLED_SNAPSHOT

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
SOTABOARD = Path(sys.executable).parent / "sotaboard"


def offline_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process: its own Dagster home and state, no telemetry, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOTABOARD_", "HF_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(tmp / "dagster_home"),
        HF_HOME=str(tmp / "hf_home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_OFFLINE="1",
        DAGSTER_DISABLE_TELEMETRY="1",
    )
    env.update(extra)
    return env


def sotaboard(*args: str, env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(SOTABOARD), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="session")
def bundled_snapshot() -> Path:
    return BUNDLED_SNAPSHOT


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project")
    return SHARED
