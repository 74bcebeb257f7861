"""Hub ingestion end to end with the real HfApi against a local replay server: faults, renames,
gated and missing repos, incremental card downloads, snapshot mode, idempotence."""

from __future__ import annotations

import os
import tempfile

# Before huggingface_hub is imported (it reads its environment once): no telemetry, a private home.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="sotaboard-hf-home-"))
os.environ.pop("HF_HUB_OFFLINE", None)

import json  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import pytest  # noqa: E402
from hub_replay import build_snapshot, hub_routes  # noqa: E402
from pipeline_harness import failed_check_reasons, query  # noqa: E402
from replay import Fault, ReplayServer  # noqa: E402

from assets.catalog import catalog  # noqa: E402
from assets.hub import hub_cards, hub_leaderboards, hub_models  # noqa: E402
from assets.sources.http import stable_slot  # noqa: E402
from assets.sources.hub.client import HubResource  # noqa: E402
from assets.sources.snapshot import SnapshotResource  # noqa: E402
from assets.tables import benchmark_table_rows  # noqa: E402
from warehouse.database import WarehouseResource  # noqa: E402

ZEPHYR = "HuggingFaceH4/zephyr-7b-beta"
SQUAD = "deepset/roberta-base-squad2"
SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
BERT = "google-bert/bert-base-uncased"
MODELS = [ZEPHYR, SQUAD, SST2, BERT, "openai-community/gpt2"]
ASSETS = [catalog, benchmark_table_rows, hub_models, hub_cards, hub_leaderboards]
LEADERBOARD = [
    {"rank": 1, "modelId": "FacebookAI/xlm-roberta-large", "value": 80.9, "verified": True,
     "source": {"url": "https://huggingface.co/FacebookAI/xlm-roberta-large", "name": "model card", "isExternal": False},
     "filename": ".eval_results/xnli.yaml", "author": {"type": "org", "name": "FacebookAI", "avatarUrl": "x"},
     "pullRequest": None, "notes": None},
    {"rank": 2, "modelId": "FacebookAI/xlm-roberta-base", "value": 76.2, "verified": False,
     "filename": ".eval_results/xnli.yaml", "author": {"type": "org", "name": "FacebookAI"}},
]


class Env:
    def __init__(self, tmp: Path, real_hub: Path, catalog_yaml: str, live: bool = True, **hub_routes_kw) -> None:
        self.tmp = tmp
        self.snap = build_snapshot(real_hub, tmp / "snap", MODELS)
        board = self.snap / "hub" / "leaderboards" / "facebook" / "xnli.json"
        board.parent.mkdir(parents=True, exist_ok=True)
        board.write_text(json.dumps(LEADERBOARD))
        (self.snap / "catalog.yaml").write_text(catalog_yaml)
        self.server = ReplayServer().start()
        hub_routes(self.server, self.snap, **hub_routes_kw)
        self.warehouse = WarehouseResource(path=str(tmp / "pub.duckdb"), state_dir=str(tmp / "state"))
        self.snapshot = SnapshotResource(source="live" if live else "snapshot", snapshot_dir=str(self.snap),
                                         cache_dir=str(tmp / "cache"))
        self.hub_settings = dict(endpoint=self.server.url, max_retries=2, backoff_seconds=0.05,
                                 retry_budget_seconds=30, timeout_seconds=10.0)  # generous: a loaded machine is slow

    def run(self, **hub_overrides) -> dg.ExecuteInProcessResult:
        hub = HubResource(**{**self.hub_settings, **hub_overrides})
        result = dg.materialize(ASSETS, resources={"warehouse": self.warehouse, "snapshot": self.snapshot, "hub": hub},
                                raise_on_error=False)
        assert result.success, failed_check_reasons(result)
        return result

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return query(self.warehouse, sql, params)

    def failures(self, source: str = "hub") -> dict[str, str]:
        return dict(self.query("SELECT record_key, reason FROM raw.ingest_failures WHERE source = ?", [source]))

    def mark(self) -> int:
        return len(self.server.requests)

    def since(self, mark: int, method: str, pattern: str) -> int:
        import re
        return sum(1 for r in self.server.requests[mark:] if r.method == method and re.search(pattern, r.path))


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise KeyError(asset)


@pytest.fixture
def real_hub(real_data) -> Path:
    return real_data / "hub"


@pytest.fixture
def env(tmp_path, real_hub):
    environment = Env(tmp_path, real_hub,
                      f"orgs: [deepset]\nmodels: [{ZEPHYR}, {SST2}, {BERT}]\nbenchmarks: [xnli]\n")
    yield environment
    environment.server.stop()


def test_first_run_then_unchanged_rerun_downloads_no_card(env):
    first = env.run()
    models = {m for (m,) in env.query("SELECT model_id FROM raw.hub_models")}
    assert models == {ZEPHYR, SQUAD, SST2, BERT}
    assert env.server.count("GET", r"^/api/models$") == 1                     # the deepset listing
    assert env.server.count("GET", r"^/api/models/") == 4
    assert env.server.count("HEAD", r"/resolve/") == 4 and env.server.count("GET", r"/resolve/") == 4
    md = metadata(first, "hub_models")
    assert md["requests"] == 5 and md["records"] == 4
    cards_md = metadata(first, "hub_cards")
    assert cards_md["requests"] == 8 and cards_md["cards"] == 4
    assert cards_md["eval_results_seen"] == cards_md["eval_results_loaded"] + cards_md["eval_results_quarantined"]
    assert (env.tmp / "cache" / "hub" / "models" / f"{SQUAD}.json").is_file()
    assert (env.tmp / "cache" / "hub" / "cards" / SQUAD / "README.md").is_file()
    row = env.query("SELECT sha, params, license, base_models, arxiv_ids FROM raw.hub_models WHERE model_id = ?", [ZEPHYR])
    assert row[0][1] == 7241732096 and row[0][2] == "mit" and row[0][4] == ["2305.14233", "2305.18290", "2310.01377", "2310.16944"]
    squad = env.query("SELECT value_raw, verified, verify_token IS NOT NULL FROM raw.hub_eval_results "
                      "WHERE model_id = ? AND metric_type = 'exact_match' AND dataset_type = 'squad_v2'", [SQUAD])
    assert squad == [("79.9309", True, True)]
    html = env.query("SELECT card_html FROM raw.hub_cards WHERE model_id = ?", [SQUAD])[0][0]
    assert "<script" not in html and "<h" in html
    assert env.query("SELECT count(*) FROM raw.hub_leaderboard_entries WHERE dataset_id = 'facebook/xnli'") == [(2,)]

    mark = env.mark()
    second = env.run()
    assert env.since(mark, "GET", r"/resolve/") == 0 and env.since(mark, "HEAD", r"/resolve/") == 0
    assert metadata(second, "hub_cards")["requests"] == 0
    # the listing shows deepset's model at the cached sha: not asked again, but on its refresh night
    refresh = stable_slot(SQUAD, 7) == datetime.now(timezone.utc).date().toordinal() % 7
    assert metadata(second, "hub_models")["requests"] == 4 + refresh         # one listing, catalog models
    assert metadata(second, "hub_models")["unchanged_not_fetched"] == 1 - refresh
    assert env.query("SELECT count(*) FROM raw.hub_eval_results")[0][0] == cards_md["eval_results_loaded"]


def _set_sha(snap: Path, repo_id: str, sha: str) -> None:
    path = snap / "hub" / "models" / f"{repo_id}.json"
    data = json.loads(path.read_text())
    data["sha"] = sha
    path.write_text(json.dumps(data))


def test_new_commit_sends_head_and_downloads_only_a_changed_readme(env):
    env.run()
    _set_sha(env.snap, SQUAD, "1" * 40)                 # new commit, README unchanged
    mark = env.mark()
    env.run()
    assert env.since(mark, "HEAD", r"/resolve/") == 1 and env.since(mark, "GET", r"/resolve/") == 0
    assert env.query("SELECT sha FROM raw.hub_cards WHERE model_id = ?", [SQUAD]) == [("1" * 40,)]
    card = env.snap / "hub" / "cards" / SQUAD / "README.md"
    card.write_text(card.read_text() + "\n\nEdited upstream.\n")
    _set_sha(env.snap, SQUAD, "2" * 40)
    mark = env.mark()
    env.run()
    assert env.since(mark, "HEAD", r"/resolve/") == 1 and env.since(mark, "GET", r"/resolve/") == 1
    assert "Edited upstream." in env.query("SELECT readme FROM raw.hub_cards WHERE model_id = ?", [SQUAD])[0][0]


def test_429_with_retry_after_then_success(env):
    env.server.inject(rf"^/api/models/{ZEPHYR}$", Fault(status=429, retry_after=1))
    started = time.monotonic()
    result = env.run()
    assert time.monotonic() - started >= 1.0
    md = metadata(result, "hub_models")
    assert md["retries"] == 1 and md["quarantined"] == 0 and md["records"] == 4


def test_retry_after_beyond_budget_fails_fast(env):
    env.server.inject(rf"^/api/models/{ZEPHYR}$", Fault(status=429, retry_after=600))
    started = time.monotonic()
    env.run()
    assert time.monotonic() - started < 30
    assert env.failures()[ZEPHYR].startswith("rate limited (429) after 1 attempt(s)")


def test_500_then_success(env):
    env.server.inject(rf"^/api/models/{SQUAD}$", Fault(status=500))
    result = env.run()
    assert metadata(result, "hub_models")["retries"] == 1
    assert env.failures() == {}


def test_permanent_500_is_recorded_and_the_run_continues(env):
    env.server.inject(rf"^/api/models/{SST2}$", *[Fault(status=500)] * 3)
    result = env.run()
    assert env.failures()[SST2] == f"server error (500) after 3 attempt(s): GET /api/models/{SST2}"
    assert metadata(result, "hub_models")["records"] == 3
    # next run: still failing, but the model's last good copy in the cache is kept
    env.run()
    env.server.inject(rf"^/api/models/{SST2}$", *[Fault(status=503)] * 3)
    env.run()
    assert SST2 in {m for (m,) in env.query("SELECT model_id FROM raw.hub_models")}
    assert env.failures()[SST2].startswith("server error (503)")
    runs = env.query("SELECT failures, requests, retries FROM raw.source_runs WHERE source = 'hub' ORDER BY finished_at")
    assert runs[-1][0] == 1 and runs[-1][2] == 2


def test_missing_private_and_gated_repos(tmp_path, real_hub):
    env = Env(tmp_path, real_hub, f"models: [{SQUAD}, nobody/nothing, private-org/secret, {ZEPHYR}]\n",
              gated={ZEPHYR}, private={"private-org/secret"})
    try:
        env.run()
        failures = env.failures()
        assert failures["nobody/nothing"] == "not found: repository does not exist (HTTP 404)"
        assert failures["private-org/secret"].startswith("not accessible: private, gated or missing repo (HTTP 401)")
        assert env.failures("hub-cards")[f"{ZEPHYR}/README.md"].startswith("gated:")
        assert {m for (m,) in env.query("SELECT model_id FROM raw.hub_cards")} == {SQUAD}
        assert {m for (m,) in env.query("SELECT model_id FROM raw.hub_models")} == {SQUAD, ZEPHYR}
    finally:
        env.server.stop()


def test_renamed_and_legacy_ids_become_aliases(tmp_path, real_hub):
    env = Env(tmp_path, real_hub, f"models: [old-org/zephyr, gpt2, {SQUAD}]\n",
              renames={"old-org/zephyr": ZEPHYR, "gpt2": "openai-community/gpt2"})
    try:
        result = env.run()
        aliases = set(env.query("SELECT alias, model_id, reason FROM raw.hub_model_aliases"))
        assert aliases == {("old-org/zephyr", ZEPHYR, "renamed on the Hub"),
                           ("gpt2", "openai-community/gpt2", "legacy id without org")}
        assert set(env.query("SELECT model_id, requested_id FROM raw.hub_models")) == {
            (ZEPHYR, "old-org/zephyr"), ("openai-community/gpt2", "gpt2"), (SQUAD, SQUAD)}
        assert metadata(result, "hub_models")["renamed"] == {"old-org/zephyr": ZEPHYR, "gpt2": "openai-community/gpt2"}
        assert ZEPHYR in {m for (m,) in env.query("SELECT model_id FROM raw.hub_cards")}
    finally:
        env.server.stop()


def test_truncated_bodies_are_retried(env):
    env.server.inject(rf"^/api/models/{ZEPHYR}$", Fault(truncate=True))
    env.server.inject(rf"^/{SQUAD}/resolve/", Fault(), Fault(truncate=True))   # the HEAD, then the GET
    result = env.run()
    assert metadata(result, "hub_models")["retries"] == 1
    assert metadata(result, "hub_cards")["retries"] == 1
    assert env.failures() == {} and env.failures("hub-cards") == {}
    assert env.query("SELECT count(*) FROM raw.hub_cards")[0][0] == 4


def test_slow_response_times_out_and_is_retried(env):
    env.server.inject(rf"^/api/models/{SQUAD}$", Fault(delay=2))
    result = env.run(timeout_seconds=0.5)
    assert metadata(result, "hub_models")["retries"] == 1 and env.failures() == {}
    _set_sha(env.snap, SQUAD, "3" * 40)                 # a new commit, so the rerun asks for its info
    env.server.inject(rf"^/api/models/{SQUAD}$", *[Fault(delay=2)] * 3)
    env.run(timeout_seconds=0.5)
    assert env.failures()[SQUAD].startswith("timeout (ReadTimeout) after 3 attempt(s)")


def test_token_is_sent_but_never_recorded(tmp_path, real_hub):
    secret = "hf_SECRETsecretSECRET123"
    env = Env(tmp_path, real_hub, f"models: [{SQUAD}, private-org/secret]\n", private={"private-org/secret"})
    try:
        result = env.run(token=secret)
        assert any(value == f"Bearer {secret}" for r in env.server.requests
                   for key, value in r.headers.items() if key.lower() == "authorization")
        stored = env.query("SELECT string_agg(record_key || reason || coalesce(payload, ''), '') FROM raw.ingest_failures")
        assert secret not in (stored[0][0] or "")
        for event in result.get_asset_materialization_events():
            assert secret not in repr(event.materialization.metadata)
    finally:
        env.server.stop()


def test_invalid_ids_are_refused_before_any_request(tmp_path, real_hub):
    env = Env(tmp_path, real_hub, "models: ['../../etc/passwd', 'a/b/c', 'ok\\bad', '" + SQUAD + "']\n")
    try:
        env.run()
        failures = env.failures()
        assert {k for k, r in failures.items() if r.startswith("invalid model id")} == {"../../etc/passwd", "a/b/c",
                                                                                        "ok\\bad"}
        assert all(".." not in r.path for r in env.server.requests)
        assert not (tmp_path / "etc").exists()
    finally:
        env.server.stop()


def test_snapshot_mode_reads_files_without_network(tmp_path, real_hub):
    env = Env(tmp_path, real_hub, "", live=False)
    try:
        fixtures = real_hub / "fixtures"
        for name in ("sample_invalid_model_index", "sample_invalid_card_data", "sample_simple_model_index"):
            repo = f"fixtures/{name.replace('_', '-')}"
            (env.snap / "hub" / "models" / "fixtures").mkdir(exist_ok=True)
            (env.snap / "hub" / "models" / f"{repo}.json").write_text(json.dumps({"id": repo, "sha": "0" * 40}))
            card = env.snap / "hub" / "cards" / repo / "README.md"
            card.parent.mkdir(parents=True)
            card.write_bytes((fixtures / f"{name}.md").read_bytes())
        (env.snap / "hub" / "models" / "fixtures" / "broken.json").write_text('{"id": "fixtures/broken", ')
        (env.snap / "hub" / "models" / "fixtures" / "noid.json").write_text('[1, 2]')
        first = env.run()
        assert len(env.server.requests) == 0
        models = {m for (m,) in env.query("SELECT model_id FROM raw.hub_models")}
        assert set(MODELS) <= models and "fixtures/sample-simple-model-index" in models
        assert env.failures() == {"fixtures/broken": "invalid json: file does not parse as JSON",
                                  "fixtures/noid": "invalid model info: not a JSON object"}
        card_failures = env.failures("hub-cards")
        assert card_failures["fixtures/sample-invalid-model-index/model-index/0.0.0"] == \
            "model-index: result 0 has no dataset"
        assert card_failures["fixtures/sample-invalid-card-data/model-index"] == \
            "card yaml: metadata is not a mapping but list"
        md = metadata(first, "hub_cards")
        assert md["eval_results_seen"] == md["eval_results_loaded"] + md["eval_results_quarantined"]
        assert md["library_cross_check"]["library rejects"] == 1
        assert env.query("SELECT count(*) FROM raw.hub_leaderboard_entries") == [(2,)]
        tables = ["raw.hub_models", "raw.hub_cards", "raw.hub_eval_results", "raw.hub_model_aliases",
                  "raw.hub_leaderboard_entries"]
        before = {t: sorted(env.query(f"SELECT * FROM {t}"), key=repr) for t in tables}
        env.run()
        assert {t: sorted(env.query(f"SELECT * FROM {t}"), key=repr) for t in tables} == before
    finally:
        env.server.stop()


def test_org_listing_pages(tmp_path, real_hub):
    env = Env(tmp_path, real_hub, "orgs: [google-bert, deepset, HuggingFaceH4]\n", page_size=1)
    try:
        for n in range(3):
            extra = env.snap / "hub" / "models" / "deepset" / f"extra-{n}.json"
            extra.write_text(json.dumps({"id": f"deepset/extra-{n}", "sha": f"{n}" * 40}))
        env.server.inject(r"^/api/models$", Fault(status=502))
        result = env.run()
        assert env.server.count("GET", r"^/api/models$") == 1 + 1 + 4 + 1     # a retried 502, then pages
        assert metadata(result, "hub_models")["records"] == 6
    finally:
        env.server.stop()


def test_oversized_response_is_refused(env):
    # most model info bodies are over 4,000 bytes: the Hub counts as failed wholesale, so the run
    # goes on only when publishing anyway
    env.warehouse = WarehouseResource(path=env.warehouse.path, state_dir=env.warehouse.state_dir, publish_anyway=True)
    result = env.run(max_response_bytes=4000)
    answered = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                and e.event_specific_data.check_name == "source_answered" and e.event_specific_data.asset_key.path == ["hub_models"]]
    assert [(a.passed, a.severity) for a in answered] == [(False, dg.AssetCheckSeverity.WARN)]
    failures = env.failures()
    assert failures[ZEPHYR].startswith("response too large: more than 4000 bytes")
    assert ZEPHYR not in {m for (m,) in env.query("SELECT model_id FROM raw.hub_models")}


def test_failed_card_download_is_retried_next_run(env):
    env.run()
    card = env.snap / "hub" / "cards" / SQUAD / "README.md"
    card.write_text(card.read_text() + "\n\nEdited upstream.\n")
    _set_sha(env.snap, SQUAD, "3" * 40)
    env.server.inject(rf"^/{SQUAD}/resolve/", Fault(), *[Fault(status=500)] * 3)     # HEAD ok, GET fails
    env.run()
    assert env.failures("hub-cards")[f"{SQUAD}/README.md"].startswith("server error (500) after 3 attempt(s)")
    old_sha = env.query("SELECT sha FROM raw.hub_models WHERE model_id = ?", [SQUAD])
    assert env.query("SELECT sha FROM raw.hub_cards WHERE model_id = ?", [SQUAD]) != old_sha   # stale copy, old sha
    mark = env.mark()
    env.run()
    assert env.since(mark, "GET", r"/resolve/") == 1
    assert env.query("SELECT sha FROM raw.hub_cards WHERE model_id = ?", [SQUAD]) == [("3" * 40,)]
    assert env.failures("hub-cards") == {}
