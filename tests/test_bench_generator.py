"""The scale benchmark's generator writes the real source formats (fast: a tiny snapshot)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
import yaml
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.repocard_data import model_index_to_eval_results
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ is not an installed package
from pipeline_harness import build, query  # noqa: E402

from assets.sources.arxiv.feeds import read_feed  # noqa: E402
from bench.generate import MANIFEST, Params, apply_change, generate  # noqa: E402
from bench.run import (  # noqa: E402
    change_footprint,
    duckdb_equivalent,
    export_leaderboard_keys,
    pandas_equivalent,
    table_reading_floor,
)
from warehouse.database import WarehouseResource  # noqa: E402

TINY = Params(results=2000, models=400, hub_models=60, papers=250, benchmarks=40, table_files=4, hub_leaderboards=2)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny") / "snapshot"
    generate(root, TINY)
    return root


def _digest(root: Path) -> str:
    """Of every file but the manifest (which records how long the generation took)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_deterministic_by_seed(tiny: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", TINY)
    assert _digest(tmp_path / "again") == _digest(tiny)


def test_pwc_tables_have_the_evaluation_tables_shape(tiny: Path, real_data: Path) -> None:
    real = json.loads((real_data / "pwc" / "squad.json").read_text())
    real_task, real_dataset = real[0], real[0]["datasets"][0]
    real_row = real_dataset["sota"]["rows"][0]
    files = sorted((tiny / "tables").glob("*.json"))
    assert len(files) == TINY.table_files
    cells = 0
    for path in files:
        tasks = json.loads(path.read_text())
        assert isinstance(tasks, list) and tasks
        for task in tasks:
            assert set(task) == set(real_task)
            for dataset in task["datasets"] + [d for s in task["subtasks"] for d in s["datasets"]]:
                assert set(dataset) == set(real_dataset)
                for row in dataset["sota"]["rows"]:
                    assert set(row) == set(real_row)
                    assert set(row["metrics"]) <= set(dataset["sota"]["metrics"])
                    assert all(isinstance(v, str) for v in row["metrics"].values())
                    cells += len(row["metrics"])
    assert cells > 0.8 * TINY.results


def test_hub_model_bodies_and_cards(tiny: Path, real_data: Path) -> None:
    real = json.loads((real_data / "hub" / "api" / "hfhub_cassette__deepset__roberta-base-squad2.json").read_text())
    bodies = sorted((tiny / "hub" / "models").glob("*/*.json"))
    assert len(bodies) == TINY.hub_models
    with_index = with_params = with_arxiv = 0
    for path in bodies:
        body = json.loads(path.read_text())
        assert {"id", "modelId", "author", "sha", "lastModified", "tags", "cardData", "siblings", "private",
                "gated", "downloads", "likes", "pipeline_tag", "library_name"} <= set(body) <= set(real) | {
                    "safetensors", "createdAt", "usedStorage"}
        assert body["id"] == f"{path.parent.name}/{path.stem}"
        with_arxiv += any(t.startswith("arxiv:") for t in body["tags"])
        with_params += isinstance(body.get("safetensors", {}).get("total"), int)
        if "model-index" in body["cardData"]:
            with_index += 1
            _, results = model_index_to_eval_results(body["cardData"]["model-index"])
            assert results
    assert with_index and with_params and with_arxiv
    cards = sorted((tiny / "hub" / "cards").glob("*/*/README.md"))
    assert 0.9 * TINY.hub_models <= len(cards) < TINY.hub_models
    for card in cards:
        match = REGEX_YAML_BLOCK.search(card.read_text())
        assert match, card
        meta = yaml.safe_load(match.group(2))
        assert isinstance(meta, dict) and meta["license"]
        if "model-index" in meta:
            model_index_to_eval_results(meta["model-index"])  # the library's strict parser accepts it
    for board in (tiny / "hub" / "leaderboards").glob("*/*.json"):
        entries = json.loads(board.read_text())
        assert entries and {"rank", "modelId", "value", "verified", "source", "filename"} <= set(entries[0])


def test_arxiv_feeds_parse_with_arxiv_parser(tiny: Path) -> None:
    feeds = sorted((tiny / "arxiv").glob("*.xml"))
    ids = []
    for path in feeds:
        parsed = read_feed(path.read_bytes())
        assert parsed.problem is None and not parsed.entry_problems
        per_page = etree.fromstring(path.read_bytes()).findtext("{http://a9.com/-/spec/opensearch/1.1/}itemsPerPage")
        assert per_page == "100" and len(parsed.results) <= 100
        ids += [r.get_short_id() for r in parsed.results]
        assert all(r.title and r.authors and r.primary_category and r.published for r in parsed.results)
    assert len(ids) == len(set(ids)) == TINY.papers
    assert all(len(f.read_bytes()) for f in feeds) and len(read_feed(feeds[0].read_bytes()).results) == 100


@pytest.fixture(scope="module")
def tiny_warehouse(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> WarehouseResource:
    _, warehouse = build(tiny, tmp_path_factory.mktemp("tiny_state"))
    return warehouse


def test_tables_flatten_and_reconcile(tiny_warehouse: WarehouseResource) -> None:
    files = query(tiny_warehouse, "SELECT source_file, reconciles FROM table_reconciliation")
    assert len(files) == TINY.table_files + 1 and all(ok for _, ok in files)
    assert query(tiny_warehouse, "SELECT count(*) FROM leaderboard")[0][0] > 0
    n_models = query(tiny_warehouse, "SELECT count(DISTINCT model_id) FROM results")[0][0]
    assert n_models > 0.5 * TINY.models


@pytest.mark.parametrize("comparison", [pandas_equivalent, duckdb_equivalent])
def test_benchmark_comparisons_compute_what_the_warehouse_does(tiny_warehouse: WarehouseResource, comparison) -> None:
    checks = comparison(tiny_warehouse.working_path)["matches_warehouse"]
    assert checks["leaderboard_rows"]["warehouse"] > 0
    assert all(check["same"] for check in checks.values()), checks


def test_table_reading_floor_reads_every_table_file(tiny: Path, tiny_warehouse: WarehouseResource) -> None:
    floor = table_reading_floor(tiny)
    assert floor["files"] == len(list((tiny / "tables").glob("*.json"))) == TINY.table_files
    # every row of a task's own datasets was read: as many as the warehouse flattened from them
    flattened = query(tiny_warehouse, "SELECT count(DISTINCT (source_file, task_path, dataset, row_index)) "
                                      "FROM raw.table_results WHERE source_format = 'pwc-json' AND len(task_path) = 1 "
                                      "AND subdataset IS NULL")[0][0]
    assert floor["rows"] == flattened > 0


def test_change_round(tiny: Path, tmp_path: Path) -> None:
    root = tmp_path / "changed"
    generate(root, TINY)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    stats = apply_change(root)
    assert json.loads((root / MANIFEST).read_text())["rounds"] == 1
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    changed_models = [p for p in after if "hub/models" in str(p) and before.get(p) != after[p]]
    assert len(changed_models) == stats["hub_models_changed"] >= 1
    new_feeds = [p for p in after if p not in before and p.suffix == ".xml"]
    assert new_feeds and sum(len(read_feed(p.read_bytes()).results) for p in new_feeds) == stats["papers_added"]
    rows = lambda files: sum(len(d["sota"]["rows"]) for p, b in files.items() if p.suffix == ".json" and "tables" in str(p)  # noqa: E731
                             for t in json.loads(b) for d in t["datasets"] + [x for s in t["subtasks"] for x in s["datasets"]])
    assert rows(after) == rows(before) + stats["rows_added"]


def test_change_footprint_counts_what_a_change_round_touched(tmp_path: Path) -> None:
    root = tmp_path / "snapshot"
    generate(root, TINY)
    _, warehouse = build(root, tmp_path / "state")
    before = tmp_path / "before.parquet"
    export_leaderboard_keys(warehouse.working_path, before)
    build(root, tmp_path / "state")                                   # nothing changed upstream
    unchanged = change_footprint(warehouse.working_path, before)
    assert (unchanged["leaderboards_touched"], unchanged["models_touched"]) == (0, 0)
    assert not {"added", "changed", "removed"} & set(unchanged)

    stats = apply_change(root)
    build(root, tmp_path / "state")
    touched = change_footprint(warehouse.working_path, before)
    assert touched["added"] >= stats["rows_added"]                    # each new table row has a cell at least
    assert touched["changed"] >= 1
    assert 0 < touched["leaderboards_touched"] <= touched["leaderboards"]
    assert 0 < touched["leaderboard_rows_in_touched"] <= touched["leaderboard_rows"]
    [(in_touched,)] = query(warehouse, f"""
        SELECT count(*) FROM leaderboard WHERE (benchmark_id, metric, split, setting) IN (
            SELECT (benchmark_id, metric, coalesce(split, ''), setting) FROM results
            WHERE result_id NOT IN (SELECT result_id FROM read_parquet('{before}')))""")
    assert touched["leaderboard_rows_in_touched"] >= in_touched > 0  # boards with an added result are in it
