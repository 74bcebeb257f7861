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


def test_webserver_lists_assets_job_and_schedule(tmp_path):
    port = free_port()
    env = offline_env(tmp_path, SOTABOARD_WAREHOUSE=str(tmp_path / "w.duckdb"))
    (tmp_path / "dagster_home").mkdir()
    process = subprocess.Popen([sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1",
                                "-p", str(port)],
                               cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "webserver did not answer within 90 s"
            time.sleep(0.5)
        request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": QUERY}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            nodes = json.load(response)["data"]["repositoriesOrError"]["nodes"]
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
