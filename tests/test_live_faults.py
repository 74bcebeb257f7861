"""The whole `nightly` job in live mode against local replays of the Hub and arXiv that misbehave.

The replay servers serve the bundled snapshot (Hub routes of `hub_replay`, arXiv `id_list` queries
of `arxiv_replay`) and inject a fault into about a fifth of the responses, chosen by a seeded
random generator (429 with Retry-After 0 or 1, 500, 503, an answer slower than the client's
timeout, a body cut in half); a few logical requests are doomed (every attempt fails) so that the
run certainly has permanent failures. The run must complete and publish, retry each request at
most `max_retries` times, count its retries as the servers saw them, quarantine what never
loaded, and publish for everything else exactly what a fault-free live run publishes.

A second test kills `sotaboard run --source live` with SIGKILL in the middle of the card downloads
(after `hub_models` succeeded), reruns it, and records what the rerun asks the servers again.
"""

from __future__ import annotations

import os
import tempfile

# Before huggingface_hub is imported (it reads its environment once): no telemetry, a private home.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="sotaboard-hf-home-"))
os.environ.pop("HF_HUB_OFFLINE", None)

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402
import pytest  # noqa: E402
from arxiv_replay import arxiv_routes, entries_of  # noqa: E402
from conftest import SOTABOARD, offline_env  # noqa: E402
from hub_replay import hub_routes  # noqa: E402
from replay import Fault, ReplayServer, Request  # noqa: E402

from assets.sources.http import stable_slot  # noqa: E402
from pipelines.definitions import build_definitions  # noqa: E402
from pipelines.settings import BUNDLED_SNAPSHOT, Settings  # noqa: E402

pytestmark = pytest.mark.slow

SEED = 20261123
FAULT_RATE = 0.2
MAX_RETRIES = 2                      # max_retries of both sources: at most 3 attempts
TIMEOUT = 0.6                        # client timeout; a "slow" fault answers after TIMEOUT + 0.6 s
ARXIV_BATCH = 5                      # small batches, so one doomed batch loses only a few papers
FAULT_KINDS = ("429-ra0", "429-ra1", "500", "503", "slow", "truncate")
# Logical requests that fail on every attempt (path regex, and for arXiv an id the batch holds).
DOOMED_MODEL = "google/flan-t5-xxl"                    # its model info never loads
DOOMED_CARD = "HuggingFaceH4/zephyr-7b-beta"           # its card never downloads (HEAD fails)
DOOMED_ORG = "Phind"                                   # its org listing never loads
DOOMED_PAPER = "1911.02116"                            # the arXiv batch holding it never loads
# Columns that record when a run happened rather than what it computed.
RUN_TIME_COLUMNS = {"fetched_at", "seen_at", "last_success_at", "last_run_at", "last_failure_at", "runs_recorded",
                    "first_seen_at", "finished_at",
                    "started_at", "requests", "retries"}


def logical_key(request: Request) -> tuple:
    """One logical request: method, path and query (a retry repeats all three)."""
    return request.method, request.path, tuple(sorted((k, tuple(v)) for k, v in request.query.items()))


@dataclass
class Served:
    request: Request
    fault: str | None


class FaultyServer(ReplayServer):
    """A ReplayServer that faults a seeded-random fifth of its responses, and every response to
    the doomed logical requests; `served` records each request with the fault it got."""

    def __init__(self, seed: int, rate: float, doomed=lambda request: False) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.rate = rate
        self.doomed = doomed
        self.served: list[Served] = []
        self.enabled = True

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            request = self.requests[-1]          # the job sends one request at a time
            roll = self.rng.random()
            kind = self.rng.choice(FAULT_KINDS)
            if not self.enabled:
                kind = None
            elif self.doomed(request):
                kind = kind if kind != "slow" else "503"
            elif roll >= self.rate:
                kind = None
            self.served.append(Served(request, kind))
        return {
            None: None,
            "429-ra0": Fault(status=429, retry_after=0),
            "429-ra1": Fault(status=429, retry_after=1),
            "500": Fault(status=500),
            "503": Fault(status=503),
            "slow": Fault(delay=TIMEOUT + 0.6),
            "truncate": Fault(truncate=True),
        }[kind]

    def effective(self, served: Served) -> bool:
        """Whether the client saw a failure (a HEAD has no body to cut)."""
        return served.fault is not None and not (served.fault == "truncate" and served.request.method == "HEAD")

    def by_logical_request(self) -> dict[tuple, list[Served]]:
        groups: dict[tuple, list[Served]] = defaultdict(list)
        for served in self.served:
            groups[logical_key(served.request)].append(served)
        return groups


def doomed_hub(request: Request) -> bool:
    return (request.path == f"/api/models/{DOOMED_MODEL}"
            or request.path.startswith(f"/{DOOMED_CARD}/resolve/")
            or (request.path == "/api/models" and request.query.get("author") == [DOOMED_ORG]))


def doomed_arxiv(request: Request) -> bool:
    return DOOMED_PAPER in ",".join(request.query.get("id_list", [])).split(",")


def run_config(hub_url: str, arxiv_url: str) -> dict:
    # a resource's run config replaces the whole of its constructor config: repeat the endpoints
    return {"resources": {
        "hub": {"config": {"endpoint": hub_url, "max_retries": MAX_RETRIES, "backoff_seconds": 0.01,
                           "max_backoff_seconds": 0.05, "timeout_seconds": TIMEOUT, "retry_budget_seconds": 60}},
        "arxiv": {"config": {"query_url": arxiv_url + "/api/query?{}", "delay_seconds": 0, "max_retries": MAX_RETRIES,
                             "backoff_seconds": 0.01, "max_backoff_seconds": 1.0, "timeout_seconds": TIMEOUT,
                             "batch_size": ARXIV_BATCH}},
    }}


@dataclass
class LiveRun:
    tmp: Path
    hub: FaultyServer
    arxiv: FaultyServer
    result: dg.ExecuteInProcessResult

    @property
    def published(self) -> Path:
        return self.tmp / "out" / "sotaboard.duckdb"

    @property
    def working(self) -> Path:
        return self.tmp / "out" / ".state" / "work.duckdb"

    def query(self, sql: str, params: list | None = None, working: bool = False) -> list[tuple]:
        con = duckdb.connect(str(self.working if working else self.published), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def start_servers(rate: float, doomed: bool) -> tuple[FaultyServer, FaultyServer]:
    hub = FaultyServer(SEED, rate, doomed_hub if doomed else (lambda r: False)).start()
    hub_routes(hub, BUNDLED_SNAPSHOT)
    arxiv = FaultyServer(SEED + 1, rate, doomed_arxiv if doomed else (lambda r: False)).start()
    arxiv_routes(arxiv, entries_of(sorted((BUNDLED_SNAPSHOT / "arxiv").glob("*.xml"))))
    return hub, arxiv


def live_run(tmp: Path, rate: float, doomed: bool) -> LiveRun:
    hub, arxiv = start_servers(rate, doomed)
    settings = Settings.from_env({
        "SOTABOARD_SOURCE": "live", "HF_ENDPOINT": hub.url, "SOTABOARD_ARXIV_URL": arxiv.url + "/api/query?{}",
        "SOTABOARD_ARXIV_DELAY": "0", "SOTABOARD_WAREHOUSE": str(tmp / "out" / "sotaboard.duckdb"),
    })
    job = build_definitions(settings).resolve_job_def("nightly")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        run_config=run_config(hub.url, arxiv.url))
    hub.stop()
    arxiv.stop()
    return LiveRun(tmp, hub, arxiv, result)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> LiveRun:
    run = live_run(tmp_path_factory.mktemp("clean"), rate=0.0, doomed=False)
    assert run.result.success
    return run


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory) -> LiveRun:
    return live_run(tmp_path_factory.mktemp("faulty"), rate=FAULT_RATE, doomed=True)


def table_rows(run: LiveRun, table: str) -> tuple[list[str], list[tuple]]:
    con = duckdb.connect(str(run.published), read_only=True)
    try:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
            "ORDER BY column_index", [table]).fetchall() if c not in RUN_TIME_COLUMNS]
        select = ", ".join(f'"{c}"::VARCHAR' for c in columns)
        return columns, sorted(con.execute(f'SELECT {select} FROM "{table}"').fetchall(), key=repr)
    finally:
        con.close()


def keyed(run: LiveRun, table: str, *key: str) -> dict[tuple, dict]:
    columns, rows = table_rows(run, table)
    out = {}
    for row in rows:
        record = dict(zip(columns, row))
        out[tuple(record[k] for k in key)] = record
    return out


def expected_reason(fault: str) -> str:
    return {"429-ra0": "rate limited (429)", "429-ra1": "rate limited (429)", "500": "server error (500)",
            "503": "server error (503)", "slow": "timeout (", "truncate": "truncated body ("}[fault]


def test_faulty_live_run_completes_retries_bounded_and_publishes_what_loaded(clean_run, faulty_run, record_property):
    run = faulty_run
    assert run.result.success, [e.step_key for e in run.result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert any(e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == dg.AssetKey("published_warehouse")
               for e in run.result.all_events)
    assert run.published.is_file()

    # --- retries are bounded and counted --------------------------------------------------------
    numbers = {}
    permanent: dict[str, list[tuple[tuple, list[Served]]]] = {}
    for name, server, sources in (("hub", run.hub, ("hub", "hub-cards", "hub-leaderboards")),
                                  ("arxiv", run.arxiv, ("arxiv",))):
        groups = server.by_logical_request()
        attempts = Counter(len(v) for v in groups.values())
        assert max(attempts) <= MAX_RETRIES + 1, {k: len(v) for k, v in groups.items() if len(v) > MAX_RETRIES + 1}
        for served in groups.values():
            # a logical request is retried only after a failure, and only until it succeeds
            assert all(server.effective(s) for s in served[:-1]), served
        server_retries = sum(len(v) - 1 for v in groups.values())
        counted = run.query("SELECT coalesce(sum(retries), 0), coalesce(sum(requests), 0) FROM source_freshness "
                            f"WHERE source IN ({', '.join('?' * len(sources))})", list(sources))[0]
        raw = run.query("SELECT sum(retries), sum(requests) FROM raw.source_runs "
                        f"WHERE source IN ({', '.join('?' * len(sources))})", list(sources), working=True)[0]
        assert counted == raw                       # one run: published freshness = the run's own rows
        assert server_retries > 0
        assert counted[0] == server_retries         # every retry the server saw is counted, and no more
        assert counted[1] == len(server.served)     # every request is counted
        permanent[name] = [(k, v) for k, v in groups.items()
                           if len(v) == MAX_RETRIES + 1 and all(server.effective(s) for s in v)]
        numbers[name] = {
            "requests": len(server.served), "logical_requests": len(groups),
            "faults_injected": sum(s.fault is not None for s in server.served),
            "faults_effective": sum(server.effective(s) for s in server.served),
            "faults_by_kind": dict(Counter(s.fault for s in server.served if s.fault)),
            "retries_server": server_retries, "retries_counted": counted[0],
            "permanent_failures": len(permanent[name]),
        }
    record_property("fault_numbers", numbers)
    print("\nlive fault run:", numbers)
    assert 0.1 < numbers["hub"]["faults_effective"] / numbers["hub"]["requests"] < 0.45

    # --- what never loaded is quarantined, with its reason --------------------------------------
    quarantine = run.query("SELECT source, record_key, reason FROM quarantine")
    reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, key, reason in quarantine:
        reasons[(source, key)].append(reason)
    failed_models: set[str] = set()
    failed_papers: set[str] = set()
    expected_keys: set[tuple[str, str]] = set()
    for (method, path, query), served in permanent["hub"]:
        last = expected_reason(served[-1].fault)
        if path == "/api/models":
            key = ("hub", f"org:{dict(query)['author'][0]}")
        elif path.startswith("/api/models/"):
            key = ("hub", path.removeprefix("/api/models/"))
            failed_models.add(key[1])
        elif path.startswith("/api/datasets/"):
            dataset_id = path.removeprefix("/api/datasets/").removesuffix("/leaderboard")
            key = ("hub-leaderboards", f"leaderboard:{dataset_id}")
        else:
            model_id = path.split("/resolve/")[0].lstrip("/")
            key = ("hub-cards", f"{model_id}/README.md")
            failed_models.add(model_id)
        assert key in reasons, (key, method, path)
        assert any(last in r for r in reasons[key]), (key, reasons[key], last)
        expected_keys.add(key)
    for (method, path, query), served in permanent["arxiv"]:
        ids = dict(query)["id_list"][0].split(",")
        batch = [k for (s, k) in reasons if s == "arxiv" and k.startswith(f"batch|{ids[0]}..{ids[-1]}|")]
        assert batch, ids
        assert reasons[("arxiv", batch[0])][0].startswith(f"fetch failed: gave up after {MAX_RETRIES} retries: ")
        expected_keys.add(("arxiv", batch[0]))
        for arxiv_id in ids:
            # the batch is quarantined; its papers are listed as not fetched (papers.status), not quarantined
            assert ("arxiv", f"paper|{arxiv_id}") not in reasons
            assert run.query("SELECT status FROM papers WHERE arxiv_id = ?", [arxiv_id]) == [("not_fetched",)]
            failed_papers.add(arxiv_id)
    assert DOOMED_MODEL in failed_models and DOOMED_CARD in failed_models and DOOMED_PAPER in failed_papers
    assert DOOMED_MODEL not in {m for (m,) in run.query("SELECT model_id FROM models")}
    assert run.query("SELECT card_html FROM models WHERE model_id = ?", [DOOMED_CARD]) == [(None,)]

    # source_freshness counts them, by reason
    freshness = {s: (f, by_reason) for s, f, by_reason in run.query(
        "SELECT source, failures, failures_by_reason FROM source_freshness")}
    for source in ("hub", "hub-cards", "arxiv"):
        failures, by_reason = freshness[source]
        assert failures == sum(1 for (s, _) in reasons if s == source) > 0
        assert sum(by_reason.values()) == failures
    for source, key in expected_keys:
        for reason in reasons[(source, key)]:
            assert freshness[source][1][reason.split(":")[0]] >= 1, (source, key, reason)

    # nothing but the permanent failures is quarantined beyond what the fault-free run quarantined
    clean_quarantine = set(clean_run.query("SELECT source, record_key FROM quarantine"))
    assert set(reasons) - clean_quarantine == expected_keys
    assert clean_quarantine <= set(reasons)

    # --- everything that loaded is published exactly as a fault-free run publishes it ----------
    models_clean, models_faulty = keyed(clean_run, "models", "model_id"), keyed(run, "models", "model_id")
    for key, row in models_clean.items():
        if key[0] not in failed_models:
            assert models_faulty.get(key) == row, key
    assert set(k for (k,) in models_faulty) - failed_models == set(k for (k,) in models_clean) - failed_models

    papers_clean, papers_faulty = keyed(clean_run, "papers", "arxiv_id"), keyed(run, "papers", "arxiv_id")
    for key, row in papers_clean.items():
        if key[0] not in failed_papers:
            assert papers_faulty.get(key) == row, key
    assert {k for (k,) in papers_faulty} - failed_papers == {k for (k,) in papers_clean} - failed_papers

    def comparable(row: dict) -> bool:
        return row["model_id"] not in failed_models and row["arxiv_id"] not in failed_papers

    results_clean, results_faulty = keyed(clean_run, "results", "result_id"), keyed(run, "results", "result_id")
    compared = {k: r for k, r in results_clean.items() if comparable(r)}
    assert len(compared) > 50
    assert {k: results_faulty.get(k) for k in compared} == compared
    assert {k: r for k, r in results_faulty.items() if comparable(r)} == compared

    group = ("benchmark_id", "metric", "split", "setting")
    board_clean, board_faulty = keyed(clean_run, "leaderboard", *group, "model_id"), keyed(run, "leaderboard", *group,
                                                                                          "model_id")
    touched = {k[:4] for k, r in board_clean.items()
               if r["model_id"] in failed_models or results_clean[(r["result_id"],)]["arxiv_id"] in failed_papers}
    same = {k: r for k, r in board_clean.items() if k[:4] not in touched}
    assert len(same) > 20
    assert {k: board_faulty.get(k) for k in same} == same
    compared_numbers = {"models": len(models_clean) - len(failed_models), "results": len(compared),
                        "leaderboard_rows": len(same), "failed_models": sorted(failed_models),
                        "failed_papers": sorted(failed_papers)}
    record_property("compared", compared_numbers)
    print("compared with the fault-free run:", compared_numbers)


# --- kill -9 in the middle of a live run --------------------------------------------------------


def model_shas() -> dict[str, str | None]:
    """model id -> sha of the bundled snapshot's model info."""
    models = BUNDLED_SNAPSHOT / "hub" / "models"
    return {str(p.relative_to(models))[:-5]: json.loads(p.read_text()).get("sha") for p in models.glob("*/*.json")}


def card_gets(server: ReplayServer, start: int = 0) -> list[str]:
    return [r.path for r in server.requests[start:] if r.method == "GET" and r.path.endswith("/README.md")]


def test_kill_minus_nine_during_card_downloads_then_rerun(tmp_path, clean_run, record_property):
    """Kill the CLI after `hub_models` succeeded, while it downloads cards (the server kills it when
    the 20th README GET arrives, before answering it), then rerun. What the rerun asks again:
    every org listing, and the info of models the listing shows at a new sha (or on their refresh
    night; see HubResource.refresh_days); for the
    cards, the shas were never committed to raw.hub_cards, so fetch_cards calls hf_hub_download for
    every model again, and the library's local_dir metadata decides: a card completely downloaded at
    a commit sha costs no request at all, one downloaded for revision "main" (model info without a
    sha) costs a HEAD, and only the cards not completely downloaded are GET again. arXiv is not
    asked again the same day."""
    kill_at = 20
    hub, arxiv = start_servers(0.0, doomed=False)
    process: subprocess.Popen | None = None
    killed = threading.Event()
    original = hub._dispatch

    def dispatch(request: Request):
        if (request.method == "GET" and request.path.endswith("/README.md") and process is not None
                and len(card_gets(hub)) == kill_at and not killed.is_set()):
            os.kill(process.pid, signal.SIGKILL)
            killed.set()
        return original(request)

    hub._dispatch = dispatch
    env = offline_env(tmp_path, SOTABOARD_SOURCE="live", HF_ENDPOINT=hub.url,
                      SOTABOARD_ARXIV_URL=arxiv.url + "/api/query?{}", SOTABOARD_ARXIV_DELAY="0")
    env.pop("HF_HUB_OFFLINE")
    warehouse = tmp_path / "out" / "sotaboard.duckdb"
    args = [str(SOTABOARD), "run", "--source", "live", "--warehouse", str(warehouse)]
    try:
        process = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        steps = [line.split()[1:3] for line in process.stdout if len(line.split()) >= 3]
        process.wait(timeout=120)
        assert killed.is_set() and process.returncode == -signal.SIGKILL
        assert ["success", "hub_models"] in steps and ["start", "hub_cards"] in steps
        assert ["success", "hub_cards"] not in steps
        assert not warehouse.exists()                        # nothing was published
        first = {"model_info": hub.count("GET", r"^/api/models/"), "listings": hub.count("GET", r"^/api/models$"),
                 "card_heads": hub.count("HEAD", r"/README\.md$"), "card_gets": len(card_gets(hub)),
                 "arxiv": len(arxiv.requests)}
        completed = set(card_gets(hub)[: kill_at - 1])       # the kill came before the 20th was answered
        mark_hub, mark_arxiv = len(hub.requests), len(arxiv.requests)

        again = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        rerun = {"model_info": sum(1 for r in hub.requests[mark_hub:] if r.method == "GET"
                                   and r.path.startswith("/api/models/")),
                 "listings": sum(1 for r in hub.requests[mark_hub:] if r.method == "GET" and r.path == "/api/models"),
                 "card_heads": sum(1 for r in hub.requests[mark_hub:] if r.method == "HEAD"
                                   and r.path.endswith("/README.md")),
                 "card_gets": len(card_gets(hub, mark_hub)), "arxiv": len(arxiv.requests) - mark_arxiv}
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        hub.stop()
        arxiv.stop()
    record_property("kill_rerun_requests", {"killed_run": first, "rerun": rerun})
    print("\nkilled run asked:", first, "\nrerun asked:", rerun)

    pinned = {m for m, sha in model_shas().items() if sha and re.fullmatch(r"[0-9a-f]{40}", sha)}
    completed_ids = {path.split("/resolve/")[0].lstrip("/") for path in completed}
    assert len(completed_ids) == kill_at - 1
    # every model was listed at the sha cached before the kill: asked again only without a sha or on
    # its refresh night of the 7-night cycle
    tonight = datetime.now(timezone.utc).date().toordinal() % 7
    expected_info = sum(1 for m, sha in model_shas().items() if not sha or stable_slot(m, 7) == tonight)
    assert first["model_info"] == 56 and rerun["model_info"] == expected_info
    assert rerun["listings"] == first["listings"]                    # every org listing again
    heads = {r.path.split("/resolve/")[0].lstrip("/") for r in hub.requests[mark_hub:]
             if r.method == "HEAD" and r.path.endswith("/README.md")}
    assert heads == (set(model_shas()) - completed_ids) | (completed_ids - pinned)
    assert set(card_gets(hub, mark_hub)).isdisjoint(completed)       # finished downloads are not repeated
    assert rerun["card_gets"] == 56 - len(completed)
    assert rerun["arxiv"] == 0                                       # arXiv was asked already today
    # the rerun publishes what an uninterrupted live run publishes
    rerun_run = LiveRun(tmp_path, hub, arxiv, None)  # type: ignore[arg-type]
    for table, key in (("models", ("model_id",)), ("results", ("result_id",)), ("papers", ("arxiv_id",)),
                       ("leaderboard", ("benchmark_id", "metric", "split", "setting", "model_id"))):
        assert keyed(rerun_run, table, *key) == keyed(clean_run, table, *key), table
