"""Rank semantics as warehouse/README.md defines them, on hand-made leaderboards (curated CSV rows through the real assets)."""

from __future__ import annotations

import pytest
from pipeline_harness import build, failed_checks, query, write_curated


def row(model, value, metric="accuracy", benchmark="Toy", setting="", date="2020-01-01", **extra):
    return {"model_name": model, "benchmark": benchmark, "task": "Text Classification", "metric": metric,
            "value": value, "setting": setting, "result_date": date, **extra}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ranking")
    write_curated(tmp / "snap", [
        # ties share a rank: 1, 2, 2, 4
        row("A", "90"), row("B", "85"), row("C", "85.0"), row("D", "80"),
        # a model with several results: its best counts; a tie on value goes to the earliest date
        row("E", "70", benchmark="Multi"), row("E", "75", benchmark="Multi", date="2021-05-01"),
        row("E", "75", benchmark="Multi", date="2020-02-01"), row("F", "72", benchmark="Multi"),
        # lower is better
        row("P", "30.5", metric="Test perplexity", benchmark="LM"), row("Q", "20.1", metric="Test perplexity", benchmark="LM"),
        # a group of one
        row("Solo", "12.0", metric="BLEU", benchmark="Lonely"),
        # unknown direction: never ranked
        row("A", "3", metric="Zorblax index", benchmark="Toy"),
        # settings never share a leaderboard
        row("A", "60", benchmark="Set", setting="zero-shot"), row("B", "65", benchmark="Set", setting="translate-train-all"),
        # percent sign and bold values parse to the same number
        row("G", "83.6%", benchmark="Forms"), row("H", "**83.6**", benchmark="Forms"),
        # non-values are quarantined, not ranked
        row("I", "-", benchmark="Forms"), row("J", "Please tell us", benchmark="Forms"),
    ])
    result, warehouse = build(tmp / "snap", tmp / "state")
    assert result.success
    return result, warehouse


def ranks(warehouse, benchmark, metric="accuracy"):
    return dict(query(warehouse, "SELECT m.display_name, l.rank FROM leaderboard l JOIN models m USING (model_id) "
                                 "WHERE l.benchmark_id LIKE ? AND l.metric = ?", [benchmark.lower() + "%", metric]))


def test_ties_share_a_rank(built):
    _, warehouse = built
    assert ranks(warehouse, "toy") == {"A": 1, "B": 2, "C": 2, "D": 4}
    assert query(warehouse, "SELECT DISTINCT n_models FROM leaderboard WHERE benchmark_id LIKE 'toy%' "
                            "AND metric = 'accuracy'") == [(4,)]


def test_best_result_per_model_and_earliest_on_tie(built):
    _, warehouse = built
    assert ranks(warehouse, "multi") == {"E": 1, "F": 2}
    (date,) = query(warehouse, "SELECT result_date::VARCHAR FROM leaderboard WHERE benchmark_id LIKE 'multi%' AND rank = 1")
    assert date == ("2020-02-01",)


def test_lower_is_better(built):
    _, warehouse = built
    assert ranks(warehouse, "lm", "perplexity") == {"Q": 1, "P": 2}
    assert query(warehouse, "SELECT DISTINCT split FROM leaderboard WHERE benchmark_id LIKE 'lm%'") == [("test",)]


def test_group_of_one_is_thin_sota(built):
    _, warehouse = built
    assert query(warehouse, "SELECT rank, n_models, is_sota, thin FROM leaderboard WHERE benchmark_id LIKE 'lonely%'") \
        == [(1, 1, True, True)]


def test_unknown_direction_is_not_ranked(built):
    _, warehouse = built
    assert query(warehouse, "SELECT count(*) FROM leaderboard WHERE metric = 'zorblax index'") == [(0,)]
    assert query(warehouse, "SELECT direction FROM metrics WHERE metric = 'zorblax index'") == [(None,)]
    assert ("zorblax index",) in query(warehouse, "SELECT metric FROM unknown_metrics")


def test_settings_are_separate_leaderboards(built):
    _, warehouse = built
    assert sorted(query(warehouse, "SELECT setting, rank, n_models FROM leaderboard WHERE benchmark_id LIKE 'set%'")) \
        == [("translate-train-all", 1, 1), ("zero-shot", 1, 1)]


def test_value_forms_and_quarantine(built):
    _, warehouse = built
    assert ranks(warehouse, "forms") == {"G": 1, "H": 1}
    reasons = dict(query(warehouse, "SELECT json_extract_string(payload, '$.value'), reason FROM quarantine"))
    assert reasons["-"] == "not a value: -" and reasons["Please tell us"].startswith("not a value")
    assert query(warehouse, "SELECT bool_and(reconciles) FROM table_reconciliation") == [(True,)]


def test_checks_pass(built):
    result, _ = built
    assert failed_checks(result) == []
