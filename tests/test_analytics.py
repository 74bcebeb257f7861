"""State-of-the-art history, freshness and the comparison with Hub leaderboards."""

from __future__ import annotations

import pytest
from pipeline_harness import build, failed_checks, query, write_curated

SQUAD = {"benchmark": "SQuAD2.0", "task": "Question Answering", "metric": "F1"}
SEED = """
INSERT INTO raw.hub_leaderboard_entries VALUES
    ('rajpurkar/squad_v2', 1, 'org/alpha', 91.0, true, 'eval', NULL, '.eval_results/a.yaml', now()),
    ('rajpurkar/squad_v2', 2, 'org/gamma', 89.0, false, 'eval', NULL, '.eval_results/c.yaml', now()),
    ('rajpurkar/squad_v2', 3, 'org/beta', 90.0, false, 'eval', NULL, '.eval_results/b.yaml', now());
INSERT INTO raw.source_runs (source, started_at, finished_at, mode, records, failures, requests, retries)
VALUES ('hub', '2026-01-01 02:00', '2026-01-01 02:05', 'live', 40, 2, 55, 3),
       ('arxiv', '2026-01-01 02:00', '2026-01-01 02:01', 'live', 20, 0, 1, 0);
INSERT INTO raw.source_runs VALUES
    ('arxiv', '2026-01-02 02:00', '2026-01-02 02:01', 'live', 20, 1, 3, 2, 1, 1,
     'host export.arxiv.org unreachable, every request failed: connection error (Connection refused)');
INSERT INTO raw.entity_fetch_failures VALUES
    ('paper', '2101.00009', '2026-01-02 02:01', 'fetch failed: host unreachable: export.arxiv.org');
INSERT INTO raw.ingest_failures VALUES
    ('hub', 'org/private', 'gated: 401 from the Hub', NULL, '2026-01-01 02:04'),
    ('hub', 'org/deleted', 'not found: 404 from the Hub', NULL, '2026-01-01 02:04');
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analytics")
    write_curated(tmp / "snap", [
        {**SQUAD, "model_name": "first", "value": "70", "result_date": "2018-01-01"},
        {**SQUAD, "model_name": "worse later", "value": "65", "result_date": "2018-06-01"},
        {**SQUAD, "model_name": "second", "value": "80", "result_date": "2019-01-01"},
        {**SQUAD, "model_name": "third", "value": "85", "result_date": "2020-01-01"},
        {**SQUAD, "model_name": "undated", "value": "99"},
        {**SQUAD, "model_id": "org/alpha", "model_name": "alpha", "value": "91.0", "result_date": "2021-01-01"},
        {**SQUAD, "model_id": "org/beta", "model_name": "beta", "value": "90.0", "result_date": "2021-01-01"},
        {**SQUAD, "model_id": "org/gamma", "model_name": "gamma", "value": "89.0", "result_date": "2021-01-01"},
    ])
    result, warehouse = build(tmp / "snap", tmp / "state", SEED)
    assert result.success and failed_checks(result) == []
    return warehouse


def test_sota_history_follows_records_in_time(built):
    rows = query(built, "SELECT m.display_name, s.held_from::VARCHAR, s.held_until::VARCHAR, s.is_current "
                        "FROM sota_history s JOIN models m USING (model_id) WHERE s.benchmark_id = 'squad-v2' "
                        "ORDER BY s.held_from")
    assert rows == [
        ("first", "2018-01-01", "2019-01-01", False),
        ("second", "2019-01-01", "2020-01-01", False),
        ("third", "2020-01-01", "2021-01-01", False),
        ("alpha", "2021-01-01", None, True),
    ]
    # the undated 99 is the SOTA on the leaderboard, but cannot be placed in the history
    assert query(built, "SELECT m.display_name FROM leaderboard l JOIN models m USING (model_id) "
                        "WHERE l.benchmark_id = 'squad-v2' AND l.is_sota") == [("undated",)]


def test_hub_rank_comparison_lists_disagreements(built):
    rows = query(built, "SELECT model_id, hub_rank, our_rank_among_hub_models, rank_agrees FROM hub_rank_comparison "
                        "ORDER BY hub_rank")
    assert rows == [("org/alpha", 1, 1, True), ("org/gamma", 2, 3, False), ("org/beta", 3, 2, False)]


def test_source_freshness_reports_failures_by_reason(built):
    [(records, failures, reasons, requests, retries)] = query(
        built, "SELECT records, failures, failures_by_reason, requests, retries FROM source_freshness "
               "WHERE source = 'hub'")
    assert (records, failures, requests, retries) == (40, 2, 55, 3)
    assert reasons == {"gated": 1, "not found": 1}
    [(newest, sota_since)] = query(built, "SELECT newest_result_date::VARCHAR, sota_since::VARCHAR "
                                          "FROM leaderboard_freshness WHERE benchmark_id = 'squad-v2'")
    assert newest == "2021-01-01" and sota_since is None  # the SOTA row has no date


def test_a_source_that_failed_wholesale_keeps_its_last_success_and_says_why(built):
    [(last_success, last_run, fetches, fetch_failures, outage)] = query(
        built, "SELECT last_success_at::VARCHAR, last_run_at::VARCHAR, fetches, fetch_failures, outage "
               "FROM source_freshness WHERE source = 'arxiv'")
    assert (last_success, last_run, fetches, fetch_failures) == ("2026-01-01 02:01:00", "2026-01-02 02:01:00", 1, 1)
    assert outage.startswith("host export.arxiv.org unreachable")
    assert query(built, "SELECT outage FROM source_freshness WHERE source = 'hub'") == [(None,)]
    # an entity never fetched whose fetch failed: stale, with no last good fetch
    assert query(built, "SELECT fetched_at, stale, last_failure FROM entity_freshness WHERE entity_id = '2101.00009'"
                 ) == [(None, True, "fetch failed: host unreachable: export.arxiv.org")]


UNMAPPED = {"task": "Zz Unmapped Task", "metric": "accuracy", "area": ""}   # no area from the task: papers decide
PAPER_CATEGORIES = {"2101.00001": "cs.RO", "2101.00002": "cs.SD", "2101.00003": "cs.CL", "2101.00004": "cs.GR",
                    "2101.00005": "cs.CV", "2101.00006": "cs.SD"}


def test_a_benchmark_without_a_task_area_takes_its_papers_most_common_area_ties_by_name(tmp_path):
    rows = [{**UNMAPPED, "benchmark": "TieBench", "model_name": f"m{i}", "value": "50",
             "paper_url": f"https://arxiv.org/abs/2101.0000{i}"} for i in (1, 2, 3, 4, 5)]
    rows += [{**UNMAPPED, "benchmark": "MajorityBench", "model_name": f"m{i}", "value": "50",
              "paper_url": f"https://arxiv.org/abs/2101.0000{i}"} for i in (2, 5, 6)]
    write_curated(tmp_path / "snap", rows)
    seed = "INSERT INTO raw.arxiv_papers (arxiv_id, version, title, published, updated, primary_category, " \
           "withdrawn, fetched_at) VALUES " + ", ".join(
               f"('{i}', 1, 'Paper {i}', '2021-01-01', '2021-01-01', '{c}', false, now())"
               for i, c in PAPER_CATEGORIES.items())
    result, warehouse = build(tmp_path / "snap", tmp_path / "state", seed)
    assert result.success
    areas = dict(query(warehouse, "SELECT name, area || ' / ' || area_source FROM benchmarks"))
    # five papers, five areas, one each: the first area by name, the same on every build
    assert areas["TieBench"] == "Computer Vision / arxiv category"
    assert areas["MajorityBench"] == "Speech / arxiv category"          # two Speech papers beat one CV paper


def test_every_table_is_an_asset_with_its_row_count_and_views_are_not_read(tmp_path):
    write_curated(tmp_path / "snap", [{**SQUAD, "model_name": "first", "value": "70"},
                                      {**SQUAD, "model_name": "second", "value": "80"}])
    result, _ = build(tmp_path / "snap", tmp_path / "state")
    metadata = {e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
                for e in result.get_asset_materialization_events()}
    # the model page's views, each its own asset: neither counted nor previewed (both run the view's query)
    for view in ("model_page_card", "model_page_benchmarks", "related_models", "result_sources"):
        assert "dagster/row_count" not in metadata[view] and "preview" not in metadata[view]
    assert metadata["leaderboard"]["preview"] != "(empty)"
    # a table built beside others by the same SQL file is an asset of its own, with its count
    assert (metadata["leaderboard"]["dagster/row_count"], metadata["result_rejects"]["dagster/row_count"]) == (2, 0)
    assert metadata["model_aliases"]["dagster/row_count"] >= 2


def test_a_result_beaten_on_its_own_date_never_held_the_record(tmp_path):
    board = {**SQUAD, "split": "test"}
    write_curated(tmp_path / "snap", [
        {**board, "model_name": f"day one {value}", "value": value, "result_date": "2018-01-01"}
        for value in ("60", "65", "70", "68", "62")
    ] + [
        {**board, "model_name": f"day two {value}", "value": value, "result_date": "2018-02-01"}
        for value in ("75", "80", "71", "79")
    ])
    result, warehouse = build(tmp_path / "snap", tmp_path / "state")
    assert result.success and failed_checks(result) == []
    rows = query(warehouse, "SELECT m.display_name, s.held_from::VARCHAR, s.held_until::VARCHAR, s.is_current "
                            "FROM sota_history s JOIN models m USING (model_id) ORDER BY s.held_from")
    assert rows == [("day one 70", "2018-01-01", "2018-02-01", False), ("day two 80", "2018-02-01", None, True)]
