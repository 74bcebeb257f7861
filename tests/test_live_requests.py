"""Source requests grow with change, not with history: the whole `nightly` job in live mode, on a
synthetic world of the scale benchmark (`bench.generate`) served by local replays of the Hub and
arXiv, on a first night and on the next night after one round of 1% upstream change (1% of the
Hub models with a new commit and an edited card, new papers). The second night must cost at most
a tenth of the first's requests, and load the changes."""

from __future__ import annotations

import os
import tempfile

# Before huggingface_hub is imported (it reads its environment once): no telemetry, a private home.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="sotaboard-hf-home-"))
os.environ.pop("HF_HUB_OFFLINE", None)

import json  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402
import pytest  # noqa: E402
from arxiv_replay import arxiv_routes, entries_of  # noqa: E402
from hub_replay import hub_routes  # noqa: E402
from replay import ReplayServer  # noqa: E402

import assets.arxiv as arxiv_assets  # noqa: E402
from pipelines.definitions import build_definitions  # noqa: E402
from pipelines.settings import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ is not an installed package
from bench.generate import Params, apply_change, generate  # noqa: E402

pytestmark = pytest.mark.slow

WORLD = Params(results=20_000, models=3_000, hub_models=1_000, papers=3_000, benchmarks=200, table_files=4,
               hub_leaderboards=2)
NIGHT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def kind(path: str) -> str:
    if path == "/api/query":
        return "arxiv"
    if path == "/api/models":
        return "hub listing"
    if path.startswith("/api/models/"):
        return "hub model info"
    if "/resolve/" in path:
        return "hub card"
    return "hub other"


class World:
    def __init__(self, tmp: Path) -> None:
        self.snap = tmp / "snapshot"
        generate(self.snap, WORLD)
        orgs = sorted(p.name for p in (self.snap / "hub" / "models").iterdir() if p.is_dir())
        (self.snap / "catalog.yaml").write_text(json.dumps({"orgs": orgs}))   # YAML is a superset of JSON
        self.hub = ReplayServer().start()
        hub_routes(self.hub, self.snap, page_size=1000)
        self.arxiv = ReplayServer().start()
        self.corpus = arxiv_routes(self.arxiv, self.entries(), clock=lambda: self.now)
        self.now = NIGHT
        self.warehouse = tmp / "out" / "sotaboard.duckdb"

    def entries(self) -> list[bytes]:
        return entries_of(sorted((self.snap / "arxiv").glob("*.xml")))

    def night(self, now: datetime, monkeypatch: pytest.MonkeyPatch) -> Counter:
        """Run the nightly job at `now`; the requests it sent, by kind."""
        self.now = now
        monkeypatch.setattr(arxiv_assets, "utc_now", lambda: now)
        marks = len(self.hub.requests), len(self.arxiv.requests)
        settings = Settings.from_env({
            "SOTABOARD_SOURCE": "live", "SOTABOARD_SNAPSHOT": str(self.snap), "HF_ENDPOINT": self.hub.url,
            "SOTABOARD_ARXIV_URL": self.arxiv.url + "/api/query?{}", "SOTABOARD_ARXIV_DELAY": "0",
            "SOTABOARD_WAREHOUSE": str(self.warehouse),
        })
        job = build_definitions(settings).resolve_job_def("nightly")
        with dg.DagsterInstance.ephemeral() as instance:
            assert job.execute_in_process(instance=instance).success
        sent = self.hub.requests[marks[0]:] + self.arxiv.requests[marks[1]:]
        return Counter(kind(r.path) for r in sent)

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def stop(self) -> None:
        self.hub.stop()
        self.arxiv.stop()


@pytest.fixture
def world(tmp_path):
    made = World(tmp_path)
    yield made
    made.stop()


def test_a_night_after_a_1pct_change_costs_at_most_a_tenth_of_the_requests(world, monkeypatch):
    first = world.night(NIGHT, monkeypatch)
    papers_before = world.query("SELECT count(*) FROM papers WHERE status = 'found'")[0][0]
    models = world.query("SELECT count(*) FROM models WHERE model_id IN (SELECT model_id FROM results "
                         "WHERE source LIKE 'hub-%')")[0][0]
    assert first["hub model info"] >= WORLD.hub_models and first["hub card"] >= WORLD.hub_models
    assert models > 0

    change = apply_change(world.snap)                       # upstream moves on: new commits, new papers
    for entry in world.entries():
        world.corpus.add(entry)
    second = world.night(NIGHT + timedelta(days=1), monkeypatch)

    total_first, total_second = sum(first.values()), sum(second.values())
    print(f"\nfirst night: {total_first} requests {dict(first)}\n"
          f"after the change: {total_second} requests {dict(second)} ({total_second / total_first:.1%})")
    assert total_second <= total_first / 10
    # each changed model costs its info, a HEAD and a README download; a seventh of the others
    # their refresh night's info (downloads and likes change without a commit)
    changed = change["hub_models_changed"]
    assert changed <= second["hub card"] <= 2 * changed        # a HEAD, and a GET where there is a card
    assert changed <= second["hub model info"] <= changed + WORLD.hub_models / 7 * 1.5
    # arXiv: the new papers and a thirtieth of the known ones, 100 ids a request
    assert second["arxiv"] <= -(-(WORLD.papers // 30 + change["papers_added"]) // 100) + 1
    papers_after = world.query("SELECT count(*) FROM papers WHERE status = 'found'")[0][0]
    assert papers_after == papers_before + change["papers_added"]
