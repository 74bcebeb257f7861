"""Reliability with real processes and files: analysts never block a run, kills lose nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import SHARED, SOTABOARD, sotaboard

from pipelines.settings import BUNDLED_SNAPSHOT

pytestmark = pytest.mark.slow


def counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory, bundled_run):
    """Snapshot A (the bundled one) and B (A plus another table), and a run of A: the session's run
    of the bundled snapshot (conftest.bundled_run), which each test copies whole (published file,
    working database in `.state/`, Dagster home) into its own folder, as a run would leave it."""
    tmp = tmp_path_factory.mktemp("reliability")
    b = tmp / "b"
    shutil.copytree(BUNDLED_SNAPSHOT, b)
    if SHARED.is_dir():
        shutil.copy(SHARED / "data" / "pwc" / "coqa.json", b / "tables" / "coqa_extra.json")
    else:
        (b / "tables" / "extra.csv").write_text("model_name,benchmark,metric,value\nX,Toy,accuracy,1\n")
    return tmp, bundled_run, b


def analyst(warehouse: Path, stop: Path) -> subprocess.Popen:
    """An analyst who opens the published file read-only and queries it until `stop` exists, then
    prints the result counts seen."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, os, time
        con = duckdb.connect({str(warehouse)!r}, read_only=True)
        seen = set()
        print("ready", flush=True)
        deadline = time.time() + 600
        while not os.path.exists({str(stop)!r}) and time.time() < deadline:
            seen.add(con.execute("SELECT count(*) FROM results").fetchall()[0][0])
            time.sleep(0.05)
        print(sorted(seen), flush=True)
    """)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_kills_and_an_analyst_holding_the_file_never_cost_the_last_good_warehouse(two_snapshots):
    """Runs of B killed one after the other, in ingest, in a transform and in the publish (each starts
    from the state the kill before left): the published file stays A's, openable. Then a run completes
    while an analyst holds the file open and queries it: it is not blocked, the analyst keeps a
    consistent view of the old data, and new connections see B."""
    tmp, run_of_a, b = two_snapshots
    warehouse, env = run_of_a.copy(tmp / "kills")
    good = counts(warehouse)
    for kill_at in ("benchmark_table_rows", "leaderboard", "published_warehouse"):
        process = subprocess.Popen([str(SOTABOARD), "run", "--snapshot", str(b), "--warehouse", str(warehouse)],
                                   env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        killed = False
        for line in process.stdout:
            if line.split()[1:3] == ["start", kill_at]:
                os.kill(process.pid, signal.SIGKILL)
                killed = True
                break
        process.wait(timeout=60)
        assert killed and process.returncode == -signal.SIGKILL, kill_at
        survived = counts(warehouse)  # openable
        assert survived == good or kill_at == "published_warehouse", kill_at
    # the next run completes and publishes B, while an analyst queries the file
    before, stop = counts(warehouse), tmp / "kills" / "stop"
    reader = analyst(warehouse, stop)
    try:
        again = sotaboard("run", "--snapshot", str(b), "--warehouse", str(warehouse), env=env, cwd=tmp)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    finally:
        stop.touch()
    seen = reader.stdout.readline()
    reader.wait(timeout=30)
    assert seen.strip() == f"[{before['results']}]"      # a consistent view: the old data, unchanged
    assert counts(warehouse)["results"] > good["results"]  # new connections see the new run
    assert not list(warehouse.parent.glob(".*.tmp*"))
