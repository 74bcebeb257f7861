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
    "sources": "SELECT source_kind, n_results, n_verified, last_fetched_at FROM model_page_sources "
               "WHERE model_id = ? ORDER BY n_results DESC, source_kind",
}
RESOLVE = """
SELECT model_id FROM (
    SELECT model_id, 1 AS priority FROM models WHERE model_id = $id
    UNION ALL SELECT model_id, 2 FROM model_aliases WHERE alias = $id
    UNION ALL SELECT model_id, 3 FROM models WHERE lower(model_id) = lower($id)
)
ORDER BY priority, model_id
LIMIT 1
"""


class ModelNotFound(LookupError):
    pass


class WarehouseMissing(FileNotFoundError):
    pass


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list) -> list[dict]:
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
        con.execute("ATTACH ? AS published (READ_ONLY)", [str(warehouse)])
        con.execute("USE published")
        con.execute("SET enable_external_access = false")
    except duckdb.Error:
        con.close()
        raise
    return con


def load_model_page(warehouse: Path, model_id: str) -> dict:
    """Every section of the page for `model_id` (a repo id or any alias of it)."""
    if not warehouse.is_file():
        raise WarehouseMissing(f"no published warehouse at {warehouse}: run `sotaboard run` first")
    con = open_published(warehouse)
    try:
        found = con.execute(RESOLVE, {"id": model_id}).fetchall()
        if not found:
            raise ModelNotFound(f"model {model_id!r} is not in {warehouse}")
        resolved = found[0][0]
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


def _card_text(html: str | None, limit: int = 1200) -> str:
    text = re.sub(r"<[^>]+>", " ", html or "")
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def render_model_page(page: dict) -> str:
    card = page["card"]
    out = [
        f"{card['display_name']} · {card['org_display_name'] or 'unknown org'} · "
        f"{card['n_results']} results · {card['n_benchmarks']} benchmarks",
        "",
        "§ 01 · Card",
        f"  {card['model_id']}  {card['hf_url'] or ''}",
        f"  {'open weights' if card['open_weights'] else 'weights not open' if card['open_weights'] is False else 'weights unknown'}"
        f" · {_params(card['params'])} · family {card['family'] or 'unknown'} · license {card['license'] or 'unknown'}"
        f" · last modified {card['last_modified'] or 'unknown'}",
    ]
    if card["paper_title"]:
        out.append(f"  paper: {card['paper_title']} (arXiv {card['paper_arxiv_id']})")
    if card["card_html"]:
        out += ["", "  " + _card_text(card["card_html"])]
    out += ["", "§ 02 · Benchmarks", f"  {'#':>2}  {'benchmark':<28} {'area · task':<48} {'metric':<14} "
            f"{'value':>9} {'rank':>8}  {'date':<10}  source"]
    for row in page["benchmarks"]:
        setting = f" [{row['setting']}]" if row["setting"] else ""
        out.append(
            f"  {row['position']:02d}  {(row['benchmark'] + setting)[:28]:<28} {(row['area'] + ' · ' + row['task'])[:48]:<48} "
            f"{row['metric'][:14]:<14} {_value(row):>9} {row['rank_display'] or 'unranked':>8}  "
            f"{str(row['result_date'] or ''):<10}  {row['source_kind']} {row['source_url'] or ''}"
        )
    out += ["", "§ 03 · Strengths by area"]
    out += [f"  {r['area']}: {r['n_benchmarks']} benchmark{'s' * (r['n_benchmarks'] != 1)}, avg rank #{r['avg_rank']:.1f}"
            for r in page["strengths"]] or ["  (no ranked results)"]
    out += ["", "§ 04 · Papers"]
    out += [f"  {r['published'] or '????-??-??'} · {r['area'] or 'area unknown'} · {r['n_results']} result"
            f"{'s' * (r['n_results'] != 1)} · {r['title'] or r['arxiv_id']}{' (withdrawn)' if r['withdrawn'] else ''}"
            for r in page["papers"]] or ["  (none)"]
    out += ["", "§ 05 · Related models"]
    out += [f"  {r['related_display_name']}: {_params(r['params']) + ' · ' if r['params'] else ''}"
            f"{r['n_results']} result{'s' * (r['n_results'] != 1)}" for r in page["related"]] or ["  (none)"]
    out += ["", "§ 06 · Sources & freshness"]
    out += [f"  {r['source_kind']}: {r['n_results']} result{'s' * (r['n_results'] != 1)}; {r['n_verified']} of "
            f"{r['n_results']} rows verified; last fetched {r['last_fetched_at'] or 'never'}" for r in page["sources"]]
    return "\n".join(out)
