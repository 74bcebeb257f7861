"""A network outage never publishes worse data (issue 17).

`sotaboard run --source live` succeeds once against the replay servers (the previous night's
cache), then runs again with the Hub at a name that does not resolve and arXiv at a closed port:
it must stop fast with a non-zero exit and a one-line reason, leaving the published file
byte-identical; with `--publish-anyway` it publishes what it knew, marked stale, losing nothing.

Then downloads that must not be cached: a card cut short (shorter than its Content-Length) and a
card whose YAML front matter does not close are refused, quarantined, not cached, retried the next
night; meanwhile the model keeps the results of its previous card. And an org whose listing fails
keeps its models (with only orgs in the catalog, every one of them used to be dropped).
"""

from __future__ import annotations

import os
import tempfile

# Before huggingface_hub is imported (it reads its environment once): no telemetry, a private home.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="sotaboard-hf-home-"))
os.environ.pop("HF_HUB_OFFLINE", None)

import hashlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402
import pytest  # noqa: E402
from arxiv_replay import arxiv_routes, entries_of  # noqa: E402
from conftest import offline_env, sotaboard  # noqa: E402
from hub_replay import hub_routes  # noqa: E402
from pipeline_harness import failed_check_reasons  # noqa: E402
from pipeline_harness import query as working_query  # noqa: E402
from replay import Fault, ReplayServer  # noqa: E402

from assets.catalog import catalog  # noqa: E402
from assets.hub import hub_cards, hub_models  # noqa: E402
from assets.sources.hub.client import HubResource  # noqa: E402
from assets.sources.snapshot import SnapshotResource  # noqa: E402
from assets.tables import benchmark_table_rows  # noqa: E402
from pipelines.settings import BUNDLED_SNAPSHOT, Settings  # noqa: E402
from warehouse.database import WarehouseResource  # noqa: E402

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 60
COUNTED = ("models", "papers", "results", "leaderboard")
MODEL = "FacebookAI/xlm-roberta-large"


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        # a paper cited tonight that arXiv could not be asked for is a row with status 'not_fetched':
        # news of a reference, not knowledge gained or lost
        return {t: con.execute(f'SELECT count(*) FROM "{t}"' + (" WHERE status <> 'not_fetched'" if t == "papers" else ""))
                .fetchone()[0] for t in COUNTED}
    finally:
        con.close()


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def last_night(tmp_path_factory):
    """A live run that succeeded against the replays: its published file and its state (cache)."""
    tmp = tmp_path_factory.mktemp("night")
    hub = ReplayServer().start()
    hub_routes(hub, BUNDLED_SNAPSHOT)
    arxiv = ReplayServer().start()
    arxiv_routes(arxiv, entries_of(sorted((BUNDLED_SNAPSHOT / "arxiv").glob("*.xml"))))
    env = live_env(tmp, hub.url, arxiv.url)
    try:
        done = sotaboard("run", "--source", "live", env=env, cwd=tmp, timeout=600)
    finally:
        hub.stop()
        arxiv.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return tmp


def live_env(tmp: Path, hub_url: str, arxiv_url: str, **extra: str) -> dict[str, str]:
    env = offline_env(tmp, SOTABOARD_SOURCE="live", HF_ENDPOINT=hub_url,
                      SOTABOARD_ARXIV_URL=arxiv_url + "/api/query?{}", SOTABOARD_ARXIV_DELAY="0",
                      SOTABOARD_WAREHOUSE=str(tmp / "out" / "sotaboard.duckdb"), **extra)
    env.pop("HF_HUB_OFFLINE")
    return env


def copy_night(last_night: Path, tmp: Path) -> Path:
    """A copy of last night's published file and state, so each outage test starts from it."""
    shutil.copytree(last_night / "out", tmp / "out")
    shutil.copytree(last_night / "dagster_home", tmp / "dagster_home")
    return tmp / "out" / "sotaboard.duckdb"


NEW_PAPER = "2401.04088"  # cited by no source yet: tonight arXiv is asked for it (known ids were asked today)


def outage_run(tmp: Path, *flags: str, **extra: str):
    """The nightly run with the Hub at a name that does not resolve and arXiv at a closed port;
    the catalog cites one new paper, so that arXiv is asked something tonight."""
    snapshot = tmp / "snapshot"
    if not snapshot.is_dir():
        shutil.copytree(BUNDLED_SNAPSHOT, snapshot)
        catalog = snapshot / "catalog.yaml"
        catalog.write_text(catalog.read_text().replace('papers: ["', f'papers: ["{NEW_PAPER}", "'))
    env = live_env(tmp, "http://nonexistent.invalid", f"http://127.0.0.1:{closed_port()}",
                   SOTABOARD_SNAPSHOT=str(snapshot), **extra)
    started = time.monotonic()
    done = sotaboard("run", "--source", "live", *flags, env=env, cwd=tmp, timeout=600)
    return done, time.monotonic() - started


def test_outage_stops_fast_and_leaves_the_published_file_untouched(last_night, tmp_path, record_property):
    published = copy_night(last_night, tmp_path)
    before, before_digest = counts(published), digest(published)
    done, seconds = outage_run(tmp_path)
    record_property("outage_seconds", round(seconds, 1))
    print(f"\noutage run: exit {done.returncode} in {seconds:.1f} s\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    assert done.returncode != 0
    assert seconds < OUTAGE_SECONDS
    assert digest(published) == before_digest
    assert counts(published) == before
    reason = [line for line in done.stderr.splitlines() if line.startswith("sotaboard run failed")]
    assert len(reason) == 1 and "nonexistent.invalid" in reason[0] and "unreachable" in reason[0], done.stderr
    # the summary names the failures of each source that ran (hub_models' check stopped hub_cards and
    # arxiv_papers, which depend on it, from running)
    for source in ("hub", "hub-leaderboards"):
        assert any(line.startswith(f"  {source}:") and "failed" in line for line in done.stdout.splitlines()), \
            (source, done.stdout)


def test_outage_published_anyway_keeps_everything_marked_stale(last_night, tmp_path, record_property):
    published = copy_night(last_night, tmp_path)
    before = counts(published)
    page_before = query(published, "SELECT license, params FROM models WHERE model_id = ?", [MODEL])
    verified_before = query(published, "SELECT count(*) FILTER (WHERE verified), count(*) FROM results "
                                       "WHERE model_id = ?", [MODEL])
    done, seconds = outage_run(tmp_path, "--publish-anyway")
    record_property("outage_publish_anyway_seconds", round(seconds, 1))
    print(f"\noutage run, --publish-anyway: exit {done.returncode} in {seconds:.1f} s\n{done.stdout[-1500:]}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert seconds < 2 * OUTAGE_SECONDS      # the whole build runs, but no request waits out its retries
    assert counts(published) == before                       # nothing known is lost
    for source in ("hub", "hub-cards", "hub-leaderboards", "arxiv"):
        assert any(line.startswith(f"  {source}:") and "failed" in line for line in done.stdout.splitlines()), \
            (source, done.stdout)
    assert query(published, "SELECT license, params FROM models WHERE model_id = ?", [MODEL]) == page_before
    assert query(published, "SELECT count(*) FILTER (WHERE verified), count(*) FROM results "
                            "WHERE model_id = ?", [MODEL]) == verified_before
    assert page_before[0][0] is not None and page_before[0][1] is not None
    # every fetched entity that was asked tonight is marked stale, with the failure
    stale = dict(query(published, "SELECT entity, count(*) FROM entity_freshness WHERE stale "
                                  "AND last_failure_at IS NOT NULL GROUP BY 1"))
    assert stale.get("model", 0) > 0 and stale.get("card", 0) > 0 and stale.get("leaderboard", 0) > 0, stale
    row = query(published, "SELECT fetched_at IS NOT NULL, last_failure FROM entity_freshness "
                           "WHERE entity = 'model' AND entity_id = ?", [MODEL])
    assert row and row[0][0] and "unreachable" in row[0][1], row
    freshness = {s: (failures, outage) for s, failures, outage in query(
        published, "SELECT source, fetch_failures, outage FROM source_freshness")}
    for source in ("hub", "hub-cards", "hub-leaderboards"):
        assert freshness[source][0] > 0 and "nonexistent.invalid" in freshness[source][1], freshness
    # the environment variable is the flag's other spelling: both give the run the same setting
    assert Settings.from_env({"SOTABOARD_PUBLISH_ANYWAY": "1"}).publish_anyway
    assert not Settings.from_env({}).publish_anyway


# --- downloads verified before they are cached -------------------------------------------------

SQUAD = "deepset/roberta-base-squad2"


class CardNights:
    """hub_models and hub_cards in process, live, against a replay of a copy of the bundled snapshot
    that tracks one model; the test edits the copy (upstream) between nights."""

    def __init__(self, tmp: Path, catalog_yaml: str = f"models: [{SQUAD}]\n") -> None:
        self.snap = tmp / "upstream"
        shutil.copytree(BUNDLED_SNAPSHOT, self.snap)
        (self.snap / "catalog.yaml").write_text(catalog_yaml)
        self.server = ReplayServer().start()
        hub_routes(self.server, self.snap)
        self.warehouse = WarehouseResource(path=str(tmp / "pub.duckdb"), state_dir=str(tmp / "state"))
        self.snapshot = SnapshotResource(source="live", snapshot_dir=str(self.snap), cache_dir=str(tmp / "cache"))
        self.hub = HubResource(endpoint=self.server.url, max_retries=2, backoff_seconds=0.05,
                               retry_budget_seconds=30, timeout_seconds=10.0)
        self.cached_card = tmp / "cache" / "hub" / "cards" / SQUAD / "README.md"
        self.upstream_card = self.snap / "hub" / "cards" / SQUAD / "README.md"

    def night(self) -> dg.ExecuteInProcessResult:
        result = dg.materialize([catalog, benchmark_table_rows, hub_models, hub_cards], raise_on_error=False,
                                resources={"warehouse": self.warehouse, "snapshot": self.snapshot, "hub": self.hub})
        assert result.success, failed_check_reasons(result)
        return result

    def new_commit(self, sha: str) -> None:
        path = self.snap / "hub" / "models" / f"{SQUAD}.json"
        data = json.loads(path.read_text())
        data["sha"] = sha
        path.write_text(json.dumps(data))

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return working_query(self.warehouse, sql, params)

    def results(self) -> list[tuple]:
        return self.query("SELECT record_key, value_raw FROM raw.hub_eval_results WHERE model_id = ? "
                          "ORDER BY record_key", [SQUAD])

    def card_failure(self) -> list[str]:
        return [r for (r,) in self.query("SELECT reason FROM raw.ingest_failures WHERE source = 'hub-cards' "
                                         "AND record_key = ?", [f"{SQUAD}/README.md"])]

    def card_gets(self) -> int:
        return self.server.count("GET", rf"^/{SQUAD}/resolve/")


@pytest.fixture
def card_nights(tmp_path):
    nights = CardNights(tmp_path)
    nights.night()
    yield nights
    nights.server.stop()


def test_a_card_whose_front_matter_does_not_close_is_refused_not_cached_and_retried(card_nights):
    nights = card_nights
    results, good = nights.results(), nights.cached_card.read_bytes()
    assert len(results) > 10
    original = nights.upstream_card.read_bytes()
    # upstream: a new commit whose card arrives cut inside its front matter (its Content-Length matches)
    nights.upstream_card.write_bytes(original[: original.index(b"model-index") + 200])
    nights.new_commit("1" * 40)
    gets = nights.card_gets()
    nights.night()
    assert nights.card_gets() == gets + 1
    assert nights.card_failure() == ["card refused: yaml front matter not closed (download cut short?)"]
    assert nights.cached_card.read_bytes() == good                       # not cached: the good copy stays
    assert nights.results() == results                                   # the model keeps its results
    assert nights.query("SELECT entity, reason FROM raw.entity_fetch_failures") == [
        ("card", "card refused: yaml front matter not closed (download cut short?)")]
    # the next night asks again (the refused download left no record that would skip it)
    nights.night()
    assert nights.card_gets() == gets + 2 and nights.results() == results
    # upstream fixed: downloaded, cached, parsed
    nights.upstream_card.write_bytes(original + b"\nEdited upstream.\n")
    nights.night()
    assert nights.card_gets() == gets + 3
    assert nights.card_failure() == [] and nights.cached_card.read_bytes().endswith(b"Edited upstream.\n")
    assert nights.results() == results
    assert nights.query("SELECT sha FROM raw.hub_cards WHERE model_id = ?", [SQUAD]) == [("1" * 40,)]


def test_a_card_shorter_than_its_content_length_is_refused_not_cached_and_retried(card_nights):
    nights = card_nights
    results, good = nights.results(), nights.cached_card.read_bytes()
    nights.upstream_card.write_bytes(nights.upstream_card.read_bytes() + b"\nEdited upstream.\n")
    nights.new_commit("2" * 40)
    # every answer for the card announces its full length and sends half (the HEAD has no body)
    nights.server.inject(rf"^/{SQUAD}/resolve/", *[Fault(truncate=True)] * 10)
    gets = nights.card_gets()
    nights.night()
    assert nights.card_gets() == gets + 3                                # three attempts, then given up
    [reason] = nights.card_failure()
    assert reason.startswith("truncated body") and "after 3 attempt(s)" in reason, reason
    assert nights.cached_card.read_bytes() == good
    assert nights.results() == results
    assert nights.query("SELECT sha FROM raw.hub_cards WHERE model_id = ?", [SQUAD]) != [("2" * 40,)]
    nights.server.faults.clear()
    nights.night()                                                       # retried the next night
    assert nights.card_failure() == [] and nights.cached_card.read_bytes().endswith(b"Edited upstream.\n")
    assert nights.query("SELECT sha FROM raw.hub_cards WHERE model_id = ?", [SQUAD]) == [("2" * 40,)]


def test_an_org_whose_listing_fails_keeps_its_models(tmp_path):
    """With orgs only in the catalog, a failed listing used to drop every model of the org."""
    nights = CardNights(tmp_path, "orgs: [deepset]\n")
    try:
        nights.night()
        known = nights.query("SELECT model_id, sha, license, params FROM raw.hub_models ORDER BY model_id")
        results = nights.query("SELECT count(*) FROM raw.hub_eval_results")
        assert len(known) >= 5
        nights.hub = HubResource(endpoint=f"http://127.0.0.1:{closed_port()}", max_retries=4, backoff_seconds=5)
        started = time.monotonic()
        result = dg.materialize([catalog, benchmark_table_rows, hub_models, hub_cards], raise_on_error=False,
                                resources={"warehouse": nights.warehouse, "snapshot": nights.snapshot,
                                           "hub": nights.hub})
        seconds = time.monotonic() - started
    finally:
        nights.server.stop()
    assert not result.success                                   # hub_models' source_answered check blocked
    [check] = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.asset_key == dg.AssetKey("hub_models")]
    assert not check.passed and "unreachable" in check.metadata["outage"].value
    assert seconds < 30                                         # three connection failures, not 4 retries each
    assert nights.query("SELECT model_id, sha, license, params FROM raw.hub_models ORDER BY model_id") == known
    assert nights.query("SELECT count(*) FROM raw.hub_eval_results") == results
    failures = dict(nights.query("SELECT record_key, reason FROM raw.ingest_failures WHERE source = 'hub'"))
    assert failures["org:deepset"].startswith("connection error") or \
        failures["org:deepset"].startswith("host unreachable"), failures
    assert nights.query("SELECT count(*) FROM raw.entity_fetch_failures WHERE entity = 'model' "
                        "AND reason LIKE 'host unreachable%'") == [(len(known),)]


def test_a_host_the_source_does_not_use_is_no_outage():
    """A library's background request (huggingface_hub's telemetry, to huggingface.co) that cannot
    connect opens that host's circuit, but says nothing about the Hub at the configured endpoint."""
    from assets.sources.http import CircuitBreaker

    breaker = CircuitBreaker()
    for _ in range(breaker.threshold):
        breaker.connection_failed("huggingface.co", "connection error (ConnectError: Name or service not known)")
    breaker.responded("127.0.0.1:8000")
    assert breaker.unreachable({"127.0.0.1:8000"}) == {}
    assert list(breaker.unreachable({"huggingface.co"})) == ["huggingface.co"]
