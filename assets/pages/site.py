"""The static site of `sotaboard site`: model, leaderboard, benchmark and area pages and a searchable
index, rendered from the published warehouse only, readable from the file system without a server.

Every page's data comes from the set-based queries `warehouse/sql/site_*.sql` over the published
relations; Jinja2 templates (autoescaped) turn it into HTML. The only markup taken as it is is the
sanitised `card_html`; links leave the site only for http(s) URLs. Pages carry a Content-Security-Policy
that runs no script but the site's own files.

Rendering is incremental: `.sotaboard-site.json` in the output directory holds the sha256 of every file
written; a file whose content hashes the same and is still on disk is not written again, and files of
the previous render that no page produces any more are removed.
"""

from __future__ import annotations

import hashlib
import json
import time
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
STATIC_FILES = ("site.css", "site.js")
SEARCH_INDEX = "search-index.js"
# Scripts, styles and images of the site's own files only: a card's remote images are not fetched either.
CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
PAGE_QUERIES = ("model_pages", "leaderboard_pages", "benchmark_pages", "area_pages", "search_index")
CHART = {"width": 720, "height": 260, "left": 64, "right": 16, "top": 16, "bottom": 36}


@dataclass
class SiteReport:
    """What one render did: files written, left unchanged and removed, and pages by kind."""

    out_dir: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.pages.items())
        return (f"site: {sum(self.pages.values())} pages ({kinds}) in {self.seconds:.2f}s: "
                f"{len(self.written)} files written, {self.unchanged} unchanged, {len(self.removed)} removed "
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


def _query(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    cursor = con.execute(sql(name))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def load_site(warehouse: Path) -> dict[str, list[dict]]:
    """The rows of every page of the site, one set-based query per kind of page."""
    if not warehouse.is_file():
        raise WarehouseMissing(f"no published warehouse at {warehouse}: run `sotaboard run` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(sql("site_paths"))
        return {name: _query(con, f"site_{name}") for name in PAGE_QUERIES}
    finally:
        con.close()


def render_pages(data: dict[str, list[dict]]) -> dict[str, bytes]:
    """Every file of the site by its path relative to the output directory."""
    env = _environment()
    files: dict[str, bytes] = {}

    def page(template: str, path: str, **context: object) -> None:
        root = "../" * path.count("/")
        files[path] = env.get_template(template).render(root=root, **context).encode()

    for model in data["model_pages"]:
        card = dict(model["card"])
        card["card_html"] = Markup(card["card_html"] or "")  # sanitised when the warehouse was built
        page("model.html", model["path"], model=model, card=card)
    for board in data["leaderboard_pages"]:
        newest = max((e["result_date"] for e in board["entries"] if e["result_date"]), default=None)
        page("leaderboard.html", board["path"], board=board, chart=step_chart(board["history"], newest))
    for benchmark in data["benchmark_pages"]:
        page("benchmark.html", benchmark["path"], benchmark=benchmark)
    for area in data["area_pages"]:
        page("area.html", area["path"], area=area)
    page("index.html", "index.html", areas=data["area_pages"],
         n_models=len(data["model_pages"]), n_leaderboards=len(data["leaderboard_pages"]),
         n_benchmarks=len(data["benchmark_pages"]))
    entries = [{k: row[k] for k in ("kind", "name", "key", "detail", "path")} for row in data["search_index"]]
    files[SEARCH_INDEX] = ("window.SOTABOARD_SEARCH = " + json.dumps(entries, ensure_ascii=True)
                           .replace("<", "\\u003c") + ";\n").encode()
    for name in STATIC_FILES:
        files[name] = (HERE / "static" / name).read_bytes()
    return files


def build_site(warehouse: Path, out_dir: Path) -> SiteReport:
    """Render the site of `warehouse` into `out_dir`, writing only the files whose content changed."""
    started = time.monotonic()
    out_dir = out_dir.absolute()
    data = load_site(warehouse)
    files = render_pages(data)
    manifest_path = out_dir / MANIFEST
    try:
        previous = json.loads(manifest_path.read_text())
    except (FileNotFoundError, ValueError):
        previous = {}
    report = SiteReport(out_dir=out_dir, pages={
        "model": len(data["model_pages"]), "leaderboard": len(data["leaderboard_pages"]),
        "benchmark": len(data["benchmark_pages"]), "area": len(data["area_pages"]), "index": 1})
    hashes = {}
    for path, content in sorted(files.items()):
        digest = hashlib.sha256(content).hexdigest()
        hashes[path] = digest
        if previous.get(path) == digest and (out_dir / path).is_file():
            report.unchanged += 1
        else:
            write_atomic(out_dir / path, content)
            report.written.append(path)
    for path in sorted(set(previous) - set(files)):
        stale = (out_dir / path).resolve()
        if stale.is_relative_to(out_dir.resolve()):  # only files this renderer wrote, inside out_dir
            stale.unlink(missing_ok=True)
            report.removed.append(path)
    if previous != hashes:
        write_atomic(manifest_path, json.dumps(hashes, indent=0, sort_keys=True).encode())
    report.seconds = time.monotonic() - started
    return report
