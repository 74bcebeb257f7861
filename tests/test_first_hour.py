"""A new user's first hour: the README's commands on a fresh clone with nothing beside it, and
`sotaboard dev` started the way a user starts it (the venv not activated)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT, SOTABOARD

pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent
# what a terminal without the venv activated has on PATH
PATH_WITHOUT_VENV = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p) != VENV_BIN)
DEV_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  location { name }
  jobs { name }
  schedules { name cronSchedule executionTimezone scheduleState { status } }
  sensors { name sensorState { status } }
  assetGroups { groupName }
  assetNodes { assetKey { path } hasAssetChecks }
} } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql_when_up(port: int, query: str, process: subprocess.Popen, output, seconds: float) -> list[dict]:
    """The repositories a Dagster webserver on `port` answers to `query`, once it is up (within
    `seconds`; `output()` tells what the process said if it dies first)."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while True:
        try:
            request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                nodes = json.load(response)["data"]["repositoriesOrError"].get("nodes")
            if nodes:        # the server answers before its code location has loaded
                return nodes
        except OSError:
            pass
        assert process.poll() is None, output()[-3000:]
        assert time.monotonic() < deadline, f"the webserver did not serve the code location within {seconds:.0f} s"
        time.sleep(0.5)


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's terminal: no sotaboard or Dagster variables (so DAGSTER_HOME takes
    its default and telemetry is whatever the project's dagster.yaml says), the venv not on PATH, the
    Hub kept offline."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOTABOARD_", "HF_", "DAGSTER_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=PATH_WITHOUT_VENV, HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", **extra)
    return env


def problem_lines(output: str) -> list[str]:
    """Lines of a run's output that announce a failure or a warning."""
    words = ("warn", "fail", "error", "traceback", "telemetry")
    return [line for line in output.splitlines() if any(word in line.lower() for word in words)]


def test_dev_runs_without_the_venv_on_path_and_serves_the_code_location(tmp_path):
    port = free_port()
    process = subprocess.Popen([str(SOTABOARD), "dev", "-h", "127.0.0.1", "-p", str(port)], cwd=tmp_path,
                               env=user_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        # a loaded 2-core machine needs a minute or more
        (repo,) = graphql_when_up(port, DEV_QUERY, process, lambda: process.stdout.read().decode(), 240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)       # Ctrl-C, as in a terminal: dagster dev stops its children
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    output = process.stdout.read().decode()
    # workspace.yaml's code location: the job, the nightly schedule, the asset groups and their checks
    assert repo["location"]["name"] == "pipelines.definitions"
    assert "nightly" in {job["name"] for job in repo["jobs"]}
    assert {g["groupName"] for g in repo["assetGroups"]} >= {"ingest", "core", "analytics", "publish"}
    assets = {"/".join(node["assetKey"]["path"]): node for node in repo["assetNodes"]}
    assert {"catalog", "benchmark_table_rows", "hub_models", "arxiv_papers", "results", "leaderboard",
            "published_warehouse"} <= set(assets)
    assert assets["leaderboard"]["hasAssetChecks"] and assets["results"]["hasAssetChecks"]
    (schedule,) = repo["schedules"]
    assert (schedule["cronSchedule"], schedule["executionTimezone"]) == ("0 2 * * *", "UTC")
    # the schedule and the sensor that evaluates the freshness checks run without being switched on
    assert {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]} == {"nightly_schedule": "RUNNING"}
    assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == {"freshness_checks_sensor": "RUNNING"}
    assert (tmp_path / ".dagster_home" / "dagster.yaml").read_text() == (PROJECT / "pipelines" / "dagster.yaml").read_text()
    assert "Supersession" not in output and "No dagster instance configuration" not in output, output
    assert "telemetry" not in output.lower(), output


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The committed HEAD of this checkout, cloned into an empty folder: nothing is beside it."""
    folder = tmp_path_factory.mktemp("fresh") / "sotaboard"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT), str(folder)], check=True, capture_output=True)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["sotaboard"]
    return folder


def in_clone(clone: Path) -> dict[str, str]:
    """The clone's own code first on the path: the venv of this checkout has the dependencies."""
    return user_env(PYTHONPATH=str(clone))


def test_fresh_clone_first_run_publishes_without_a_failed_check_or_a_warning(clone):
    """The README's first command, `python3 -m venv .venv && .venv/bin/pip install -e '.[test]' &&
    .venv/bin/sotaboard run`, on a clone. To keep it cheap the venv of this checkout is reused instead
    of installing again (its Python, with the clone's code first on PYTHONPATH): the step tested is
    the run, with the user's defaults (warehouse, state and DAGSTER_HOME in the clone)."""
    result = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; raise SystemExit(main())", "run"],
                            cwd=clone, env=in_clone(clone), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"snapshot={clone / 'pipelines' / 'snapshot'}" in result.stdout      # the clone's code ran
    assert problem_lines(result.stdout) == [] and problem_lines(result.stderr) == []
    assert result.stderr == ""
    assert f"published {clone / 'warehouse' / 'sotaboard.duckdb'}" in result.stdout
    (quarantined,) = [line for line in result.stdout.splitlines() if line.startswith("quarantined:")]
    assert quarantined.startswith("quarantined: pwc-table") and "arxiv" not in quarantined   # cells the tables refuse
    assert (clone / ".dagster_home" / "dagster.yaml").is_file()


def test_fresh_clone_collects_every_test_without_shared(clone):
    """The README's second command needs nothing beside the clone: collection has no error and no skip
    (a test that needs real data reads tests/data/)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-rs", "-p", "no:cacheprovider"],
                            cwd=clone, env=in_clone(clone), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    summary = lines[-1]
    assert " tests collected in " in summary and "error" not in summary and "skip" not in summary, summary
    assert [line for line in lines if line.startswith(("ERROR", "SKIPPED"))] == []
    assert "../shared" not in result.stdout
    assert int(summary.split()[0]) > 300
