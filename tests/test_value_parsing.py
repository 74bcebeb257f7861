"""Value text nobody tuned for: invisible characters, notes after a value, numbers a double cannot
hold; and quarantine payloads an analyst can act on (which model, benchmark, metric, value, file)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import parse
from pipeline_harness import build, failed_checks, query, write_curated

from assets.sources.hub.cards import (
    EvalParse,
    check_value,
    load_front_matter_yaml,
    parse_model_index,
    split_card,
)
from assets.sources.ingest_log import EXCERPT_CHARS, failure_payload
from pipelines.settings import BUNDLED_SNAPSHOT

DATA = Path(__file__).parent / "data"




@pytest.mark.parametrize("text, value, spread, percent", [
    ("\ufeff93.3", 93.3, None, False),                  # byte order mark before the value
    ("93.3\ufeff", 93.3, None, False),
    ("9\u200b3.3", 93.3, None, False),                  # zero-width space inside
    ("\u200c\u200d93.3\u2060", 93.3, None, False),      # zero-width non-joiner, joiner, word joiner
    ("\u00a093.3\u00a0", 93.3, None, False),            # no-break spaces around
    ("93.3\u00a0%", 93.3, None, True),
    ("0.7482\u202f±\u00a00.0015", 0.7482, 0.0015, False),
    ("**\ufeff70.3**", 70.3, None, False),
])
def test_invisible_characters_and_no_break_spaces(macros, text, value, spread, percent):
    parsed = parse(macros, text)
    assert parsed["reason"] is None, parsed
    assert parsed["value"] == pytest.approx(value) and parsed["percent_sign"] is percent
    assert parsed["spread"] == (None if spread is None else pytest.approx(spread))
    assert parsed["note"] is None


@pytest.mark.parametrize("text, value, spread, note", [
    ("70.14 (measured by Ge et al., 2018)", 70.14, None, "measured by Ge et al., 2018"),   # nlp-progress.json
    ("17.1(16.1 with basic dynamic evaluation)", 17.1, None, "16.1 with basic dynamic evaluation"),
    ("88.2 [reported]", 88.2, None, "reported"),
    ("0.14 [0.14, 0.15]", 0.14, None, "0.14, 0.15"),                                   # jat-project/jat card
    ("**79.8** (dev_set)", 79.8, None, "dev_set"),                                    # the note keeps its underscores
    ("**79.8 (dev)**", 79.8, None, "dev"),
    ("85.1 ± 0.3 (5 seeds)", 85.1, 0.3, "5 seeds"),
    ("\ufeff83.6% [ours]", 83.6, None, "ours"),
])
def test_a_note_after_the_value_is_kept_beside_it(macros, text, value, spread, note):
    parsed = parse(macros, text)
    assert parsed["reason"] is None, parsed
    assert parsed["value"] == pytest.approx(value) and parsed["note"] == note
    assert parsed["spread"] == (None if spread is None else pytest.approx(spread))


@pytest.mark.parametrize("text, reason", [
    ("1e400", "number out of range: 1e400 is too large for a double"),
    ("-1e400", "number out of range: -1e400 is too large for a double"),
    ("1" + "0" * 400, "number out of range: " + "1" + "0" * 79 + " is too large for a double"),
    ("1e-400", "number out of range: 1e-400 is too small for a double (not zero)"),
    ("0.5e-330", "number out of range: 0.5e-330 is too small for a double (not zero)"),
    ("1e-400 (tiny)", "number out of range: 1e-400 is too small for a double (not zero)"),
    # still not values, with or without invisible characters or a note
    ("-", "not a value: -"), ("\ufeff-", "not a value: -"), ("n/a", "not a value: n/a"), ("", "empty value"),
    ("\u200b", "empty value"), ("\u00a0", "empty value"), ("- (not reported)", "not a value: - (not reported)"),
    ("(80.1)", "unparsable value: (80.1)"), ("see paper (p. 3)", "unparsable value: see paper (p. 3)"),
])
def test_numbers_a_double_cannot_hold_and_non_values_are_refused(macros, text, reason):
    parsed = parse(macros, text)
    assert parsed["value"] is None and parsed["reason"] == reason


@pytest.mark.parametrize("text, value", [("0", 0.0), ("0.000", 0.0), ("0e-5", 0.0), ("-0.0", 0.0), ("1e-310", 1e-310),
                                         ("1.7e308", 1.7e308)])
def test_zero_and_the_double_extremes_are_values(macros, text, value):
    parsed = parse(macros, text)
    assert parsed["reason"] is None and parsed["value"] == value


def test_sizes_ignore_invisible_characters(macros):
    assert macros.execute("SELECT parse_count(?)", ["\ufeff355M\u00a0params"]).fetchall()[0][0] == 355_000_000


@pytest.mark.parametrize("value, reason", [
    ("\ufeff93.3", None), ("9\u200b3.3", None), ("93.3\u00a0%", None), ("70.14 (measured by X)", None),
    ("88.2 [reported]", None), ("0.14 [0.14, 0.15]", None), ("**79.8**+/-0.2", None),
    ("- (n/a)", "not a value"), ("\ufeffN/A", "not a value"), ("\u200b", "empty value"),
    ("(80.1)", "unparsable value"), ("XX.X [todo]", "placeholder value"),
])
def test_hub_values_pass_the_same_forms_to_core(value, reason):
    raw, got = check_value(value)
    assert raw == value and (got.split(":")[0] if got else None) == reason


def test_hub_numbers_a_double_cannot_hold_are_refused_as_written():
    # as the YAML front matter and a model info JSON file give them: numbers keeping their text
    yaml_values = load_front_matter_yaml("v: [1.0e+400, -1.0e+400, 1.0e-400, 0.0, .inf]")["v"]
    assert [check_value(v) for v in yaml_values] == [
        ("1.0e+400", "number out of range: 1.0e+400 is too large for a double"),
        ("-1.0e+400", "number out of range: -1.0e+400 is too large for a double"),
        ("1.0e-400", "number out of range: 1.0e-400 is too small for a double (not zero)"),
        ("0.0", None),
        (".inf", "not a value: .inf"),
    ]


def test_failure_payload_is_bounded_json_without_empty_fields():
    long = "x" * 5000
    payload = json.loads(failure_payload(file="tables/a.json", id=None, excerpt=long, row=3,
                                         metric={"type": "accuracy", "value": 0.5}, big={"k": long},
                                         bad=float("inf")))
    assert payload["file"] == "tables/a.json" and "id" not in payload and payload["row"] == 3
    assert payload["excerpt"] == "x" * EXCERPT_CHARS
    assert payload["metric"] == {"type": "accuracy", "value": 0.5}           # short: stays a mapping
    assert isinstance(payload["big"], str) and len(payload["big"]) == EXCERPT_CHARS
    assert payload["bad"] == "inf"


def test_refused_hub_values_name_model_dataset_metric_and_value():
    model_index = [{"name": "m", "results": [{
        "task": {"type": "text-classification", "name": "Text Classification"},
        "dataset": {"type": "glue", "name": "GLUE", "config": "sst2", "split": "validation"},
        "metrics": [{"type": "accuracy", "name": "Accuracy", "value": "-"}, {"type": "f1",
                                                                                "value": load_front_matter_yaml("v: 1.0e+400")["v"]}],
    }]}]
    out = EvalParse()
    parse_model_index("org/m", model_index, out, "hub/cards/org/m/README.md")
    (key, reason, payload), (_, reason_2, payload_2) = out.failures
    assert (key, reason) == ("org/m/model-index/0.0.0", "not a value: '-'")
    assert json.loads(payload) == {
        "file": "hub/cards/org/m/README.md", "model_id": "org/m", "format": "model-index",
        "task_type": "text-classification", "task_name": "Text Classification", "dataset_type": "glue",
        "dataset_name": "GLUE", "dataset_config": "sst2", "dataset_split": "validation",
        "metric_type": "accuracy", "metric_name": "Accuracy", "value": "-"}
    assert reason_2.startswith("number out of range") and json.loads(payload_2)["metric_type"] == "f1"


# --- through the pipeline -------------------------------------------------------------------------

# A Papers with Code evaluation-tables file of the real shape whose cells carry what hand-typed tables carry.
INVISIBLE_TABLE = [{
    "task": "Sentiment Analysis", "categories": ["Natural Language Processing"], "description": "", "subtasks": [],
    "datasets": [{
        "dataset": "SST-2 Binary classification", "dataset_citations": [], "dataset_links": [], "description": "",
        "subdatasets": [],
        "sota": {"metrics": ["Accuracy"], "rows": [
            {"model_name": name, "metrics": {"Accuracy": value}, "paper_title": "", "paper_url": "",
             "paper_date": "2020-01-01", "uses_additional_data": False, "code_links": [], "model_links": []}
            for name, value in [("Bom", "\ufeff93.3"), ("ZeroWidth", "9\u200b1.0"), ("NoBreak", "90.5\u00a0%"),
                                ("Noted", "88.2 [reported]"), ("Huge", "1e400"), ("Tiny", "1e-400"),
                                ("Dash", "\u2060-")]
        ] + ["a row that is not an object"]},
    }],
}]

MODEL_INDEX_CARD = """---
language: en
license: mit
model-index:
- name: xlm-roberta-large
  results:
  - task:
      type: text-classification
      name: Text Classification
    dataset:
      type: glue
      name: GLUE
      config: sst2
      split: validation
    metrics:
    - type: accuracy
      name: Accuracy
      value: "-"
    - type: f1
      name: F1
      value: "\\ufeff93.3 (reported)"
    - type: precision
      name: Precision
      value: "1e-400"
---

A card written for this test.
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("value_parsing")
    snap = tmp / "snap"
    (snap / "tables").mkdir(parents=True)
    shutil.copy(DATA / "tables" / "nlp-progress-excerpt.json", snap / "tables" / "nlp-progress-excerpt.json")
    (snap / "tables" / "invisible.json").write_text(json.dumps(INVISIBLE_TABLE), encoding="utf-8")
    model_file = snap / "hub" / "models" / "FacebookAI" / "xlm-roberta-large.json"
    model_file.parent.mkdir(parents=True)
    shutil.copy(BUNDLED_SNAPSHOT / "hub" / "models" / "FacebookAI" / "xlm-roberta-large.json", model_file)
    card = snap / "hub" / "cards" / "FacebookAI" / "xlm-roberta-large" / "README.md"
    card.parent.mkdir(parents=True)
    card.write_text(MODEL_INDEX_CARD, encoding="utf-8")
    (snap / "tables" / "cut_short.json").write_text('[{"task": "T", "datasets": [{"dataset": "D", "sota"')
    write_curated(snap, [{"model_name": "", "benchmark": "Toy", "metric": "accuracy", "value": "1"}], name="nameless.csv")
    result, warehouse = build(snap, tmp / "state", ingest_hub=True)
    assert result.success
    return result, warehouse


def test_checks_pass_and_every_cell_reconciles(built):
    result, warehouse = built
    assert failed_checks(result) == []
    assert query(warehouse, "SELECT bool_and(reconciles) FROM table_reconciliation") == [(True,)]


def test_table_values_with_invisible_characters_and_notes_load(built):
    _, warehouse = built
    rows = query(warehouse, "SELECT model_name_raw, value, value_note FROM results "
                            "WHERE source_file = 'tables/invisible.json' ORDER BY model_name_raw")
    assert rows == [("Bom", 93.3, None), ("NoBreak", 90.5, None), ("Noted", 88.2, "reported"),
                    ("ZeroWidth", 91.0, None)]
    noted = query(warehouse, "SELECT value, value_note, raw_value FROM results WHERE model_name_raw = 'CNN Seq2Seq (2018)'")
    assert noted == [(70.14, "measured by Ge et al., 2018", "70.14 (measured by Ge et al., 2018)")]


def test_numbers_a_double_cannot_hold_are_quarantined_not_zero_or_infinite(built):
    _, warehouse = built
    reasons = dict(query(warehouse, "SELECT json_extract_string(payload, '$.model'), reason FROM quarantine "
                                    "WHERE source = 'pwc-table' AND record_key LIKE 'tables/invisible.json|%'"))
    assert reasons == {"Huge": "number out of range: 1e400 is too large for a double",
                       "Tiny": "number out of range: 1e-400 is too small for a double (not zero)",
                       "Dash": "not a value: -"}
    assert query(warehouse, "SELECT count(*) FROM results WHERE NOT isfinite(value) OR "
                            "(value = 0 AND regexp_matches(raw_value, '[1-9]'))") == [(0,)]


def test_a_dash_cell_is_quarantined_with_its_model_benchmark_metric_and_file(built):
    _, warehouse = built
    rows = query(warehouse, "SELECT q.source, q.reason, q.payload FROM quarantine AS q "
                            "WHERE json_extract_string(q.payload, '$.model') = 'BERT Base (2018)'")
    assert len(rows) == 1
    source, reason, payload = rows[0]
    assert source == "pwc-table" and reason
    assert json.loads(payload) == {
        "source_file": "tables/nlp-progress-excerpt.json", "model": "BERT Base (2018)", "model_id": None,
        "task": "Common Sense", "dataset": "SWAG", "subdataset": None, "metric": "Test", "split": None,
        "setting": "", "row": 1, "paper": "https://arxiv.org/abs/1810.04805", "value": "-"}


def test_hub_card_values_refused_at_ingest_and_in_core_name_what_they_are(built):
    _, warehouse = built
    rows = {key: (source, reason, json.loads(payload)) for source, key, reason, payload in query(
        warehouse, "SELECT source, record_key, reason, payload FROM quarantine "
                   "WHERE record_key LIKE 'FacebookAI/xlm-roberta-large/model-index/%'")}
    named = {"model_id": "FacebookAI/xlm-roberta-large", "format": "model-index", "task_type": "text-classification",
             "task_name": "Text Classification", "dataset_type": "glue", "dataset_name": "GLUE",
             "dataset_config": "sst2", "dataset_split": "validation"}
    dash = rows["FacebookAI/xlm-roberta-large/model-index/0.0.0"]
    assert dash[:2] == ("hub-cards", "not a value: '-'")
    assert dash[2] == {**named, "file": "hub/cards/FacebookAI/xlm-roberta-large/README.md",
                       "metric_type": "accuracy", "metric_name": "Accuracy", "value": "-"}
    tiny = rows["FacebookAI/xlm-roberta-large/model-index/0.0.2"]
    assert tiny[:2] == ("hub-model-index", "number out of range: 1e-400 is too small for a double (not zero)")
    assert tiny[2] == {**named, "metric_type": "precision", "metric_name": "Precision", "value": "1e-400"}
    assert query(warehouse, "SELECT value, value_note FROM results WHERE model_id = 'FacebookAI/xlm-roberta-large' "
                            "AND metric_raw = 'f1'") == [(93.3, "reported")]


def test_every_quarantine_payload_is_json(built):
    _, warehouse = built
    assert query(warehouse, "SELECT count(*) FROM quarantine WHERE payload IS NULL OR NOT json_valid(payload)") \
        == [(0,)]


def test_real_card_values_with_a_bracketed_interval_load(real_data, macros):
    """jat-project/jat writes five of its values as `0.14 [0.14, 0.15]` (value, then its interval)."""
    front, _ = split_card((real_data / "hub" / "cards" / "jat-project_jat.md").read_text())
    out = EvalParse()
    parse_model_index("jat-project/jat", load_front_matter_yaml(front)["model-index"], out)
    assert out.failures == [] and len(out.rows) == 376
    bracketed = [row["value_raw"] for row in out.rows if "[" in row["value_raw"]]
    assert len(bracketed) == 5
    parsed = [parse(macros, value) for value in bracketed]
    assert all(p["reason"] is None and p["note"] for p in parsed)
    assert (parsed[0]["value"], parsed[0]["note"]) == (0.14, "0.14, 0.15")


def test_refused_table_files_and_rows_name_file_place_and_excerpt(built):
    _, warehouse = built
    payloads = {key: json.loads(payload) for key, payload in query(
        warehouse, "SELECT record_key, payload FROM quarantine WHERE source = 'tables'")}
    assert payloads["tables/cut_short.json"] == {
        "file": "tables/cut_short.json", "excerpt": '[{"task": "T", "datasets": [{"dataset": "D", "sota"'}
    assert payloads["tables/nameless.csv|0"] == {
        "file": "tables/nameless.csv", "row": 0,
        "excerpt": json.dumps({"model_id": None, "model_name": None, "benchmark": "Toy", "task": None, "area": None,
                               "metric": "accuracy", "value": "1", "split": None, "setting": None, "paper_url": None,
                               "paper_title": None, "result_date": None, "source_url": None,
                               "uses_additional_data": None, "row_index": 0}, separators=(",", ":"))}
    (row_key,) = [key for key in payloads if key.startswith("tables/invisible.json|")]
    assert payloads[row_key] == {"file": "tables/invisible.json", "task": "Sentiment Analysis",
                                 "dataset": "SST-2 Binary classification", "row": 7,
                                 "excerpt": '"a row that is not an object"'}
