"""Incremental ingest: a rerun reads again only the table files (and parses again only the Hub
cards) that changed upstream, keeps the rows and quarantined records of the others, and ends with
exactly what a build from scratch gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from pipeline_harness import OFFLINE_HUB, build, query, write_curated

from assets import catalog, tables
from assets.hub import hub_cards, hub_models
from assets.sources.snapshot import SnapshotResource
from pipelines.settings import BUNDLED_SNAPSHOT
from warehouse.database import WarehouseResource, write_difference

TABLES = ["raw.table_results", "raw.ingest_failures", "raw.table_files", "raw.files_read", "results", "quarantine",
          "leaderboard", "model_strengths", "table_reconciliation"]
VOLATILE = {"raw.ingest_failures": "seen_at", "quarantine": "seen_at", "raw.files_read": "read_at",
            "results": "first_seen_at"}                                # a first sighting, kept across runs


def content(warehouse: WarehouseResource, names: list[str]) -> dict[str, list]:
    return {t: sorted(query(warehouse, f"SELECT * EXCLUDE ({VOLATILE[t]}) FROM {t}" if t in VOLATILE
                            else f"SELECT * FROM {t}"), key=repr) for t in names}


def ingest(snapshot: Path, state: Path, assets: list) -> dict[str, dict]:
    """Materialise `assets` on the snapshot; the metadata of each, by asset name."""
    resources = {"warehouse": WarehouseResource(path=str(state / "published.duckdb"), state_dir=str(state)),
                 "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(snapshot),
                                              cache_dir=str(state / "cache")), "hub": OFFLINE_HUB}
    result = dg.materialize(assets, resources=resources)
    assert result.success
    return {e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


@pytest.fixture
def table_snapshot(tmp_path: Path, real_data: Path) -> Path:
    snap = tmp_path / "snap"
    (snap / "tables").mkdir(parents=True)
    for name in ("snli.json", "squad.json", "coqa.json"):
        shutil.copy(real_data / "pwc" / name, snap / "tables" / name)
    (snap / "tables" / "not_json.json").write_bytes(b"\xff\xfe{not json")
    write_curated(snap, [{"model_name": "", "benchmark": "X", "metric": "accuracy", "value": "1"},
                         {"model_name": "Toy model", "benchmark": "Toy", "task": "Text Classification",
                          "metric": "accuracy", "value": "80"}])
    return snap


def test_unchanged_rerun_reads_no_file(table_snapshot: Path, tmp_path: Path) -> None:
    first = ingest(table_snapshot, tmp_path / "state", [tables.benchmark_table_rows])["benchmark_table_rows"]
    assert (first["files_read"], first["files_unchanged"], first["files_removed"]) == (5, 0, 0)
    warehouse = WarehouseResource(path=str(tmp_path / "state" / "published.duckdb"), state_dir=str(tmp_path / "state"))
    before = content(warehouse, TABLES[:4])
    again = ingest(table_snapshot, tmp_path / "state", [tables.benchmark_table_rows])["benchmark_table_rows"]
    assert (again["files_read"], again["files_unchanged"], again["files_removed"]) == (0, 5, 0)
    assert (again["records"], again["quarantined"]) == (first["records"], first["quarantined"]) == (first["records"], 2)
    assert content(warehouse, TABLES[:4]) == before


def test_changed_added_and_deleted_files_give_the_rows_of_a_build_from_scratch(
        table_snapshot: Path, tmp_path: Path, real_data: Path) -> None:
    _, incremental = build(table_snapshot, tmp_path / "incremental")
    snli_rows = query(incremental, "SELECT count(DISTINCT row_hash) FROM raw.table_results "
                                   "WHERE source_file = 'tables/snli.json'")[0][0]
    snli = table_snapshot / "tables" / "snli.json"
    tasks = json.loads(snli.read_text())
    row = tasks[0]["datasets"][0]["sota"]["rows"][0]
    metric = next(iter(row["metrics"]))
    row["metrics"][metric] = "99.9"                                   # a corrected value
    snli.write_text(json.dumps(tasks))
    shutil.copy(real_data / "pwc" / "cmrc.json", table_snapshot / "tables" / "cmrc.json")
    (table_snapshot / "tables" / "coqa.json").unlink()

    rerun = ingest(table_snapshot, tmp_path / "incremental", [tables.benchmark_table_rows])["benchmark_table_rows"]
    assert (rerun["files_read"], rerun["files_unchanged"], rerun["files_removed"]) == (2, 3, 1)
    assert rerun["table_rows_kept"] == snli_rows - 1 > 0            # snli's other rows keep their cells
    assert query(incremental, "SELECT count(*) FROM raw.table_results WHERE source_file = 'tables/coqa.json'") == [(0,)]
    assert query(incremental, "SELECT count(*) FROM raw.table_results WHERE value_raw = '99.9'") == [(1,)]
    assert {k for (k,) in query(incremental, "SELECT record_key FROM raw.ingest_failures")} == {
        "tables/not_json.json", "tables/curated.csv|0"}                # failures of unchanged files are kept

    result, incremental = build(table_snapshot, tmp_path / "incremental")
    assert result.success
    result, scratch = build(table_snapshot, tmp_path / "scratch")
    assert result.success
    assert content(incremental, TABLES) == content(scratch, TABLES)


def test_a_changed_file_still_refuses_its_unchanged_bad_rows(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    (snap / "tables").mkdir(parents=True)
    rows = [{"model_name": "A", "metrics": {"Acc": "1"}}, "not a row", {"model_name": "B", "metrics": {"Acc": "2"}},
            {"model_name": "C", "metrics": ["Acc", "3"]}]
    tasks = [{"task": "T", "categories": ["NLP"], "datasets": [{"dataset": "D", "sota": {"rows": rows}}]}]
    (snap / "tables" / "t.json").write_text(json.dumps(tasks))
    first = ingest(snap, tmp_path / "state", [tables.benchmark_table_rows])["benchmark_table_rows"]
    rows[2]["metrics"]["Acc"] = "2.5"
    (snap / "tables" / "t.json").write_text(json.dumps(tasks))
    again = ingest(snap, tmp_path / "state", [tables.benchmark_table_rows])["benchmark_table_rows"]
    assert (first["table_rows_flattened"], first["table_rows_kept"]) == (4, 0)
    assert (again["table_rows_flattened"], again["table_rows_kept"]) == (3, 1)   # B and the two bad rows
    assert again["quarantined"] == first["quarantined"] == 2
    warehouse = WarehouseResource(path=str(tmp_path / "state" / "published.duckdb"), state_dir=str(tmp_path / "state"))
    assert query(warehouse, "SELECT model_name, value_raw FROM raw.table_results ORDER BY 1") == [("A", "1"), ("B", "2.5")]


def test_a_changed_file_that_breaks_loses_its_rows(table_snapshot: Path, tmp_path: Path) -> None:
    archive = table_snapshot / "tables" / "archive.parquet"          # the Hub archive's shape: tasks as rows
    # DuckDB 1.5 binds no parameter for COPY's target: a literal
    duckdb.execute(f"COPY (SELECT * FROM read_json(?)) TO '{archive}'", [str(table_snapshot / "tables" / "coqa.json")])
    ingest(table_snapshot, tmp_path / "state", [tables.benchmark_table_rows])
    warehouse = WarehouseResource(path=str(tmp_path / "state" / "published.duckdb"), state_dir=str(tmp_path / "state"))
    broken = ("tables/squad.json", "tables/curated.csv", "tables/archive.parquet")
    assert query(warehouse, f"SELECT count(DISTINCT source_file) FROM raw.table_results WHERE source_file IN {broken}"
                 ) == [(3,)]
    squad = table_snapshot / "tables" / "squad.json"
    squad.write_bytes(squad.read_bytes()[:5000])                      # truncated upstream
    (table_snapshot / "tables" / "curated.csv").write_text("model,score\nA,1\n")   # required columns gone
    archive.write_bytes(archive.read_bytes()[:-100])                   # unreadable Parquet: the file is refused
    rerun = ingest(table_snapshot, tmp_path / "state", [tables.benchmark_table_rows])["benchmark_table_rows"]
    assert (rerun["files_read"], rerun["table_rows_kept"]) == (3, 0)
    assert query(warehouse, f"SELECT count(*) FROM raw.table_results WHERE source_file IN {broken}") == [(0,)]
    assert {k for (k,) in query(warehouse, "SELECT record_key FROM raw.ingest_failures")} >= set(broken)


def test_new_reading_code_reads_every_file_again(table_snapshot: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(table_snapshot, tmp_path / "state", [tables.benchmark_table_rows])
    warehouse = WarehouseResource(path=str(tmp_path / "state" / "published.duckdb"), state_dir=str(tmp_path / "state"))
    before = content(warehouse, TABLES[:2])
    monkeypatch.setattr(tables, "PARSER_VERSION", "another version")
    again = ingest(table_snapshot, tmp_path / "state", [tables.benchmark_table_rows])["benchmark_table_rows"]
    assert (again["files_read"], again["files_unchanged"]) == (5, 0)
    assert content(warehouse, TABLES[:2]) == before           # every row replaced: the table was rebuilt


HUB_ASSETS = [catalog.catalog, tables.benchmark_table_rows, hub_models, hub_cards]
HUB_TABLES = ["raw.hub_cards", "raw.hub_eval_results", "raw.hub_card_parses"]
HUB_TOTALS = ["cards", "models_without_card", "eval_results_seen", "eval_results_loaded", "eval_results_quarantined",
              "library_cross_check", "records", "quarantined"]
XLMR = "FacebookAI/xlm-roberta-large"


def _fixture_model(snap: Path, real_data: Path, name: str) -> None:
    repo = f"fixtures/{name.replace('_', '-')}"
    (snap / "hub" / "models" / "fixtures").mkdir(parents=True, exist_ok=True)
    (snap / "hub" / "models" / f"{repo}.json").write_text(json.dumps({"id": repo, "sha": "0" * 40}))
    card = snap / "hub" / "cards" / repo / "README.md"
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_bytes((real_data / "hub" / "fixtures" / f"{name}.md").read_bytes())


def hub_content(state: Path) -> dict[str, list]:
    warehouse = WarehouseResource(path=str(state / "published.duckdb"), state_dir=str(state))
    rows = {t: sorted(query(warehouse, f"SELECT * EXCLUDE (parsed_at) FROM {t}" if t == "raw.hub_card_parses"
                            else f"SELECT * FROM {t}"), key=repr) for t in HUB_TABLES}
    rows["failures"] = sorted(query(warehouse, "SELECT record_key, reason, payload FROM raw.ingest_failures "
                                               "WHERE source = 'hub-cards'"), key=repr)
    return rows


def test_cards_whose_sha_did_not_change_are_not_parsed_again(tmp_path: Path, real_data: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT / "hub", snap / "hub")
    for name in ("sample_invalid_model_index", "sample_simple_model_index"):
        _fixture_model(snap, real_data, name)
    first = ingest(snap, tmp_path / "incremental", HUB_ASSETS)["hub_cards"]
    n_models = first["models_parsed"]
    assert first["models_unchanged"] == 0 and first["quarantined"] > 0
    warehouse = WarehouseResource(path="", state_dir=str(tmp_path / "incremental"))
    [(without_sha,)] = query(warehouse, "SELECT count(*) FROM raw.hub_models WHERE sha IS NULL")  # parsed every run
    before = hub_content(tmp_path / "incremental")
    again = ingest(snap, tmp_path / "incremental", HUB_ASSETS)["hub_cards"]
    assert (again["models_parsed"], again["models_unchanged"]) == (without_sha, n_models - without_sha)
    assert hub_content(tmp_path / "incremental") == before                   # quarantined records kept too
    assert {k: again[k] for k in HUB_TOTALS} == {k: first[k] for k in HUB_TOTALS}

    info = snap / "hub" / "models" / f"{XLMR}.json"                          # a new commit with an edited card
    info.write_text(json.dumps({**json.loads(info.read_text()), "sha": "1" * 40}))
    card = snap / "hub" / "cards" / XLMR / "README.md"
    card.write_text(card.read_text() + "\n\nEdited upstream.\n")
    (snap / "hub" / "models" / "fixtures" / "sample-simple-model-index.json").unlink()   # no longer tracked
    _fixture_model(snap, real_data, "sample_invalid_card_data")                            # a new model
    rerun = ingest(snap, tmp_path / "incremental", HUB_ASSETS)["hub_cards"]
    assert (rerun["models_parsed"], rerun["models_unchanged"]) == (without_sha + 2, n_models - without_sha - 2)
    scratch = ingest(snap, tmp_path / "scratch", HUB_ASSETS)["hub_cards"]
    assert hub_content(tmp_path / "incremental") == hub_content(tmp_path / "scratch")
    assert {k: rerun[k] for k in HUB_TOTALS} == {k: scratch[k] for k in HUB_TOTALS}
    assert "Edited upstream." in query(warehouse, "SELECT readme FROM raw.hub_cards WHERE model_id = ?", [XLMR])[0][0]


MODEL_TABLES = ["raw.hub_models", "raw.hub_model_aliases", "raw.hub_model_files", "raw.files_read EXCLUDE (read_at)"]


def model_content(state: Path) -> dict[str, list]:
    warehouse = WarehouseResource(path="", state_dir=str(state))
    rows = {t: sorted(query(warehouse, f"SELECT * {t.removeprefix(t.split()[0])} FROM {t.split()[0]}"), key=repr)
            for t in MODEL_TABLES}
    rows["failures"] = sorted(query(warehouse, "SELECT record_key, reason, payload FROM raw.ingest_failures "
                                               "WHERE source = 'hub'"), key=repr)
    return rows


def test_model_info_files_that_did_not_change_are_not_read_again(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT / "hub", snap / "hub")
    models = snap / "hub" / "models"
    (models / "broken").mkdir()
    (models / "broken" / "not-json.json").write_text('{"id": "broken/not-json", ')
    first = ingest(snap, tmp_path / "incremental", HUB_ASSETS[:3])["hub_models"]
    n_files = first["files"]
    assert (first["files_read"], first["files_unchanged"]) == (n_files, 0) and first["quarantined"] >= 1
    before = model_content(tmp_path / "incremental")
    again = ingest(snap, tmp_path / "incremental", HUB_ASSETS[:3])["hub_models"]
    assert (again["files_read"], again["files_unchanged"]) == (0, n_files)
    assert model_content(tmp_path / "incremental") == before                 # refused files stay quarantined

    info = models / f"{XLMR}.json"                                           # a new commit
    info.write_text(json.dumps({**json.loads(info.read_text()), "sha": "1" * 40, "downloads": 7}))
    (models / "broken" / "not-json.json").write_text('{"id": "broken/not-json"}')   # repaired upstream
    removed = next(p for p in sorted(models.glob("*/*.json")) if p != info and "broken" not in str(p))
    removed.unlink()
    (models / "fixtures").mkdir()
    (models / "fixtures" / "new-model.json").write_text(json.dumps({"id": "fixtures/new-model", "sha": "2" * 40}))
    rerun = ingest(snap, tmp_path / "incremental", HUB_ASSETS[:3])["hub_models"]
    assert (rerun["files_read"], rerun["files_unchanged"], rerun["files"]) == (3, n_files - 3, n_files)
    scratch = ingest(snap, tmp_path / "scratch", HUB_ASSETS[:3])["hub_models"]
    assert model_content(tmp_path / "incremental") == model_content(tmp_path / "scratch")
    assert (rerun["records"], rerun["quarantined"]) == (scratch["records"], scratch["quarantined"])
    warehouse = WarehouseResource(path="", state_dir=str(tmp_path / "incremental"))
    assert query(warehouse, "SELECT sha, downloads FROM raw.hub_models WHERE model_id = ?", [XLMR]) == [("1" * 40, 7)]
    assert query(warehouse, "SELECT count(*) FROM raw.hub_models WHERE model_id = 'broken/not-json'") == [(1,)]


# A working database of the older layout: file tables each with their own bookkeeping (before
# raw.files_read), and tables of the Hub models where views now derive them from the files read.
OLD_FILE_TABLES = {
    "raw.hub_model_files": "SELECT source_file, requested_id, 1::BIGINT AS bytes, 1::BIGINT AS mtime_ns, 'old' AS parser, "
                           "* EXCLUDE (source_file, requested_id) FROM raw.hub_model_files",
    "raw.table_files": "SELECT source_file, 1::BIGINT AS bytes, 'old' AS sha256, 'old' AS parser, failures, "
                       "TIMESTAMP '2026-01-01' AS loaded_at FROM raw.table_files",
}
OLD_TABLES_NOW_VIEWS = ["raw.hub_models", "raw.hub_model_aliases"]


def test_a_working_database_of_the_older_layout_reads_every_file_once_again(table_snapshot: Path,
                                                                             tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_SNAPSHOT / "hub", table_snapshot / "hub")
    state = tmp_path / "state"
    first = ingest(table_snapshot, state, HUB_ASSETS[:3])
    with duckdb.connect(str(WarehouseResource(path="", state_dir=str(state)).working_path)) as con:
        for kind, table, old in [("VIEW", view, f"FROM {view}") for view in OLD_TABLES_NOW_VIEWS] + \
                                [("TABLE", *item) for item in OLD_FILE_TABLES.items()]:
            con.execute(f"CREATE TABLE raw.old_layout AS {old}")
            con.execute(f"DROP {kind} {table}")
            con.execute(f"ALTER TABLE raw.old_layout RENAME TO {table.removeprefix('raw.')}")
        con.execute("DROP TABLE raw.files_read")
    migrated = ingest(table_snapshot, state, HUB_ASSETS[:3])
    assert migrated["hub_models"]["files_read"] == first["hub_models"]["files"] > 0
    assert migrated["benchmark_table_rows"]["files_read"] == first["benchmark_table_rows"]["files_read"] == 5
    ingest(table_snapshot, tmp_path / "scratch", HUB_ASSETS[:3])
    assert model_content(state) == model_content(tmp_path / "scratch")
    assert content(WarehouseResource(path="", state_dir=str(state)), TABLES[:4]) == \
        content(WarehouseResource(path="", state_dir=str(tmp_path / "scratch")), TABLES[:4])


def test_model_info_file_linked_outside_the_snapshot_is_not_read(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    (snap / "hub" / "models" / "org").mkdir(parents=True)
    secret = tmp_path / "secret.json"
    secret.write_text('{"id": "org/leak", "sha": "private"}')
    (snap / "hub" / "models" / "org" / "leak.json").symlink_to(secret)
    (snap / "hub" / "models" / "org" / "real.json").write_text('{"id": "org/real", "sha": "a"}')
    (snap / "hub" / "models" / "org" / "alias.json").symlink_to(snap / "hub" / "models" / "org" / "real.json")
    meta = ingest(snap, tmp_path / "state", HUB_ASSETS[:3])["hub_models"]
    assert meta["files"] == 2
    warehouse = WarehouseResource(path="", state_dir=str(tmp_path / "state"))
    assert query(warehouse, "SELECT requested_id FROM raw.hub_model_files ORDER BY 1") == [("org/alias",), ("org/real",)]


def test_replace_rows_writes_only_the_rows_that_differ(tmp_path: Path) -> None:
    warehouse = WarehouseResource(path="", state_dir=str(tmp_path))
    with warehouse.connect() as con:
        con.execute("CREATE TABLE papers (arxiv_id VARCHAR PRIMARY KEY, title VARCHAR, authors VARCHAR[])")
        con.execute("INSERT INTO papers VALUES ('1', 'kept', ['a']), ('2', 'old title', ['b']), ('3', 'gone', NULL)")
        before = dict(con.execute("SELECT arxiv_id, rowid FROM papers").fetchall())
        warehouse.replace_rows(con, "papers", ("arxiv_id",), "SELECT * FROM (VALUES ('1', 'kept', ['a']), "
                               "('2', 'new title', ['b']), ('4', 'new', NULL)) AS t(arxiv_id, title, authors)")
        rows = con.execute("SELECT arxiv_id, title, authors, rowid FROM papers ORDER BY arxiv_id").fetchall()
    assert [r[:3] for r in rows] == [("1", "kept", ["a"]), ("2", "new title", ["b"]), ("4", "new", None)]
    assert rows[0][3] == before["1"]                                  # the unchanged row was not rewritten
    assert rows[1][3] != before["2"]


def test_the_difference_pairs_keys_that_hold_a_null_and_keeps_copies_of_unkeyed_rows() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE board (benchmark VARCHAR, split VARCHAR, model VARCHAR, value DOUBLE)")
    con.execute("INSERT INTO board VALUES ('b', NULL, 'm1', 1.0), ('b', NULL, 'm2', 2.0), ('b', 'test', 'm1', 3.0)")
    con.execute("CREATE TEMP TABLE tonight AS FROM (VALUES ('b', NULL::VARCHAR, 'm1', 1.0), ('b', NULL, 'm2', 2.5), "
                "('b', NULL, 'm3', 4.0)) AS t(benchmark, split, model, value)")
    before = dict(con.execute("SELECT model, rowid FROM board WHERE split IS NULL").fetchall())
    key = ("benchmark", "split", "model")
    assert write_difference(con, "board", "tonight", key) == (2, 2)   # m2 changed, m1/test gone, m3 new
    assert con.execute("SELECT model, value FROM board ORDER BY model").fetchall() == [
        ("m1", 1.0), ("m2", 2.5), ("m3", 4.0)]
    assert con.execute("SELECT rowid FROM board WHERE model = 'm1'").fetchone()[0] == before["m1"]  # not rewritten
    assert write_difference(con, "board", "tonight", key) == (0, 0)
    con.execute("CREATE TABLE by_id (id VARCHAR, value INTEGER)")                # one key column, NULL once
    con.execute("INSERT INTO by_id VALUES (NULL, 1), ('a', 2)")
    kept = con.execute("SELECT rowid FROM by_id WHERE id = 'a'").fetchone()[0]
    con.execute("CREATE TEMP TABLE by_id_tonight AS FROM (VALUES (NULL::VARCHAR, 5), ('a', 2)) AS t(id, value)")
    assert write_difference(con, "by_id", "by_id_tonight", ("id",)) == (1, 1)
    assert con.execute("SELECT rowid FROM by_id WHERE id = 'a'").fetchone()[0] == kept
    assert sorted(con.execute("FROM by_id").fetchall(), key=repr) == [("a", 2), (None, 5)]

    con.execute("CREATE TABLE names (name VARCHAR)")
    con.execute("INSERT INTO names VALUES ('a'), ('a'), ('b')")
    con.execute("CREATE TEMP TABLE names_tonight AS FROM (VALUES ('a'), ('b'), ('b')) AS t(name)")
    write_difference(con, "names", "names_tonight", ())
    assert sorted(con.execute("FROM names").fetchall()) == [("a",), ("b",), ("b",)]
