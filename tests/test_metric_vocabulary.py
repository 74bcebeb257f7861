"""Metric directions read from a name's parts (warehouse/sql/metrics.sql, reference/metric_rules.csv),
checked on hand-labelled traps and on 1,226 real Papers with Code metric names labelled by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from warehouse import REFERENCE_DIR, sql

LABELLED = Path(__file__).parent / "data" / "metric_names_labelled.csv"


def classify(names: list[str]) -> dict[str, dict]:
    """Run the warehouse's own metrics.sql over `names` (as metric names of one table) and return,
    per raw name, the metrics row it normalises to."""
    con = duckdb.connect()
    try:
        con.execute("SET VARIABLE reference_dir = ?", [str(REFERENCE_DIR)])
        con.execute(sql("create_raw_schema"))
        con.execute(sql("create_macros"))
        con.executemany("INSERT INTO raw.table_results (source_file, source_format, record_key, metric_raw, dataset) "
                        "VALUES ('tables/t.json', 'pwc-json', ?, ?, 'D')", [[str(i), n] for i, n in enumerate(names)])
        con.execute(sql("metrics"))
        rows = con.execute("SELECT n.raw_name, m.direction, m.direction_source, m.kind, m.unit, m.unranked_reason "
                           "FROM metric_names AS n JOIN metrics AS m USING (metric) WHERE n.source = 'tables'").fetchall()
    finally:
        con.close()
    return {name: {"direction": d, "source": s, "kind": k, "unit": u, "reason": r} for name, d, s, k, u, r in rows}


DIRECTIONS = [
    # the examples
    ("nDCG@20", "higher"), ("Character Error Rate (CER)", "lower"), ("Cross Entropy Loss", "lower"),
    ("Insertion AUC score", "higher"), ("text-to-video Median Rank", "lower"), ("Speed (ms/f)", "lower"),
    ("vIoU@0.5", "higher"), ("min a-DCF", "lower"), ("SDR (drums)", "higher"), ("Percentage correct", "higher"),
    ("Percentage error", "lower"), ("Hits@20", "higher"),
    # an error behind a top-k prefix; a reduction of error; ranks
    ("Top-1 Error Rate", "lower"), ("Top 5 Error", "lower"), ("Top-1 Accuracy", "higher"),
    ("Error reduction", "higher"), ("Relative WER reduction", "higher"), ("Accuracy drop", "lower"),
    ("Median Rank", "lower"), ("Mean Rank", "lower"), ("MedR", "lower"), ("Mean Reciprocal Rank", "higher"),
    ("MRR@10", "higher"), ("Rank-1", "higher"), ("R@1", "higher"),
    # likelihoods and the like
    ("Negative log-likelihood", "lower"), ("NLL", "lower"), ("Log-likelihood", "higher"), ("Test perplexity", "lower"),
    ("bits/dim", "lower"), ("Bits per byte", "lower"),
    # names that hide their direction in an abbreviation, prefix or suffix
    ("mAP@0.5:0.95", "higher"), ("AP50", "higher"), ("APr", "higher"), ("PQst", "higher"), ("mDice", "higher"),
    ("minFDE6", "lower"), ("infNDCG", "higher"), ("SSNR", "higher"), ("FVD128", "lower"), ("ArtFID", "lower"),
    ("1 - LPIPS", "higher"), ("LPIPS", "lower"), ("FPR95", "lower"), ("TAR @ FAR=1e-4", "higher"),
    ("Recall @ 5% FPR", "higher"), ("Inference Time (ms)", "lower"), ("FPS", "higher"), ("ELO Rating", "higher"),
    ("Average Return", "higher"), ("Chamfer Distance", "lower"), ("EPE", "lower"), ("EER", "lower"),
    ("MAE", "lower"), ("RMSE", "lower"), ("PSNR (dB)", "higher"), ("SSIM", "higher"), ("CIDEr", "higher"),
    ("ROUGE-L", "higher"), ("pass@1", "higher"), ("Kendall's Tau", "higher"), ("1-of-100 Accuracy", "higher"),
    # the snake case of Hub metric types
    ("ndcg_at_10", "higher"), ("cos_sim_spearman", "higher"), ("v_measure", "higher"), ("max_ap", "higher"),
    ("map_at_1000", "higher"), ("recall_at_1", "higher"), ("euclidean_pearson", "higher"), ("main_score", "higher"),
    # spellings and the field's wider vocabulary
    ("F_measure (EA)", "higher"), ("MMDa (CV)", "lower"), ("REL", "lower"), ("Instruction Following", "higher"),
    ("Self-BLEU", "lower"), ("mATE", "lower"), ("Bad 2.0", "lower"), ("CRPS", "lower"), ("IQM", "higher"),
    ("TEDS-Struct", "higher"), ("R_1@100", "higher"), ("spearmanr", "higher"),
]
UNDECIDABLE = [
    ("Zorblax index", "no rule knows"),                   # a made-up name stays unranked
    ("PSNR Gap", "a gap or difference"),                  # which side of a gap is better is not in the name
    ("Accuracy difference", "a gap or difference"),
    ("Loss of accuracy", "rules disagree"),               # loss (lower) and accuracy (higher) at one priority
    ("AUC Stdev", "a spread"), ("accuracy_stderr", "a spread"), ("nauc_ndcg_at_10_diff1", "a spread or a diagnostic"),
    ("cos_sim_accuracy_threshold", "a model fact or setting"),   # a threshold is not a score
    ("20%", "no rule knows"), ("0L", "no rule knows"), ("Java", "no rule knows"),
]
FACTS = ["# Parameters", "Params", "GFLOPs", "MACs", "Model size", "Epochs", "Ext. data"]


@pytest.fixture(scope="module")
def verdicts() -> dict[str, dict]:
    """Every name of this module's cases, classified in one run of metrics.sql."""
    names = [n for n, _ in DIRECTIONS] + [n for n, _ in UNDECIDABLE] + FACTS + [
        "Accuracy", "Score", "Spearman", "Log-likelihood", "Chamfer Distance"]
    return classify(names)


@pytest.mark.parametrize("name, direction", DIRECTIONS)
def test_direction_read_from_the_name(verdicts, name, direction):
    got = verdicts[name]
    assert got["direction"] == direction
    assert got["source"] in ("registry", "name rule")


@pytest.mark.parametrize("name, reason_start", UNDECIDABLE)
def test_undecidable_names_stay_unranked_with_a_reason(verdicts, name, reason_start):
    got = verdicts[name]
    assert got["direction"] is None and got["source"] is None
    assert got["reason"].startswith(reason_start)


@pytest.mark.parametrize("name", FACTS)
def test_model_facts_are_facts_not_scores(verdicts, name):
    assert verdicts[name]["kind"] == "model_fact" and verdicts[name]["direction"] is None


def test_the_registry_wins_over_the_rules(verdicts):
    # "accuracy" is in reference/metrics.csv; "Top-1 Error Rate" only the rules know
    assert verdicts["Accuracy"]["source"] == "registry"
    assert verdicts["Top-1 Error Rate"]["source"] == "name rule"


def test_units_follow_the_measure(verdicts):
    assert {n: verdicts[n]["unit"] for n in ("Score", "Spearman", "Log-likelihood", "Chamfer Distance", "Accuracy")} \
        == {"Score": "score", "Spearman": "correlation", "Log-likelihood": "score",
            "Chamfer Distance": "distance", "Accuracy": "percent"}


def test_labelled_real_names_are_ranked_the_right_way():
    """1,226 real Papers with Code metric names (tests/data/metric_names_labelled.csv: the names of
    ../shared/data/pwc/metric_names.csv, each labelled by hand higher, lower, fact or unknown). Of
    those whose direction a researcher knows, at least 88% are ranked the right way and at most 1%
    the wrong way; a name labelled fact or unknown is ranked at most 1% of the time."""
    with open(LABELLED, newline="") as handle:
        labels = {row["name"]: row["direction"] for row in csv.DictReader(handle)}
    got = classify(list(labels))
    known = [n for n, d in labels.items() if d in ("higher", "lower")]
    right = sum(got[n]["direction"] == labels[n] for n in known)
    wrong = sum(got[n]["direction"] not in (None, labels[n]) for n in known)
    others = [n for n, d in labels.items() if d not in ("higher", "lower")]
    ranked_others = sum(got[n]["direction"] is not None for n in others)
    assert len(known) > 1000
    assert right / len(known) >= 0.88, f"{right} of {len(known)} right"
    assert wrong / len(known) <= 0.01, f"{wrong} of {len(known)} wrong"
    assert ranked_others / len(others) <= 0.06, f"{ranked_others} of {len(others)} facts or unknowns ranked"
