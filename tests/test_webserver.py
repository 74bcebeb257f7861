"""The real Dagster webserver serves the code location of workspace.yaml."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import PROJECT, offline_env

pytestmark = pytest.mark.slow

QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name }
  jobs { name }
  schedules { name cronSchedule executionTimezone }
  assetGroups { groupName }
  assetNodes { assetKey { path } groupName hasAssetChecks }
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


def test_webserver_lists_assets_job_and_schedule(tmp_path):
    port = free_port()
    env = offline_env(tmp_path, SOTABOARD_WAREHOUSE=str(tmp_path / "w.duckdb"))
    (tmp_path / "dagster_home").mkdir()
    process = subprocess.Popen([sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1",
                                "-p", str(port)],
                               cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        nodes = graphql_when_up(port, QUERY, process, lambda: process.stderr.read().decode(), 90)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode is not None
    (repo,) = nodes
    assert repo["location"]["name"] == "pipelines.definitions"
    assert "nightly" in {j["name"] for j in repo["jobs"]}
    schedule = {s["name"]: s for s in repo["schedules"]}["nightly_schedule"]
    assert (schedule["cronSchedule"], schedule["executionTimezone"]) == ("0 2 * * *", "UTC")
    groups = {g["groupName"] for g in repo["assetGroups"]}
    assert {"ingest", "core", "analytics", "publish"} <= groups
    assets = {"/".join(a["assetKey"]["path"]): a for a in repo["assetNodes"]}
    for key in ("catalog", "benchmark_table_rows", "hub_models", "arxiv_papers", "results", "leaderboard",
                "published_warehouse"):
        assert key in assets
    assert assets["leaderboard"]["hasAssetChecks"] and assets["results"]["hasAssetChecks"]
