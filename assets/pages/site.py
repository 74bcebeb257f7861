"""The static site of `sotaboard site`: model, leaderboard, benchmark and area pages and a searchable
index, rendered from the published warehouse only, readable from the file system without a server.

Every page's data comes from the set-based queries `warehouse/sql/site_*.sql` over the published
relations; Jinja2 templates (autoescaped) turn it into HTML. The only markup taken as it is is the
sanitised `card_html`; links leave the site only for http(s) URLs. Pages carry a Content-Security-Policy
that runs no script but the site's own files.

Rendering streams: the pages of each kind are numbered in batches of `batch_size` (site_paths.sql), the
rows of their sections are computed once into temporary tables by batch, and one query per batch reads
a batch's pages; every page is rendered, hashed and written as its row arrives, so Python holds one batch
of rows and the manifests, not the site, and DuckDB spills what passes its memory limit to disk. Long
lists are capped (RELATED_MODELS, LEADERBOARD_ENTRIES, SEARCH_MODELS) and the page says so.

Rendering is incremental: `.sotaboard-site.json` in the output directory holds the sha256 of every file
written, `.sotaboard-site-inputs.json` the md5 of every page's rows (computed by the page queries) and
the renderer's fingerprint. A page whose rows hash as in the last render, by the same renderer, and whose
file is on disk as written is not rendered again; a file whose content hashes the same and is still on
disk is not written again; files of the previous render that no page produces any more are removed.
Nothing on a model, leaderboard, benchmark or area page changes with the time of the nightly run (the
sources' fetch times are on the index page only), so a re-render writes only the pages whose rows changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import jinja2
from markupsafe import Markup

from assets.pages.model_page import WarehouseMissing, _params, _value
from assets.sources.files import write_atomic
from warehouse import sql

HERE = Path(__file__).parent
MANIFEST = ".sotaboard-site.json"
INPUTS_MANIFEST = ".sotaboard-site-inputs.json"  # the md5 of every page's rows, and the renderer's sha256
STATIC_FILES = ("site.css", "site.js")
SEARCH_INDEX = "search-index.js"
# Scripts, styles and images of the site's own files only: a card's remote images are not fetched either.
CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
BATCH_ROWS = 500  # pages of one kind whose rows are read from DuckDB at a time
RELATED_MODELS = 12  # related models on a model page at most: those with the most results
LEADERBOARD_ENTRIES = 1_000  # entries on a leaderboard page at most: the best ranked
SEARCH_MODELS = 20_000  # models in the search index at most: those with the most results
DUCKDB_MEMORY = "1GB"  # the rendering connection's memory limit
CHART = {"width": 720, "height": 260, "left": 64, "right": 16, "top": 16, "bottom": 36}


@dataclass
class SiteReport:
    """What one render did: files written, left unchanged and removed, pages by kind, and how many files
    were rendered (the others' rows were those of the last render)."""

    out_dir: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    rendered: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.pages.items())
        return (f"site: {sum(self.pages.values())} pages ({kinds}) in {self.seconds:.2f}s: "
                f"{self.rendered} files rendered, {len(self.written)} files written, {self.unchanged} unchanged, {len(self.removed)} removed "
                f"-> {self.out_dir}")


def _link(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None: a page links out to nothing else."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _split_setting(split: str | None, setting: str | None) -> str:
    return " · ".join(part for part in (split or "split not given", setting) if part)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def step_chart(history: list[dict], end: date | None) -> dict | None:
    """Geometry of the state-of-the-art step chart: each record holds its value from its date to the next
    record's; the time axis runs to `end` (the newest result date of the leaderboard) and a little past."""
    if not history:
        return None
    c = CHART
    first = history[0]["held_from"]
    last = max([end or first, *(p["held_from"] for p in history)])
    axis_end = last + timedelta(days=max(1, (last - first).days // 20))  # the current record runs on past it
    span = (axis_end - first).days
    values = [p["value"] for p in history]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    plot_w, plot_h = c["width"] - c["left"] - c["right"], c["height"] - c["top"] - c["bottom"]

    def x(day: date) -> float:
        return round(c["left"] + plot_w * (day - first).days / span, 1)

    def y(value: float) -> float:
        return round(c["top"] + plot_h * (high - value) / (high - low), 1)

    points, path = [], []
    for i, point in enumerate(history):
        until = history[i + 1]["held_from"] if i + 1 < len(history) else axis_end
        px, py = x(point["held_from"]), y(point["value"])
        path.append(f"V {py}" if i else f"M {px} {py}")
        path.append(f"H {x(until)}")
        points.append({**point, "x": px, "y": py})
    return {
        **c, "points": points, "path": " ".join(path),
        "x_axis_y": c["height"] - c["bottom"], "plot_right": x(axis_end),
        "y_ticks": [{"y": y(v), "label": _number(round(v, 4))} for v in (min(values), max(values))],
        "x_ticks": [{"x": x(first), "label": first.isoformat()}, {"x": x(last), "label": last.isoformat()}],
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(link=_link, value=_value, params=_params, number=_number, split_setting=_split_setting)
    env.globals.update(csp=CSP)
    return env


def _rows(cursor: duckdb.DuckDBPyConnection) -> Iterator[dict]:
    names = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row))


def _pages_of(con: duckdb.DuckDBPyConnection, kind: str) -> Iterator[dict]:
    """The rows of the pages of `kind` (site_<kind>_pages.sql), one batch of pages per query, in path order:
    one batch of rows is in Python at once."""
    query = sql(f"site_{kind}_pages")
    n_batches = con.execute(f"SELECT coalesce(max(batch) + 1, 0) FROM site_{kind}_paths").fetchone()[0]
    for batch in range(n_batches):
        con.execute(f"SET VARIABLE site_batch = {batch}")
        yield from _rows(con.execute(query))


@contextmanager
def _connect(warehouse: Path, batch_size: int) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to `warehouse` with the site's path tables (pages numbered in batches of
    `batch_size`), its memory capped at DUCKDB_MEMORY: what is larger spills to a temporary directory."""
    if not warehouse.is_file():
        raise WarehouseMissing(f"no published warehouse at {warehouse}: run `sotaboard run` first")
    with tempfile.TemporaryDirectory(prefix="sotaboard-site-") as spill:
        con = duckdb.connect(str(warehouse), read_only=True,
                             config={"memory_limit": DUCKDB_MEMORY, "temp_directory": spill})
        try:
            for name, value in (("site_batch_rows", batch_size), ("site_related_models", RELATED_MODELS),
                                ("site_leaderboard_entries", LEADERBOARD_ENTRIES)):
                con.execute(f"SET VARIABLE {name} = {int(value)}")
            con.execute(sql("site_paths"))
            yield con
        finally:
            con.close()


def render_site(con: duckdb.DuckDBPyConnection, pages: dict[str, int], search_models: int = SEARCH_MODELS
                ) -> Iterator[tuple[str, str | None, Callable[[], bytes]]]:
    """Every file of the site as (path relative to the output directory, the md5 of the page's rows or
    None, a function rendering its content), page by page as the batches of each kind arrive from `con`
    (a connection of `_connect`); counts the pages by kind in `pages`. Only the index's list of areas
    and the search index (at most `search_models` models) are held whole."""
    env = _environment()

    def page(template: str, path: str, **context: object) -> Callable[[], bytes]:
        return lambda: env.get_template(template).render(root="../" * path.count("/"), **context).encode()

    def model_page(model: dict) -> Callable[[], bytes]:
        card = dict(model["card"])
        card["card_html"] = Markup(card["card_html"] or "")  # sanitised when the warehouse was built
        return page("model.html", model["path"], model=model, card=card)

    def leaderboard_page(board: dict) -> Callable[[], bytes]:
        return page("leaderboard.html", board["path"], board=board,
                    chart=step_chart(board["history"], board["newest_result_date"]))

    pages.update(model=0, leaderboard=0, benchmark=0, area=0, index=0)
    con.execute(sql("site_model_rows"))
    for model in _pages_of(con, "model"):
        pages["model"] += 1
        yield model["path"], model.pop("input_hash"), model_page(model)
    con.execute(sql("site_leaderboard_rows"))
    for board in _pages_of(con, "leaderboard"):
        pages["leaderboard"] += 1
        yield board["path"], board.pop("input_hash"), leaderboard_page(board)
    for benchmark in _pages_of(con, "benchmark"):
        pages["benchmark"] += 1
        yield benchmark["path"], benchmark.pop("input_hash"), page("benchmark.html", benchmark["path"],
                                                                  benchmark=benchmark)
    areas = []
    for area in _pages_of(con, "area"):
        pages["area"] += 1
        yield area["path"], area.pop("input_hash"), page("area.html", area["path"], area=area)
        areas.append({"path": area["path"], "area": area["area"],
                      "benchmarks": [{"name": b["name"], "path": b["path"]} for b in area["benchmarks"]]})
    con.execute(f"SET VARIABLE site_search_models = {int(search_models)}")
    search = [{k: row[k] for k in ("kind", "name", "key", "detail", "path")}
              for row in _rows(con.execute(sql("site_search_index")))]
    pages["index"] += 1
    yield "index.html", None, page(
        "index.html", "index.html", areas=sorted(areas, key=lambda area: area["area"]),
        n_models=pages["model"], n_leaderboards=pages["leaderboard"], n_benchmarks=pages["benchmark"],
        n_search_models=sum(entry["kind"] == "model" for entry in search),
        freshness=list(_rows(con.execute(sql("site_freshness")))))
    search_js = ("window.SOTABOARD_SEARCH = " + json.dumps(search, ensure_ascii=True).replace("<", "\\u003c")
                 + ";\n").encode()
    yield SEARCH_INDEX, None, lambda: search_js
    for name in STATIC_FILES:
        yield name, None, (HERE / "static" / name).read_bytes


def renderer_fingerprint() -> str:
    """The sha256 of what turns a page's rows into its HTML: this module, the filters it takes from
    pipelines/model_page.py, the templates and the static files."""
    digest = hashlib.sha256()
    for path in [Path(__file__), Path(sys.modules[_value.__module__].__file__),
                 *sorted((HERE / "templates").iterdir()), *sorted((HERE / "static").iterdir())]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _holds(file: Path, digest: str | None) -> bool:
    """`file` is on disk with the content of sha256 `digest`."""
    try:
        return digest is not None and hashlib.sha256(file.read_bytes()).hexdigest() == digest
    except OSError:
        return False


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def build_site(warehouse: Path, out_dir: Path, batch_size: int = BATCH_ROWS,
               search_models: int = SEARCH_MODELS) -> SiteReport:
    """Render the site of `warehouse` into `out_dir`, page by page, writing only the files whose content
    changed; a page whose rows hash as in the last render, by the same renderer, and whose file is still
    on disk as written is not rendered again. What stays in memory is the manifests and one batch of rows."""
    started = time.monotonic()
    out_dir = out_dir.absolute()
    previous = _read_json(out_dir / MANIFEST)
    last_inputs = _read_json(out_dir / INPUTS_MANIFEST)
    renderer = renderer_fingerprint()
    previous_inputs = last_inputs.get("pages", {}) if last_inputs.get("renderer") == renderer else {}
    report = SiteReport(out_dir=out_dir)
    hashes: dict[str, str] = {}
    inputs: dict[str, str] = {}
    with _connect(warehouse, batch_size) as con:
        for path, input_hash, render in render_site(con, report.pages, search_models):
            if input_hash is not None:
                inputs[path] = input_hash
                if previous_inputs.get(path) == input_hash and _holds(out_dir / path, previous.get(path)):
                    hashes[path] = previous[path]
                    report.unchanged += 1
                    continue
            content = render()
            report.rendered += 1
            digest = hashlib.sha256(content).hexdigest()
            hashes[path] = digest
            if previous.get(path) == digest and (out_dir / path).is_file():
                report.unchanged += 1
            else:
                write_atomic(out_dir / path, content)
                report.written.append(path)
    for path in sorted(set(previous) - set(hashes)):
        stale = (out_dir / path).resolve()
        if stale.is_relative_to(out_dir.resolve()):  # only files this renderer wrote, inside out_dir
            stale.unlink(missing_ok=True)
            report.removed.append(path)
    if previous != hashes:
        write_atomic(out_dir / MANIFEST, json.dumps(hashes, indent=0, sort_keys=True).encode())
    if last_inputs != {"renderer": renderer, "pages": inputs}:
        write_atomic(out_dir / INPUTS_MANIFEST,
                     json.dumps({"renderer": renderer, "pages": inputs}, indent=0, sort_keys=True).encode())
    report.seconds = time.monotonic() - started
    return report
