"""Verification flags as warehouse/README.md defines them, on hand-made results from several sources."""

from __future__ import annotations

import pytest
from pipeline_harness import build, failed_checks, query, write_curated

XNLI = {"benchmark": "XNLI", "task": "Zero-Shot Classification", "metric": "accuracy", "setting": "translate-train-all"}

SEED = """
INSERT INTO raw.hub_model_files (source_file, requested_id, model_id, author, tags, arxiv_ids, gated, private,
                                 license, fetched_at)
VALUES ('hub/models/org/cited.json', 'org/cited', 'org/cited', 'org', ['arxiv:2001.00001'], ['2001.00001'], 'false', false, 'mit', now()),
       ('hub/models/org/hubonly.json', 'org/hubonly', 'org/hubonly', 'org', [], [], 'false', false, 'mit', now());
INSERT INTO raw.hub_eval_results (record_key, model_id, format, task_type, dataset_type, dataset_name,
                                  metric_type, metric_name, value_raw, verified, verify_token)
VALUES ('org/hubonly/model-index/0', 'org/hubonly', 'model-index', 'zero-shot-classification', 'facebook/xnli',
        'XNLI', 'accuracy', 'Accuracy', '0.801', true, NULL),
       ('org/hubonly/eval-results/0', 'org/hubonly', 'eval-results', 'zero-shot-classification', 'facebook/xnli',
        'XNLI', 'accuracy', 'Accuracy', '0.801', false, 'tok_abc');
INSERT INTO raw.arxiv_papers (arxiv_id, version, title, published, updated, primary_category, withdrawn, fetched_at)
VALUES ('2001.00001', 1, 'A paper', '2020-01-01', '2020-01-01', 'cs.CL', false, now()),
       ('2001.00002', 2, 'Later paper', '2021-06-01', '2021-06-01', 'cs.CL', false, now()),
       ('2001.00003', 3, 'Withdrawn paper', '2020-01-01', '2020-02-01', 'cs.CL', true, now());
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verification")
    paper = "https://arxiv.org/abs/2001.00001"
    write_curated(tmp / "snap", [
        # paper-confirmed and cited by the model's card: verified
        {**XNLI, "model_id": "org/cited", "model_name": "Cited", "value": "80.0", "paper_url": paper,
         "result_date": "2020-03-01"},
        # corroborated: two sources within 0.1
        {**XNLI, "model_name": "Twice", "value": "75.00", "result_date": "2020-03-01"},
        # conflict: the same model in two files, 2 points apart
        {**XNLI, "model_name": "Clash", "value": "70.0", "result_date": "2020-03-01"},
        # paper published after the result date: not confirmed
        {**XNLI, "model_name": "Early", "value": "60.0", "paper_url": "https://arxiv.org/abs/2001.00002",
         "result_date": "2020-03-01"},
        # no date of its own: dated by its paper, which it confirms
        {**XNLI, "model_name": "Undated", "value": "55.0", "paper_url": paper},
        # withdrawn paper: not confirmed
        {**XNLI, "model_name": "Gone", "value": "50.0", "paper_url": "https://arxiv.org/abs/2001.00003v3",
         "result_date": "2020-03-01"},
    ], name="a.csv")
    write_curated(tmp / "snap", [
        {**XNLI, "model_name": "Twice", "value": "75.08", "result_date": "2020-04-01"},
        {**XNLI, "model_name": "Clash", "value": "72.0", "result_date": "2020-04-01"},
    ], name="b.csv")
    result, warehouse = build(tmp / "snap", tmp / "state", SEED)
    assert result.success
    return result, warehouse


def flags(warehouse, model, source_file=None):
    rows = query(warehouse, "SELECT hub_verified, paper_confirmed, corroborated, conflict, verified, "
                            "verification_tier, verification_reasons FROM results r JOIN models m USING (model_id) "
                            "WHERE m.display_name = ? AND (? IS NULL OR r.source_file = ?) ORDER BY r.source",
                 [model, source_file, source_file])
    return rows


def test_paper_confirmed_and_cited_is_verified(built):
    _, warehouse = built
    [(hub, paper, corr, conflict, verified, tier, reasons)] = flags(warehouse, "Cited")  # the table's name: no card names it
    assert (hub, paper, corr, conflict, verified, tier) == (False, True, False, False, True, "confirmed")
    assert "arXiv 2001.00001 confirms" in reasons and "cited by the model" in reasons


def test_hub_verified_and_reproduced(built):
    _, warehouse = built
    rows = flags(warehouse, "hubonly")
    assert [r[5] for r in rows] == ["reproduced", "confirmed"]  # eval-results with token, model-index verified
    assert all(r[0] and r[4] for r in rows)
    assert query(warehouse, "SELECT DISTINCT value FROM results WHERE model_id = 'org/hubonly'") == [(80.1,)]


def test_corroborated_within_tolerance(built):
    _, warehouse = built
    rows = flags(warehouse, "Twice")
    assert len(rows) == 2 and all(r[2] and r[4] and not r[3] for r in rows)
    assert all("corroborated by curated-table" in r[6] for r in rows)


def test_conflict_outside_tolerance_is_listed(built):
    _, warehouse = built
    rows = flags(warehouse, "Clash")
    assert len(rows) == 2 and all(r[3] and not r[4] for r in rows)
    conflicts = query(warehouse, "SELECT value, other_value, resolution FROM result_conflicts c "
                                 "JOIN models m USING (model_id) WHERE m.display_name = 'Clash'")
    assert len(conflicts) == 1 and conflicts[0][2] == "equal precedence: both flagged"


def test_paper_after_the_result_date_does_not_confirm(built):
    _, warehouse = built
    [row] = flags(warehouse, "Early")
    assert row[1] is False and row[4] is False and "after the result date" in row[6]


def test_a_result_without_a_date_is_dated_by_its_paper(built):
    _, warehouse = built
    [row] = flags(warehouse, "Undated")
    assert row[1] is True and row[4] is True and "which dates the result" in row[6]
    assert query(warehouse, "SELECT r.result_date::VARCHAR FROM results r JOIN models m USING (model_id) "
                            "WHERE m.display_name = 'Undated'") == [("2020-01-01",)]


def test_withdrawn_paper_does_not_confirm(built):
    _, warehouse = built
    [row] = flags(warehouse, "Gone")
    assert row[1] is False and "withdrawn" in row[6]


def test_verified_rank_ranks_verified_results_only(built):
    result, warehouse = built
    rows = dict(query(warehouse, "SELECT m.display_name, l.verified_rank FROM leaderboard l JOIN models m USING (model_id) "
                                 "WHERE l.benchmark_id = 'xnli' AND l.setting = 'translate-train-all'"))
    assert rows["Cited"] == 1 and rows["Twice"] == 2 and rows["Clash"] is None
    assert failed_checks(result) == []
