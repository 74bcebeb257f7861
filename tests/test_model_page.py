"""The model page (`sotaboard model`) on the bundled snapshot, against the sections of a real page,
and the analyst examples of warehouse/README.md on the same published warehouse."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT, sotaboard

pytestmark = pytest.mark.slow

TARGET = json.loads((Path(__file__).parent / "data" / "model_page" / "xlm_roberta_large_target.json").read_text())
XLMR = TARGET["model_id"]
XLMR_BASE = "FacebookAI/xlm-roberta-base"


@pytest.fixture(scope="module")
def published(bundled_run, tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """The session's run of the bundled snapshot (conftest.bundled_run), copied."""
    tmp = tmp_path_factory.mktemp("model_page")
    warehouse, env = bundled_run.copy(tmp / "run")
    return warehouse, env, tmp


def page_of(published, name: str, *flags: str):
    warehouse, env, tmp = published
    return sotaboard("model", name, *flags, "--warehouse", str(warehouse), env=env, cwd=tmp)


def query(published, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(published[0]), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def benchmark_lines(text: str) -> list[str]:
    """The rows of the benchmarks section (those that start with a two-digit position)."""
    section = text.split("§ 02 · Benchmarks")[1].split("§ 03")[0]
    return [line for line in section.splitlines() if re.match(r"\s+\d\d ", line)]


def test_xlmr_page_has_the_target_sections_in_order_and_its_facts(published):
    result = page_of(published, XLMR)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    positions = [text.index(f"· {section}\n") for section in TARGET["sections"]]
    assert positions == sorted(positions)

    card = TARGET["card"]
    assert text.splitlines()[0].startswith(f"{card['display_name']} · {card['org_display_name']} · ")
    facts = text.split("§ 01 · Card")[1].split("§ 02")[0]
    for fact in ("open weights", card["params"], f"license {card['license']}", card["paper_title"],
                 "family XLM-RoBERTa", "pipeline fill-mask"):
        assert fact in facts, fact

    header = text.split("§ 02 · Benchmarks\n")[1].splitlines()[0]
    for column in [*TARGET["benchmark_columns"], "split", "setting"]:
        assert column in header, column

    papers = text.split("§ 04 · Papers")[1].split("§ 05")[0]
    for paper in TARGET["papers"]:
        assert f"{paper['published']} · {paper['area']} · " in papers and paper["title"] in papers
    related = text.split("§ 05 · Related models")[1].split("§ 06")[0]
    for model in TARGET["related"]:
        assert f"  {model['display_name']}: {model['params']} · " in related
    strengths = text.split("§ 03 · Strengths by area")[1].split("§ 04")[0]
    assert all(f"  {s['area']}: " in strengths for s in TARGET["strengths"])


def test_xlmr_benchmark_row_shows_split_setting_and_its_source_for_what_it_is(published):
    page = json.loads(page_of(published, XLMR, "--json").stdout)
    assert page["card"]["display_name"] == TARGET["card"]["display_name"]
    assert page["card"]["display_name_source"] == "curated list"
    assert (page["card"]["family"], page["card"]["pipeline_tag"]) == ("XLM-RoBERTa", "fill-mask")

    target = TARGET["benchmarks"][0]
    rows = [r for r in page["benchmarks"] if r["benchmark"] == target["benchmark"]]
    assert {(r["split"], r["setting"]) for r in rows} == {("test", "translate-train-all"), ("test", "zero-shot")}
    row = next(r for r in rows if r["setting"] == "translate-train-all")
    assert (row["area"], row["task"], row["metric"]) == (target["area"], target["task"], target["metric"])
    assert (f"{row['value']:g}%", row["result_date"]) == (target["value"], target["result_date"])
    assert row["source_label"] == "arXiv paper" and row["source_kind"] == TARGET["sources"][0]["source_kind"]
    github = next(r for r in rows if r["setting"] == "zero-shot")
    assert github["source_url"].startswith("https://github.com/") and github["source_label"] == "GitHub"

    lines = benchmark_lines(page_of(published, XLMR).stdout)
    line = next(line for line in lines if "translate-train-all" in line)
    assert " test " in line and "83.6%" in line and f"#{row['rank']}/{row['n_models']}" in line
    assert "arXiv paper https://arxiv.org/abs/1911.02116" in line
    # "Natural Language Processing · Zero-Shot Classification" does not fit its column: cut with an ellipsis
    assert "Natural Language Processing · Zero-Shot…" in line
    assert "arXiv paper · source kind arxiv: 1 result; 1 of 1 rows verified" in page_of(published, XLMR).stdout


def test_rank_one_is_starred_and_a_thin_field_marked(published):
    sota = query(published, "SELECT model_id, benchmark, rank_display, thin FROM model_page_benchmarks "
                            "WHERE is_sota AND is_best ORDER BY thin, model_id, position")
    thin = next(r for r in sota if r[3])
    plain = next(r for r in sota if not r[3])
    assert query(published, "SELECT n_models FROM leaderboard WHERE model_id = ? AND rank = 1 AND thin",
                 [thin[0]])[0][0] <= 3
    for model_id, benchmark, rank_display, is_thin in (thin, plain):
        lines = [line for line in benchmark_lines(page_of(published, model_id).stdout)
                 if f"★ {rank_display}" in line]
        assert lines, (model_id, benchmark, rank_display)
        assert all(("(thin)" in line) == is_thin for line in lines)
    # a rank that is not 1 gets no star
    assert not any("★" in line for line in benchmark_lines(page_of(published, XLMR).stdout))


def test_repeated_values_are_one_row_with_their_sources(published):
    page = json.loads(page_of(published, XLMR_BASE, "--json").stdout)
    keys = Counter((r["benchmark_id"], r["metric"], r["split"], r["setting"], r["value"]) for r in page["benchmarks"])
    assert max(keys.values()) == 1
    # XLM-R base's 79.1 on XNLI test translate-train-all is reported by two papers' rows of the same README
    [row] = [r for r in page["benchmarks"] if r["setting"] == "translate-train-all"]
    assert row["value"] == 79.1 and row["split"] == "test" and row["n_sources"] == 2
    assert [s["arxiv_id"] for s in row["sources"]] == ["1911.02116", "2012.15674"]
    assert query(published, "SELECT count(*) FROM results WHERE model_id = ? AND setting = 'translate-train-all'",
                 [XLMR_BASE])[0][0] == 2
    text = page_of(published, XLMR_BASE).stdout
    assert sum("79.1%" in line for line in benchmark_lines(text)) == 1
    assert "also GitHub" in text and "(cites arXiv 2012.15674), reported 2020-12-31" in text
    # three zero-shot rows remain, told apart by their split
    assert sorted(str(r["split"]) for r in page["benchmarks"] if r["setting"] == "zero-shot") == \
        ["None", "test", "validation"]


def test_empty_sections_say_none(published):
    [(model_id,)] = query(published, "SELECT model_id FROM models WHERE model_id = 'FacebookAI/roberta-large' "
                                     "AND model_id NOT IN (SELECT model_id FROM results)")
    text = page_of(published, model_id).stdout
    for section, following in (("§ 02 · Benchmarks", "§ 03"), ("§ 03 · Strengths by area", "§ 04"),
                               ("§ 04 · Papers", "§ 05"), ("§ 06 · Sources & freshness", None)):
        body = text.split(section)[1]
        body = body.split(following)[0] if following else body
        assert body.strip() == "(none)", section


def test_an_alias_of_two_models_answers_with_the_candidates(published):
    candidates = sorted(m for (m,) in query(published, "SELECT model_id FROM model_aliases WHERE alias = 'XLM-R'"))
    assert candidates == [XLMR_BASE, XLMR]
    text = page_of(published, "XLM-R")
    assert text.returncode == 2 and "§ 01" not in text.stdout
    assert all(f"  {c}  " in text.stdout for c in candidates) and "names 2 models" in text.stderr
    answer = page_of(published, "XLM-R", "--json")
    assert answer.returncode == 2
    assert [c["model_id"] for c in json.loads(answer.stdout)["candidates"]] == candidates
    assert page_of(published, "XLM-R Large").returncode == 0     # an alias of one model opens its page


def test_sota_history_has_no_zero_day_reigns(published):
    assert query(published, "SELECT count(*) FROM sota_history WHERE held_until <= held_from") == [(0,)]


def readme_queries() -> list[str]:
    text = (PROJECT / "warehouse" / "README.md").read_text()
    block = text.split("## Example queries")[1].split("```sql")[1].split("```")[0]
    return [q.strip() for q in block.split(";") if q.strip()]


def test_readme_example_queries_run_and_the_history_has_one_holder_per_leaderboard(published):
    queries = readme_queries()
    results = {q: query(published, q) for q in queries}       # every example runs as written
    [history] = [q for q in queries if "FROM sota_history" in q]
    con = duckdb.connect(str(published[0]), read_only=True)
    try:
        cursor = con.execute(history)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    boards = Counter((r["split"], r["setting"]) for r in rows)
    current = Counter((r["split"], r["setting"]) for r in rows if r["is_current"])
    assert len(boards) >= 2 and current == Counter(dict.fromkeys(boards, 1))
    assert all(r["held_until"] is None or r["held_until"] > r["held_from"] for r in rows)
    assert results[history]
