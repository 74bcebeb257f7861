"""Benchmark tables: every real Papers with Code file of tests/data/shared/pwc, value parsing, metric registry."""

from __future__ import annotations

import math
import shutil

import duckdb
import pytest
from conftest import parse
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_harness import build, failed_checks, query, write_curated

from assets import tables
from warehouse import sql
from warehouse.database import WarehouseResource


@pytest.mark.parametrize("text, value, spread, percent", [
    ("83.6", 83.6, None, False),
    ("83.6%", 83.6, None, True),
    ("**70.3**", 70.3, None, False),
    ("**79.8**+/-0.2", 79.8, 0.2, False),
    ("0.7482 ± 0.0015", 0.7482, 0.0015, False),
    ("88.1 +/- 0.3", 88.1, 0.3, False),
    ("1,234.5", 1234.5, None, False),
    ("0,912", 0.912, None, False),
    (" 91.2 ", 91.2, None, False),
    ("1e-3", 0.001, None, False),
])
def test_value_forms(macros, text, value, spread, percent):
    parsed = parse(macros, text)
    assert parsed["reason"] is None
    assert parsed["value"] == pytest.approx(value) and parsed["percent_sign"] is percent
    assert parsed["spread"] == (None if spread is None else pytest.approx(spread))


@pytest.mark.parametrize("text, reason", [
    ("-", "not a value: -"), ("--", "not a value: --"), ("", "empty value"), (None, "empty value"),
    ("Please tell us", "not a value: Please tell us"), ("N/A", "not a value: N/A"), ("nan", "not a value: nan"),
    ("93.0/90.7", "unparsable value: 93.0/90.7"), ("Yes", "unparsable value: Yes"),
])
def test_non_values_have_reasons(macros, text, reason):
    parsed = parse(macros, text)
    assert parsed["value"] is None and parsed["reason"] == reason


@pytest.mark.parametrize("text, count", [("24M", 24_000_000), ("1.3B", 1_300_000_000), ("355M params", 355_000_000),
                                         ("110,000,000", 110_000_000), ("", None), ("unknown", None)])
def test_sizes_are_counts(macros, text, count):
    assert macros.execute("SELECT parse_count(?)", [text]).fetchall()[0][0] == count


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
       st.sampled_from(["{}", "{}%", "**{}**", " {} ", "{} ± 0.5"]))
def test_a_written_number_parses_to_itself(macros, number, template):
    text = template.format(repr(number))
    parsed = parse(macros, text)
    assert parsed["value"] == number or math.isclose(parsed["value"], number, rel_tol=1e-15)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_any_text_either_parses_to_a_float_it_contains_or_gives_a_reason(macros, text):
    parsed = parse(macros, text)
    if parsed["value"] is None:
        assert parsed["reason"]
    else:
        assert parsed["reason"] is None
        digits = "".join(ch for ch in text if ch.isdigit())
        assert digits, f"{text!r} became {parsed['value']} from no digits"


@pytest.fixture(scope="module")
def real_tables(tmp_path_factory, real_data):
    tmp = tmp_path_factory.mktemp("real_tables")
    shutil.copytree(real_data / "pwc", tmp / "snap" / "tables")
    write_curated(tmp / "snap", [{"model_name": "", "benchmark": "X", "metric": "accuracy", "value": "1"}],
                  name="broken_rows.csv")
    (tmp / "snap" / "tables" / "not_json.json").write_bytes(b"\xff\xfe{not json")
    # the Hub archive's shape: the same tasks as Parquet rows, nested lists as structs
    # (DuckDB 1.5 binds no parameter for COPY's target: a literal)
    duckdb.execute(f"COPY (SELECT * FROM read_json(?, maximum_object_size = 100000000)) "
                   f"TO '{tmp / 'snap' / 'tables' / 'archive.parquet'}'", [str(real_data / "pwc" / "nlp-progress.json")])
    result, warehouse = build(tmp / "snap", tmp / "state")
    return result, warehouse


def test_every_real_file_loads_and_reconciles(real_tables, real_data):
    result, warehouse = real_tables
    assert result.success and failed_checks(result) == []
    files = {row[0] for row in query(warehouse, "SELECT source_file FROM table_reconciliation")}
    expected = {f"tables/{p.name}" for p in (real_data / "pwc").glob("*.json")} - {"tables/example_json_format.json"}
    assert expected <= files
    assert query(warehouse, "SELECT count(*) FROM table_reconciliation WHERE NOT reconciles") == [(0,)]
    cells = query(warehouse, "SELECT sum(cells), sum(results) + sum(quarantined) + sum(facts) FROM table_reconciliation")
    assert cells[0][0] == cells[0][1] > 3000


def test_bad_files_are_reported_with_path_and_reason(real_tables):
    _, warehouse = real_tables
    reasons = dict(query(warehouse, "SELECT record_key, reason FROM quarantine WHERE source = 'tables'"))
    assert reasons["tables/example_json_format.json"].startswith("not the evaluation-tables shape")
    assert reasons["tables/not_json.json"] == "not UTF-8 text"
    assert reasons["tables/broken_rows.csv|0"].startswith("curated row without model_name")


@pytest.mark.parametrize("benchmark, metric, split, sota, value, n", [
    # checked by hand in tests/data/shared/pwc: best value per distinct (model name, paper), names that
    # differ only in case, spacing or braces counted once (SQuAD 2.0: 190 names with an F1, 4 such pairs)
    ("squad-v2", "f1", "", "FPNet (ensemble)", 93.183, 186),
    # (SQuAD 1.1: 165; "r-net" and "r-net+", "BiDAF" and "BiDAF++" and nine more pairs are distinct models)
    ("squad-v1.1", "exact match", "", "LUKE (single model)", 90.202, 165),
    ("snli", "accuracy", "test", "MT-DNN", 91.1, 64),
    ("conll-2003", "f1", "", "CNN Large + fine-tune (2019)", 93.5, 20),
    # (16: Compressive Transformer's "17.1(16.1 with basic dynamic evaluation)" is 17.1 with a note)
    ("wikitext-103", "perplexity", "test", "Routing Transformer (2020)", 15.8, 16),
])
def test_state_of_the_art_checked_by_hand(real_tables, benchmark, metric, split, sota, value, n):
    _, warehouse = real_tables
    rows = query(warehouse, "SELECT m.display_name, l.value, l.n_models FROM leaderboard l JOIN models m USING (model_id) "
                            "WHERE l.benchmark_id = ? AND l.metric = ? AND l.split = ? AND l.is_sota",
                 [benchmark, metric, split])
    assert rows == [(sota, value, n)]


def test_fraction_metrics_stay_fractions_and_sizes_are_facts(real_tables):
    _, warehouse = real_tables
    assert query(warehouse, "SELECT DISTINCT unit FROM results WHERE metric = 'answer exact match'") == [("fraction",)]
    assert query(warehouse, "SELECT max(value) <= 1 FROM results WHERE metric = 'answer exact match'") == [(True,)]
    assert query(warehouse, "SELECT count(*) FROM results WHERE metric = 'parameters'") == [(0,)]
    assert query(warehouse, "SELECT count(*) > 0 FROM model_facts WHERE fact = 'parameters' AND value > 1000000") == [(True,)]


def test_unknown_metrics_are_reported_not_ranked(real_tables):
    _, warehouse = real_tables
    unknown = dict(query(warehouse, "SELECT metric, reason FROM unknown_metrics"))
    # a name that says nothing of a measure stays unranked, with why
    assert unknown["area"] == "no rule knows this name"
    # what the name rules read is ranked, and says so
    assert query(warehouse, "SELECT direction, direction_source FROM metrics WHERE metric = 'p@5'") \
        == [("higher", "name rule")]
    assert query(warehouse, "SELECT count(*) FROM leaderboard WHERE metric IN (SELECT metric FROM unknown_metrics)") \
        == [(0,)]


def test_archive_parquet_gives_the_same_cells_as_its_json(real_tables):
    _, warehouse = real_tables
    rows = query(warehouse, "SELECT source_file, cells, results, quarantined, facts FROM table_reconciliation "
                            "WHERE source_file IN ('tables/archive.parquet', 'tables/nlp-progress.json') ORDER BY 1")
    assert len(rows) == 2 and rows[0][1:] == rows[1][1:]
    assert query(warehouse, "SELECT DISTINCT source_format FROM raw.table_results "
                            "WHERE source_file = 'tables/archive.parquet'") == [("pwc-parquet",)]


# Every shape the JSON walk handles inside a file that DuckDB's typed reader also takes: rows that
# are null, strings or numbers, a metric named twice, metrics as a JSON string or a list, subdatasets
# (named and not) and subtasks nested twice, a subtask list kept as a JSON string, a dataset that is
# null, an object or a number, null and empty row lists, names with escapes.
EDGE_TASKS = r"""[
 {"task": "Parent", "categories": ["Computer Vision"], "datasets": [
   {"dataset": "D1", "sota": {"rows": [null,
      {"model_name": "A", "metrics": {"Acc": "1.50", "F1": null, "Acc": "1.2"}, "paper_date": "2020-01-01",
       "uses_additional_data": "true"},
      "just a string", 5,
      {"model_name": " ", "paper_title": "Title \u00e9", "metrics": "{\"Acc\": 3}",
       "paper_url": " https://arxiv.org/abs/2001.00001v2 "}]},
    "subdatasets": [{"dataset": "Sub", "sota": {"rows": [{"model_name": "B", "metrics": {"Acc": 2}}]},
                     "subdatasets": [{"sota": {"rows": [{"model_name": "C", "metrics": {"Acc": 3.0e2}}]}}]},
                    {"sota": {"rows": [{"model_name": "D", "metrics": [1, 2]}]}}]},
   null,
   {"dataset": {"weird": 1}, "sota": {"rows": [{"model_name": "E", "metrics": {"x": true}}]}},
   {"dataset": 7, "sota": null},
   {"dataset": "NoSota"}],
  "subtasks": [{"task": "Child", "datasets": [{"dataset": "D2", "sota": {"rows": [{"model_name": "F", "metrics": {"Acc": "9"}}]}}],
                "subtasks": [{"task": "Grandchild", "categories": null,
                              "datasets": [{"dataset": "D3", "sota": {"rows": [{"model_name": "G", "metrics": {"Acc": 1}}]}}]}]},
               {"datasets": [{"dataset": "D4", "sota": {"rows": [{"model_name": "H", "metrics": {"Acc": 1}}]}}]}]},
 {"task": 12, "categories": [], "datasets": [], "subtasks": []},
 {"task": "Empty"},
 {"task": "StrSub", "subtasks": "[{\"task\": \"S\", \"datasets\": [{\"dataset\": \"D5\", \"sota\": {\"rows\": [{\"model_name\": \"I\", \"metrics\": {\"Acc\": 1}}]}}]}]"},
 {"task": "NullRows", "datasets": [{"dataset": "D6", "sota": {"rows": null}}, {"dataset": "D7", "sota": {"rows": []}}]}
]"""


def flatten_table_json(path, by_shape):
    """raw.table_results and the refusals of one JSON table file, read by DuckDB's typed reader
    (by_shape) or walked as JSON."""
    con = duckdb.connect()
    con.execute(sql("create_raw_schema"))
    con.execute(sql("create_macros"))
    WarehouseResource.run_sql(con, "create_table_docs")
    if by_shape:
        assert tables._read_table_json_by_shape(con, WarehouseResource, path)
    tables._load_table_file(con, WarehouseResource, path, path.parent.parent, read_by_shape=by_shape,
                            data=path.read_bytes())
    return (con.execute("FROM raw.table_results ORDER BY record_key").fetchall(),
            con.execute("FROM table_file_refusals ORDER BY ALL").fetchall())


@pytest.mark.parametrize("name", ["edge.json", "nlp-progress.json", "squad.json", "redditsota.json", "chexpert.json"])
def test_typed_reading_gives_the_cells_of_the_json_walk(tmp_path, real_data, name):
    path = tmp_path / "tables" / name
    path.parent.mkdir()
    if name == "edge.json":
        path.write_text(EDGE_TASKS)
    else:
        shutil.copy(real_data / "pwc" / name, path)
    typed, walked = flatten_table_json(path, True), flatten_table_json(path, False)
    assert typed == walked and len(typed[0]) > 0
    if name == "edge.json":
        cells = {row[0].split("|", 1)[1]: (row[9], row[12]) for row in typed[0]}
        assert cells["Parent|D1|0:0|1|Acc"] == ("A", "1.2")  # the lowest of a metric given twice
        assert cells["Parent|D1|0:0.0.0|0|Acc"] == ("C", "300.0")
        assert cells["Parent > Child > Grandchild|D3|0.0.0:0|0|Acc"] == ("G", "1")
        assert cells["StrSub > S|D5|3.0:0|0|Acc"] == ("I", "1")
        assert [reason for _, reason, _ in typed[1]] == [
            "metrics is not an object: ARRAY", "table row is not an object: NULL",
            "table row is not an object: VARCHAR", "table row is not an object: UBIGINT"]


@pytest.mark.parametrize("text", [
    '[{"task": "T", "datasets": [{"dataset": "D", "sota": {"rows": "[{\\"model_name\\": \\"J\\"}]"}}]}]',
    '[{"task": "T", "task": "U", "datasets": []}]',
    '[{"task": "T", "datasets": []},]',
    '[{"task": "T", "datasets": [{"dataset": "D", "sota": {"rows": [{"model_n',
    '{"task": "T"}',
    '["T"]',
])
def test_other_shapes_are_left_to_the_json_walk(tmp_path, text):
    path = tmp_path / "other.json"
    path.write_text(text)
    con = duckdb.connect()
    con.execute(sql("create_macros"))
    WarehouseResource.run_sql(con, "create_table_docs")
    assert not tables._read_table_json_by_shape(con, WarehouseResource, path)
    assert con.execute("SELECT (SELECT count(*) FROM table_row_docs) + (SELECT count(*) FROM table_subtask_docs)"
                       " + (SELECT count(*) FROM table_subdataset_docs)").fetchall() == [(0,)]


def test_a_byte_order_mark_is_ignored_either_way(tmp_path):
    path = tmp_path / "tables" / "bom.json"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + b'[{"task": "T", "datasets": [{"dataset": "D", "sota": '
                     b'{"rows": [{"model_name": "K", "metrics": {"Acc": 1}}]}}]}]')
    typed, walked = flatten_table_json(path, True), flatten_table_json(path, False)
    assert typed == walked and [(row[9], row[12]) for row in typed[0]] == [("K", "1")] and typed[1] == []


def test_near_matches_are_reported_not_merged(real_tables):
    _, warehouse = real_tables
    pairs = query(warehouse, "SELECT name, other_name, reason FROM model_ambiguities")
    names = {frozenset((a, b)) for a, b, _ in pairs}
    assert frozenset(("BERTSP (single model)", "BERT (single model)")) in names
    ids = query(warehouse, "SELECT count(DISTINCT model_id) FROM model_resolution "
                           "WHERE model_name IN ('BERTSP (single model)', 'BERT (single model)')")
    assert ids[0][0] >= 2


def test_same_name_in_other_case_and_spacing_is_one_model(tmp_path):
    write_curated(tmp_path / "snap", [
        {"model_name": "Big  Model", "benchmark": "Toy", "task": "Text Classification", "metric": "accuracy", "value": "80"},
        {"model_name": "big model", "benchmark": "Toy", "task": "Text Classification", "metric": "F1", "value": "70"},
    ])
    result, warehouse = build(tmp_path / "snap", tmp_path / "state")
    assert result.success
    assert query(warehouse, "SELECT count(DISTINCT model_id) FROM results") == [(1,)]
