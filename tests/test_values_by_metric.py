"""Values judged by their metric: ranges from the unit, one scale per card or table column by
evidence, and benchmarks and models told apart by everything the source says."""

from __future__ import annotations

import json

import pytest
from pipeline_harness import build, query, write_curated


def row(model, value, metric, benchmark="Atari 2600 Pong", **extra):
    return {"model_name": model, "benchmark": benchmark, "task": "Atari Games", "metric": metric, "value": value,
            "result_date": "2020-01-01", **extra}


# MTEB-style model-index entries (values as in real MTEB cards: percentages, snake-case metric types).
# org/random-encoder writes its classification accuracy as a percentage (30.2) and its correlations
# within 1: which scale those are in cannot be told, so they stay unranked.
def hub(model, i, dataset_type, dataset_name, metric_type, value, config="default", task="STS"):
    return (f"('{model}/model-index/{i}', '{model}', 'model-index', '{task}', '{dataset_type}', '{dataset_name}', "
            f"'{config}', 'test', '{metric_type}', NULL, '{value}', false, NULL)")


HUB_ROWS = [
    hub("org/encoder-a", 0, "mteb/stsbenchmark-sts", "MTEB STSBenchmark", "cos_sim_spearman", "84.5"),
    hub("org/encoder-a", 1, "mteb/summeval", "MTEB SummEval", "cos_sim_spearman", "30.1", task="Summarization"),
    hub("org/encoder-a", 2, "mteb/summeval", "MTEB SummEvalSummarization.v2", "cos_sim_spearman", "31.5",
        task="Summarization"),
    hub("org/encoder-a", 3, "mteb/scifact", "MTEB SciFact", "ndcg_at_10", "72.3", task="Retrieval"),
    hub("org/encoder-b", 0, "mteb/stsbenchmark-sts", "MTEB STSBenchmark", "cos_sim_spearman", "0.812"),
    hub("org/encoder-b", 1, "mteb/scifact", "MTEB SciFact", "ndcg_at_10", "0.65", task="Retrieval"),
    hub("org/encoder-c", 0, "mteb/stsbenchmark-sts", "MTEB STSBenchmark", "cos_sim_spearman", "-1.0"),
    hub("org/encoder-c", 1, "mteb/stsbenchmark-sts", "MTEB STSBenchmark", "cos_sim_pearson", "-12.5"),
    hub("org/encoder-c", 2, "mteb/sickr-sts", "MTEB SICK-R", "cos_sim_spearman", "5.3"),
    hub("org/random-encoder", 0, "mteb/stsbenchmark-sts", "MTEB STSBenchmark", "cos_sim_spearman", "0.68"),
    hub("org/random-encoder", 1, "mteb/banking77", "MTEB Banking77Classification", "accuracy", "30.2",
        task="Classification"),
]
SEED = (
    "INSERT INTO raw.hub_model_files (source_file, requested_id, model_id, author, tags, arxiv_ids, gated, private, "
    "license, fetched_at) VALUES "
    + ", ".join(f"('hub/models/{m}.json', '{m}', '{m}', 'org', [], [], 'false', false, 'mit', now())"
                for m in ("org/encoder-a", "org/encoder-b", "org/encoder-c", "org/random-encoder"))
    + ";\nINSERT INTO raw.hub_eval_results (record_key, model_id, format, task_type, dataset_type, dataset_name, "
      "dataset_config, dataset_split, metric_type, metric_name, value_raw, verified, verify_token) VALUES "
    + ", ".join(HUB_ROWS) + ";"
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("values_by_metric")
    write_curated(tmp / "snap", [
        # game scores, Elo and log-likelihoods can be negative
        row("DQN", "-16.0", "Score"), row("A3C", "5.6", "Score"), row("Random", "-20.7", "Score"),
        row("M1", "-1.0", "Score", benchmark="Atari 2600 Boxing"),
        row("Flow", "-85.3", "Log-likelihood", benchmark="MNIST density", task="Density Estimation"),
        row("VAE", "-86.8", "Log-likelihood", benchmark="MNIST density", task="Density Estimation"),
        # a negative distance or a negative share is out of range; -1 a placeholder
        row("Bad", "-3", "Chamfer Distance", benchmark="ShapeNet", task="3D Reconstruction"),
        row("Neg", "-1", "Accuracy", benchmark="ShapeNet", task="3D Reconstruction"),
        # AUC written as a percentage in a table column: the column is put on the fraction scale
        row("CheXNet", "88.2", "AUC", benchmark="ChestX-ray14", task="Classification"),
        row("Other", "84.1", "AUC", benchmark="ChestX-ray14", task="Classification"),
        # a name with double quotes, written as the csv module writes it ("" inside a quoted field)
        row('Transformer "big" (2017)', "28.4", "BLEU", benchmark="WMT2014 English-German", task="Translation"),
    ])
    result, warehouse = build(tmp / "snap", tmp / "state", SEED)
    assert result.success
    return warehouse


def test_negative_scores_are_kept_and_ranked(warehouse):
    board = query(warehouse, "SELECT m.display_name, l.value, l.rank FROM leaderboard l JOIN models m USING (model_id) "
                             "WHERE l.benchmark_id LIKE 'atari-2600-pong%' AND l.metric = 'score' ORDER BY l.rank")
    assert board == [("A3C", 5.6, 1), ("DQN", -16.0, 2), ("Random", -20.7, 3)]
    assert query(warehouse, "SELECT value FROM results WHERE model_name_raw = 'M1'") == [(-1.0,)]
    lik = query(warehouse, "SELECT m.display_name FROM leaderboard l JOIN models m USING (model_id) "
                           "WHERE l.metric = 'log-likelihood' AND l.is_sota")
    assert lik == [("Flow",)]


def test_ranges_come_from_the_unit(warehouse):
    reasons = dict(query(warehouse, "SELECT r.value_raw, r.reason FROM result_rejects r WHERE r.source = 'curated-table'"))
    assert reasons == {"-3": "out of range: negative distance", "-1": "placeholder value: -1"}


def test_a_table_column_written_in_percent_is_put_on_the_fraction_scale(warehouse):
    values = dict(query(warehouse, "SELECT model_name_raw, value FROM results WHERE metric = 'auc'"))
    assert values == {"CheXNet": 0.882, "Other": 0.841}
    assert query(warehouse, "SELECT DISTINCT value_scale FROM results WHERE metric = 'auc'") \
        == [("percentages (the column's values exceed 1)",)]


def test_correlations_written_as_percentages_are_not_refused(warehouse):
    values = dict(query(warehouse, "SELECT model_id || ' ' || metric, value FROM results "
                                   "WHERE benchmark_id LIKE 'mteb-stsbenchmark-sts%'"))
    # -1.0 beside 5.3 on the same card is a percentage: a real value, not a placeholder
    assert values == {"org/encoder-a cos sim spearman": 0.845, "org/encoder-b cos sim spearman": 0.812,
                      "org/encoder-c cos sim spearman": -0.01, "org/encoder-c cos sim pearson": -0.125,
                      "org/random-encoder cos sim spearman": None}
    assert query(warehouse, "SELECT count(*) FROM result_rejects WHERE source LIKE 'hub-%'") == [(0,)]


def test_no_rank_one_is_put_there_by_a_scale_error(warehouse):
    sota = query(warehouse, "SELECT model_id, value, n_models FROM leaderboard "
                            "WHERE benchmark_id LIKE 'mteb-stsbenchmark-sts%' AND metric = 'cos sim spearman' AND is_sota")
    assert sota == [("org/encoder-a", 0.845, 3)]
    undecided = query(warehouse, "SELECT value_scale FROM results WHERE model_id = 'org/random-encoder' "
                                 "AND metric = 'cos sim spearman'")
    assert undecided[0][0].startswith("undecided")
    ndcg = query(warehouse, "SELECT model_id, value, direction_source FROM leaderboard WHERE metric = 'ndcg@10' ORDER BY rank")
    assert ndcg == [("org/encoder-a", 72.3, "registry"), ("org/encoder-b", 65.0, "registry")]


def test_two_tasks_on_one_hub_dataset_stay_two_benchmarks(warehouse):
    names = query(warehouse, "SELECT DISTINCT b.name FROM results r JOIN benchmarks b USING (benchmark_id) "
                             "WHERE r.model_id = 'org/encoder-a' AND b.name LIKE 'mteb/summeval%' ORDER BY 1")
    assert names == [("mteb/summeval (default)",), ("mteb/summeval / MTEB SummEvalSummarization.v2 (default)",)]


@pytest.fixture(scope="module")
def gigaword(tmp_path_factory):
    """Real rows of the Gigaword summarisation table (NLP-progress, ../shared/data/pwc; also in the
    bundled snapshot): ABS and ABS+ are two models of one paper."""
    tmp = tmp_path_factory.mktemp("identity")
    paper = {"paper_title": "A Neural Attention Model for Sentence Summarization", "paper_url": "",
             "paper_date": None, "code_links": []}
    rows = [dict(paper, model_name=name, metrics={"ROUGE-1": r1}) for name, r1 in (
        ("ABS (2015)", "29.55"), ("ABS+ (2015)", "29.76"), ("abs  (2015)", "29.55"), ("ABS† (2015)", "29.55"),
        ("ABS* (2015)", "29.7"))]
    tables = [{"task": "Text Summarization", "categories": [], "description": "", "subtasks": [], "synonyms": [],
               "source_link": None,
               "datasets": [{"dataset": "GigaWord", "description": "", "dataset_citations": [], "dataset_links": [],
                             "subdatasets": [], "sota": {"metrics": ["ROUGE-1"], "rows": rows}}]}]
    (tmp / "snap" / "tables").mkdir(parents=True)
    (tmp / "snap" / "tables" / "gigaword.json").write_text(json.dumps(tables))
    result, warehouse = build(tmp / "snap", tmp / "state")
    assert result.success
    return warehouse


def test_symbols_keep_models_apart_and_spellings_do_not(gigaword):
    models = dict(query(gigaword, "SELECT model_name_raw, model_id FROM results"))
    # "ABS" in other case and spacing, or with a footnote mark, is ABS; "ABS+" and "ABS*" are other models
    assert models["ABS (2015)"] == models["abs  (2015)"] == models["ABS† (2015)"]
    assert len({models["ABS (2015)"], models["ABS+ (2015)"], models["ABS* (2015)"]}) == 3
    assert models["ABS+ (2015)"].endswith("/abs-plus-2015")
    assert query(gigaword, "SELECT max(n_models) FROM leaderboard") == [(3,)]
    # the merge of spellings is recorded with its evidence
    assert query(gigaword, "SELECT reason FROM model_aliases WHERE alias = 'abs  (2015)'") \
        == [("spelling of one name (case, spacing, marks)",)]


def test_a_quoted_name_in_a_curated_csv_is_read_as_written(warehouse):
    assert query(warehouse, "SELECT model_name_raw, value FROM results WHERE metric = 'bleu'") \
        == [('Transformer "big" (2017)', 28.4)]
