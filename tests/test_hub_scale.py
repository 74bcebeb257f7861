"""Hub cards write percent metrics as fractions or as percentages; both land on the 0-100 scale."""

from __future__ import annotations

import pytest
from pipeline_harness import build, query

SEED = """
INSERT INTO raw.hub_model_files (source_file, requested_id, model_id, author, tags, arxiv_ids, gated, private,
                                 license, fetched_at)
VALUES ('hub/models/org/fractions.json', 'org/fractions', 'org/fractions', 'org', [], [], 'false', false, 'mit', now()),
       ('hub/models/org/percents.json', 'org/percents', 'org/percents', 'org', [], [], 'false', false, 'mit', now()),
       ('hub/models/org/squad.json', 'org/squad', 'org/squad', 'org', [], [], 'false', false, 'mit', now());
INSERT INTO raw.hub_eval_results (record_key, model_id, format, task_type, dataset_type, dataset_name,
                                  dataset_split, metric_type, metric_name, value_raw, verified, verify_token)
VALUES ('org/fractions/model-index/0', 'org/fractions', 'model-index', 'text-classification', 'glue', 'GLUE SST-2',
        'validation', 'accuracy', 'Accuracy', '0.9438', false, NULL),
       ('org/fractions/model-index/1', 'org/fractions', 'model-index', 'text-classification', 'imdb', 'IMDB',
        'test', 'accuracy', 'Accuracy', '0.5', false, NULL),
       ('org/percents/model-index/0', 'org/percents', 'model-index', 'text-classification', 'glue', 'GLUE SST-2',
        'validation', 'accuracy', 'Accuracy', '92.7', false, NULL),
       ('org/percents/model-index/1', 'org/percents', 'model-index', 'text-classification', 'imdb', 'IMDB',
        'test', 'accuracy', 'Accuracy', '0.9', false, NULL),
       ('org/percents/model-index/2', 'org/percents', 'model-index', 'text-classification', 'imdb', 'IMDB',
        'test', 'f1', 'F1', '**79.8**+/-0.2', false, NULL),
       ('org/squad/model-index/0', 'org/squad', 'model-index', 'question-answering', 'squad', 'SQuAD',
        'validation', 'exact_match', 'Exact Match', '0.9', false, NULL);
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub_scale")
    (tmp / "snap").mkdir()
    result, warehouse = build(tmp / "snap", tmp / "state", SEED)
    assert result.success
    return warehouse


def values(warehouse, model_id):
    return dict(query(warehouse, "SELECT record_key.split('/')[-1] || ':' || metric, value FROM results "
                                 "WHERE model_id = ? ORDER BY 1", [model_id]))


def test_a_card_of_fractions_is_scaled_to_percent(warehouse):
    assert values(warehouse, "org/fractions") == {"0:accuracy": 94.38, "1:accuracy": 50.0}


def test_a_card_of_percentages_is_kept_as_written(warehouse):
    # 0.9 sits beside 92.7 in the same card: the card writes percentages, so it means 0.9 %.
    assert values(warehouse, "org/percents") == {"0:accuracy": 92.7, "1:accuracy": 0.9, "2:f1": 79.8}
    spread = query(warehouse, "SELECT spread FROM results WHERE model_id = 'org/percents' AND metric = 'f1'")
    assert spread == [(0.2,)]


def test_a_metric_the_hub_reports_in_percent_is_never_scaled(warehouse):
    assert values(warehouse, "org/squad") == {"0:exact match": 0.9}
