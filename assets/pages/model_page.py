"""The model page of `sotaboard model`: one query per section on the published warehouse views."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

SECTIONS = {
    "benchmarks": "SELECT * EXCLUDE (model_id) FROM model_page_benchmarks WHERE model_id = ? ORDER BY position",
    "strengths": "SELECT area, n_benchmarks, avg_rank, n_sota FROM model_page_strengths WHERE model_id = ? "
                 "ORDER BY avg_rank, area",
    "papers": "SELECT arxiv_id, published, area, title, withdrawn, n_results FROM model_page_papers "
              "WHERE model_id = ? ORDER BY published DESC NULLS LAST, arxiv_id",
    "related": "SELECT related_model_id, related_display_name, params, n_results FROM model_page_related "
               "WHERE model_id = ? ORDER BY n_results DESC, params DESC NULLS LAST, related_model_id",
    "sources": "SELECT source_label, source_kind, n_results, n_verified, last_fetched_at FROM model_page_sources "
               "WHERE model_id = ? ORDER BY n_results DESC, source_label, source_kind",
}
# Every model the name could mean, at the strongest kind of match that finds any: the repo id
# itself, then an alias, then the repo id in another case.
RESOLVE = """
SELECT c.model_id, m.display_name, c.matched_by
FROM (
    SELECT model_id, 1 AS priority, 'model id' AS matched_by FROM models WHERE model_id = $id
    UNION ALL SELECT model_id, 2, 'alias: ' || reason FROM model_aliases WHERE alias = $id
    UNION ALL SELECT model_id, 3, 'model id in another case' FROM models WHERE lower(model_id) = lower($id)
) AS c
JOIN models AS m USING (model_id)
QUALIFY priority = min(priority) OVER ()
ORDER BY c.model_id
"""


class ModelNotFound(LookupError):
    pass


class AmbiguousModel(LookupError):
    """The name is an alias of several models: `candidates` lists them (model_id, display_name, matched_by)."""

    def __init__(self, name: str, candidates: list[dict]):
        self.name, self.candidates = name, candidates
        ids = ", ".join(c["model_id"] for c in candidates)
        super().__init__(f"{name!r} names {len(candidates)} models: {ids}; ask for one of them by its id")


class WarehouseMissing(FileNotFoundError):
    pass


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list | dict) -> list[dict]:
    cursor = con.execute(query, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def open_published(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that sees the published file as it is now. `duckdb.connect(path)`
    would share the database instance that DuckDB caches per process and file: while any
    connection of this process still holds the file, a new one would keep reading the data of
    before the last publish (and one with other settings would be refused). A fresh in-memory
    instance that attaches the file opens it anew; it can then read no other file."""
    con = duckdb.connect(":memory:")
    try:
        # DuckDB 1.5 takes no parameter for ATTACH's path: a quoted literal
        con.execute("ATTACH '" + str(warehouse).replace("'", "''") + "' AS published (READ_ONLY)")
        con.execute("USE published")
        con.execute("SET enable_external_access = false")
    except duckdb.Error:
        con.close()
        raise
    return con


def load_model_page(warehouse: Path, model_id: str) -> dict:
    """Every section of the page for `model_id` (a repo id or an alias naming one model)."""
    if not warehouse.is_file():
        raise WarehouseMissing(f"no published warehouse at {warehouse}: run `sotaboard run` first")
    con = open_published(warehouse)
    try:
        found = _rows(con, RESOLVE, {"id": model_id})
        if not found:
            raise ModelNotFound(f"model {model_id!r} is not in {warehouse}")
        if len(found) > 1:
            raise AmbiguousModel(model_id, found)
        resolved = found[0]["model_id"]
        page = {"card": _rows(con, "SELECT * FROM model_page_card WHERE model_id = ?", [resolved])[0]}
        page.update({name: _rows(con, query, [resolved]) for name, query in SECTIONS.items()})
    finally:
        con.close()
    return page


def _params(n: int | None) -> str:
    if n is None:
        return "params unknown"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.{0 if n / size >= 100 else 1}f}{unit} params".replace(".0" + unit, unit)
    return f"{n} params"


def _value(row: dict) -> str:
    value = f"{row['value']:g}"
    return value + ("%" if row["unit"] == "percent" else "")


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` characters; a cut one ends with an ellipsis."""
    return text if len(text) <= width else text[:width - 1] + "…"


def _card_text(html: str | None, limit: int = 1200) -> str:
    text = re.sub(r"<[^>]+>", " ", html or "")
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _rank(row: dict) -> str:
    """`#k/n`, with a star on the row that holds rank 1 and `(thin)` when that field has three models or fewer."""
    if row["rank_display"] is None:
        return "unranked"
    marks = "★ " if row["is_sota"] and row["is_best"] else ""
    return marks + row["rank_display"] + (" (thin)" if row["thin"] and row["is_best"] else "")


def _source(source: dict) -> str:
    """Label and link of a source, and the arXiv paper it cites when the link is not that paper."""
    cites = ""
    if source["arxiv_id"] and source["source_label"] != "arXiv paper":
        cites = f"(cites arXiv {source['arxiv_id']})"
    return " ".join(part for part in (source["source_label"], source["source_url"], cites) if part)


BENCHMARK_COLUMNS = (("#", 2), ("benchmark", 22), ("area · task", 40), ("metric", 12), ("split", 10),
                     ("setting", 19), ("value", 8), ("rank", 14), ("date", 10))
NOT_GIVEN = "—"


def _benchmark_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return ["  (none)"]
    header = [f"{name:>{width}}" if name in ("#", "value", "rank") else f"{name:<{width}}"
              for name, width in BENCHMARK_COLUMNS]
    out = ["  " + " ".join(header) + " source"]
    for row in rows:
        cells = [f"{row['position']:02d}", row["benchmark"], f"{row['area']} · {row['task']}", row["metric"],
                 row["split"] or NOT_GIVEN, row["setting"] or NOT_GIVEN, _value(row), _rank(row),
                 str(row["result_date"] or NOT_GIVEN)]
        fitted = [f"{_cut(cell, width):>{width}}" if name in ("#", "value", "rank") else f"{_cut(cell, width):<{width}}"
                  for cell, (name, width) in zip(cells, BENCHMARK_COLUMNS)]
        shown = next(s for s in row["sources"] if s["result_id"] == row["result_id"])
        out.append("  " + " ".join(fitted) + " " + _source(shown))
        for other in (s for s in row["sources"] if s is not shown):
            out.append(f"{'':>{len(out[0]) - len(' source')}} also {_source(other)}, reported "
                       f"{other['result_date'] or 'undated'}")
    out.append(f"  ★ rank 1, the state of the art · (thin) rank 1 among three models or fewer · "
               f"{NOT_GIVEN} the source gives none")
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def render_model_page(page: dict) -> str:
    card = page["card"]
    out = [
        f"{card['display_name']} · {card['org_display_name'] or 'unknown org'} · "
        f"{card['n_results']} results · {card['n_benchmarks']} benchmarks",
        "",
        "§ 01 · Card",
        f"  {card['model_id']}  {card['hf_url'] or ''}",
        f"  {'open weights' if card['open_weights'] else 'weights not open' if card['open_weights'] is False else 'weights unknown'}"
        f" · {_params(card['params'])} · family {card['family'] or 'unknown'}"
        f" · pipeline {card['pipeline_tag'] or 'unknown'} · license {card['license'] or 'unknown'}"
        f" · last modified {card['last_modified'] or 'unknown'}",
    ]
    if card["paper_title"]:
        venue = f". {card['paper_journal_ref']}" if card["paper_journal_ref"] else ""
        out.append(f"  paper: {card['paper_title']}{venue} (arXiv {card['paper_arxiv_id']})")
    if card["card_html"]:
        out += ["", "  " + _card_text(card["card_html"])]
    out += ["", "§ 02 · Benchmarks"] + _benchmark_lines(page["benchmarks"])
    sections = {
        "§ 03 · Strengths by area": (
            f"  {r['area']}: {_count(r['n_benchmarks'], 'benchmark')}, avg rank #{r['avg_rank']:.1f}"
            f"{f', {n} at rank 1' if (n := r['n_sota']) else ''}" for r in page["strengths"]),
        "§ 04 · Papers": (
            f"  {r['published'] or '????-??-??'} · {r['area'] or 'area unknown'} · {_count(r['n_results'], 'result')}"
            f" · {r['title'] or r['arxiv_id']}{' (withdrawn)' if r['withdrawn'] else ''}" for r in page["papers"]),
        "§ 05 · Related models": (
            f"  {r['related_display_name']}: {_params(r['params']) + ' · ' if r['params'] else ''}"
            f"{_count(r['n_results'], 'result')}" for r in page["related"]),
        "§ 06 · Sources & freshness": (
            f"  {r['source_label']} · source kind {r['source_kind']}: {_count(r['n_results'], 'result')}; "
            f"{r['n_verified']} of {r['n_results']} rows verified; last fetched {r['last_fetched_at'] or 'never'}"
            for r in page["sources"]),
    }
    for heading, lines in sections.items():
        out += ["", heading, *(list(lines) or ["  (none)"])]
    return "\n".join(out)
