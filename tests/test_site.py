"""The static site (`sotaboard site`), checked in a real browser.

The warehouse is built once per session by `sotaboard run` on the bundled snapshot, and once on a copy
of it with a hostile model added (payloads in its card, its display name, its benchmark and metric
names). Pages are opened from the file system in headless Chromium (the Debian package at
/usr/bin/chromium, driven by Playwright without any downloaded browser); assertions read the DOM after
the page's scripts ran. Screenshots land in the test's tmp folder.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import offline_env, sotaboard
from pipeline_harness import write_curated

from assets.pages import site as renderer
from assets.pages.site import CSP, MANIFEST, _link, build_site, step_chart
from pipelines.settings import BUNDLED_SNAPSHOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XLMR = "FacebookAI/xlm-roberta-large"
HOSTILE = "xss-org/xss-model"
CANARY = "window.__sotaboardPwned = 1"
HOSTILE_CARD_BODY = [
    f"<script>{CANARY}</script>",
    f'<img src=x onerror="{CANARY}">',
    f'<a href="javascript:{CANARY}">javascript link</a>',
    f'<a href="https://example.org" onclick="{CANARY}">handler on a safe link</a>',
    f"<svg onload=\"{CANARY}\"></svg>",
    "<script>alert(1)</script>",
    f"[markdown link](javascript:{CANARY})",
    '<iframe srcdoc="<script>parent.__sotaboardPwned=1</script>"></iframe>',
]
# Text that is escaped rather than sanitised: a curated table names a model and a benchmark with these.
HOSTILE_NAME = "<img src=x onerror=window.__sotaboardPwned=1>"
HOSTILE_DATASET = f"<script>{CANARY}</script>evil-set"


# --- without a warehouse ---------------------------------------------------------------------------

def test_links_leave_the_site_only_for_http_urls():
    assert _link("https://arxiv.org/abs/1911.02116") == "https://arxiv.org/abs/1911.02116"
    assert _link(" http://example.org/x ") == "http://example.org/x"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example/x",
                "vbscript:x", "", None, "https:", "models/x.html"):
        assert _link(bad) is None, bad


def test_step_chart_steps_through_each_record_in_date_order():
    history = [{"value": 80.0, "held_from": date(2020, 1, 1)}, {"value": 82.0, "held_from": date(2021, 1, 1)},
               {"value": 85.0, "held_from": date(2022, 1, 1)}]
    chart = step_chart(history, end=date(2022, 6, 1))
    xs, ys = [p["x"] for p in chart["points"]], [p["y"] for p in chart["points"]]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # later records to the right, higher up
    assert chart["path"].startswith(f"M {xs[0]} {ys[0]} H {xs[1]} V {ys[1]} H {xs[2]} V {ys[2]} H ")
    assert chart["x_ticks"][0]["label"] == "2020-01-01" and chart["x_ticks"][1]["label"] == "2022-06-01"
    single = step_chart([{"value": 1.0, "held_from": date(2020, 1, 1)}], end=None)
    assert len(single["points"]) == 1 and " H " in single["path"]
    assert step_chart([], end=None) is None


# --- warehouses built by the pipeline --------------------------------------------------------------

def _publish(snapshot: Path, root: Path, **env: str) -> Path:
    warehouse = root / "wh" / "sotaboard.duckdb"
    run = sotaboard("run", "--snapshot", str(snapshot), "--warehouse", str(warehouse),
                    env=offline_env(root, **env), cwd=root, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert ("static_site" in run.stdout) == bool(env.get("SOTABOARD_SITE_DIR"))  # the asset runs only when asked
    return warehouse


def _render(warehouse: Path, out: Path, root: Path) -> str:
    result = sotaboard("site", "--warehouse", str(warehouse), "--out", str(out), env=offline_env(root), cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def bundled_warehouse(bundled_run, tmp_path_factory) -> Path:
    """The session's run of the bundled snapshot (conftest.bundled_run), copied."""
    assert "static_site" not in bundled_run.stdout   # the asset runs only when asked
    warehouse, _ = bundled_run.copy(tmp_path_factory.mktemp("bundled") / "run")
    return warehouse


@pytest.fixture(scope="session")
def bundled_site(bundled_warehouse, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bundled_site")
    _render(bundled_warehouse, root / "site", root)
    return root / "site"


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory) -> Path:
    """The site of the bundled snapshot plus a model whose card is hostile, and a curated table whose model
    name, benchmark name and source URLs are, rendered by the nightly job's static_site asset."""
    root = tmp_path_factory.mktemp("hostile")
    snap = root / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT, snap)
    catalog = yaml.safe_load((snap / "catalog.yaml").read_text())
    catalog["models"].append(HOSTILE)
    catalog["benchmarks"].append(HOSTILE_DATASET)
    (snap / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    (snap / "hub" / "models" / "xss-org").mkdir(parents=True)
    (snap / "hub" / "models" / f"{HOSTILE}.json").write_text(json.dumps({"id": HOSTILE, "sha": "0" * 40}))
    card = snap / "hub" / "cards" / HOSTILE / "README.md"
    card.parent.mkdir(parents=True)
    front = {"license": "mit", "model-index": [{"name": HOSTILE_NAME, "results": [{
        "task": {"type": "text-classification", "name": "Text Classification"},
        "dataset": {"name": HOSTILE_DATASET, "type": "xss-org/evil-set", "split": "test"},
        "metrics": [{"type": "accuracy", "name": "Accuracy", "value": 0.91},
                    {"type": "f1", "name": f"<b onmouseover=\"{CANARY}\">F1</b>", "value": 0.9}]}]}]}
    write_curated(snap, [
        {"model_id": HOSTILE, "model_name": "xss-model", "benchmark": HOSTILE_DATASET, "task": "Text Classification",
         "area": "Natural Language Processing", "metric": "accuracy", "value": "91.0", "split": "test",
         "result_date": "2024-01-01", "source_url": f"javascript:{CANARY}"},
        {"model_name": HOSTILE_NAME, "benchmark": HOSTILE_DATASET, "task": "Text Classification",
         "area": "Natural Language Processing", "metric": "accuracy", "value": "92.0", "split": "test",
         "result_date": "2024-02-01", "paper_title": HOSTILE_NAME,
         "source_url": f"https://example.org/'><script>{CANARY}</script>"},
    ], name="hostile.csv")
    body = "\n\n".join(f"Payload {i}:\n\n{payload}" for i, payload in enumerate(HOSTILE_CARD_BODY))
    card.write_text(f"---\n{json.dumps(front)}\n---\n\n# Hostile card\n\n{body}\n\n"
                    "[a safe link](https://example.org)\n")
    # the static_site asset renders it after the publish; `sotaboard site` then finds nothing to write
    warehouse = _publish(snap, root, SOTABOARD_SITE_DIR=str(root / "site"))
    assert (root / "site" / "models" / "xss-org-xss-model.html").is_file()
    assert " 0 files written, " in _render(warehouse, root / "site", root)
    return root / "site"


def _model_path(warehouse: Path, model_id: str) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        from warehouse import sql
        con.execute(sql("site_paths"))
        return con.execute("SELECT path FROM site_model_paths WHERE model_id = ?", [model_id]).fetchone()[0]


@pytest.mark.slow
def test_rerender_writes_only_what_changed_and_removes_what_is_gone(bundled_warehouse, tmp_path):
    out = tmp_path / "site"
    first = _render(bundled_warehouse, out, tmp_path)
    pages = int(re.search(r"site: (\d+) pages", first)[1])
    written = int(re.search(r"(\d+) files written", first)[1])
    assert pages > 300 and written == pages + 3  # every page, the stylesheet, the script, the search index
    manifest = json.loads((out / MANIFEST).read_text())
    assert len(manifest) == written

    again = _render(bundled_warehouse, out, tmp_path)
    assert f"0 files written, {written} unchanged, 0 removed" in again
    # a page whose content differs from the last render's, or that was deleted, is written again;
    # a file of the last render that no page makes any more is removed
    page = out / _model_path(bundled_warehouse, XLMR)
    page.write_text("stale")
    manifest[str(page.relative_to(out))] = "0" * 64
    (out / "index.html").unlink()
    manifest["models/gone.html"] = "0" * 64
    (out / "models" / "gone.html").write_text("old page")
    (out / MANIFEST).write_text(json.dumps(manifest))
    third = _render(bundled_warehouse, out, tmp_path)
    assert f"2 files written, {written - 2} unchanged, 1 removed" in third
    assert "XNLI" in page.read_text() and (out / "index.html").is_file()
    assert not (out / "models" / "gone.html").exists()


def _files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_pages_streamed_in_small_batches_are_the_pages_of_one_batch(bundled_warehouse, tmp_path):
    small = build_site(bundled_warehouse, tmp_path / "small", batch_size=2)
    whole = build_site(bundled_warehouse, tmp_path / "whole", batch_size=10**6)  # every kind in one batch
    assert small.pages == whole.pages and small.pages["model"] > 250 and small.pages["leaderboard"] > 50
    assert len(small.written) == sum(small.pages.values()) + 3
    small_files, whole_files = _files(tmp_path / "small"), _files(tmp_path / "whole")
    assert small_files.keys() == whole_files.keys() and len(small_files) == len(small.written) + 2  # + manifests
    assert [path for path in small_files if small_files[path] != whole_files[path]] == []


@pytest.mark.slow
def test_caps_keep_the_search_index_and_long_lists_small(bundled_warehouse, tmp_path, monkeypatch):
    """The search index holds every benchmark and the models with most results; a model page lists the
    related models with most results, a leaderboard page the best ranked entries; each page says so."""
    monkeypatch.setattr(renderer, "RELATED_MODELS", 2)
    monkeypatch.setattr(renderer, "LEADERBOARD_ENTRIES", 3)
    out = tmp_path / "site"
    report = build_site(bundled_warehouse, out, search_models=10)
    text = (out / "search-index.js").read_text()
    entries = json.loads(text.removeprefix("window.SOTABOARD_SEARCH = ").removesuffix(";\n"))
    with duckdb.connect(str(bundled_warehouse), read_only=True) as con:
        top = con.execute("SELECT model_id FROM results GROUP BY model_id ORDER BY count(*) DESC, model_id "
                          "LIMIT 10").fetchall()
        n_benchmarks = con.execute("SELECT count(*) FROM benchmarks").fetchone()[0]
        related = con.execute(
            "SELECT model_id, count(*) FROM model_page_related WHERE model_id IN (SELECT model_id FROM results) "
            "GROUP BY model_id HAVING count(*) > 2 ORDER BY model_id LIMIT 1").fetchone()
        n_xnli = con.execute("SELECT count(*) FROM leaderboard WHERE benchmark_id = 'xnli' "
                             "AND setting = 'translate-train-all'").fetchone()[0]
    assert sorted(e["key"] for e in entries if e["kind"] == "model") == sorted(m for (m,) in top)
    assert sum(e["kind"] == "benchmark" for e in entries) == n_benchmarks == report.pages["benchmark"]
    index = (out / "index.html").read_text()
    assert f"the 10 models with the most\n    results, of {report.pages['model']}" in index

    model_page = (out / _model_path(bundled_warehouse, related[0])).read_text()
    related_section = model_page.split('id="related"')[1].split("</section>")[0]
    assert related_section.count("<li>") == 2 and f"The 2 with the most results of {related[1]}." in related_section
    board = (out / "leaderboards" / "xnli-accuracy-test-translate-train-all.html").read_text()
    assert board.count('<tr class="entry') == 3 and f"The 3 best ranked of {n_xnli} entries" in board
    # the chart still runs to the newest result of the whole leaderboard
    monkeypatch.setattr(renderer, "LEADERBOARD_ENTRIES", 1000)
    build_site(bundled_warehouse, tmp_path / "whole")
    whole = (tmp_path / "whole" / "leaderboards" / "xnli-accuracy-test-translate-train-all.html").read_text()
    assert re.search(r"<svg.*</svg>", board, re.S)[0] == re.search(r"<svg.*</svg>", whole, re.S)[0]


# Unicoder's XNLI translate-train-all score moves from 78.5 to 78.6: between its neighbours (79.1, 77.8),
# so no rank on that leaderboard changes.
UNICODER = "paper:2012.15674/unicoder"
UNICODER_ROW = ",Unicoder,XNLI,Zero-Shot Classification,Natural Language Processing,accuracy,78.5,test,translate-train-all,"


@pytest.mark.slow
def test_a_changed_result_rewrites_only_its_model_and_leaderboard_pages(bundled_warehouse, tmp_path):
    snap = tmp_path / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT, snap)
    table = snap / "tables" / "xnli.csv"
    assert table.read_text().count(UNICODER_ROW) == 1
    table.write_text(table.read_text().replace(UNICODER_ROW, UNICODER_ROW.replace(",78.5,", ",78.6,")))
    changed = _publish(snap, tmp_path)  # a second nightly run: every source fetched at another time

    board = "SELECT rank, model_id FROM leaderboard WHERE benchmark_id = 'xnli' AND setting = 'translate-train-all' ORDER BY ALL"
    ranks = []
    for warehouse in (bundled_warehouse, changed):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            ranks.append(con.execute(board).fetchall())
    assert ranks[0] == ranks[1] and (9, UNICODER) in ranks[0]

    out = tmp_path / "site"
    first = build_site(bundled_warehouse, out)
    again = build_site(bundled_warehouse, out)
    assert again.written == [] and again.removed == [] and again.unchanged == len(first.written)
    assert again.rendered == 4  # the index, the search index, the stylesheet, the script: no page's rows changed
    before = _files(out)
    after = build_site(changed, out)
    model_page = _model_path(changed, UNICODER)
    leaderboard_page = "leaderboards/xnli-accuracy-test-translate-train-all.html"
    # and the index, whose sources & freshness section shows when this run fetched each source
    assert sorted(after.written) == sorted([model_page, leaderboard_page, "index.html"]) and after.removed == []
    assert after.unchanged == len(first.written) - 3
    assert after.rendered == 2 + 4  # the pages whose rows changed
    assert "78.6" in (out / model_page).read_text() and "78.5" in before[model_page].decode()
    assert "78.6" in (out / leaderboard_page).read_text()
    # the nightly run's time is on the index page only, and no model page shows it
    sources = (out / model_page).read_text().split('id="sources"')[1].split("</section>")[0]
    assert "index.html#freshness" in sources and not re.search(r"\d\d:\d\d:\d\d", sources)
    assert b'id="freshness"' in before["index.html"]


@pytest.mark.slow
def test_every_page_carries_the_policy_and_links_out_safely(bundled_site):
    pages = sorted(bundled_site.rglob("*.html"))
    assert len(pages) > 300
    for page in pages:
        text = page.read_text()
        assert f'<meta http-equiv="Content-Security-Policy" content="{CSP.replace(chr(39), "&#39;")}">' in text, page
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {page}"
        for anchor in re.findall(r"<a [^>]*>", text):
            href = re.search(r'href="([^"]*)"', anchor)[1]
            if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):  # leaves the site: http(s) only, no opener
                assert href.startswith(("https://", "http://")), anchor
                assert re.search(r'rel="noopener noreferrer[ "]', anchor), anchor
            else:
                assert (page.parent / href.split("#")[0]).resolve().is_file(), f"{page}: broken link {href}"


# --- in the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium); the browser tests need it")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium_profile")
    with sync_playwright() as playwright:
        # a persistent context is how Playwright passes --user-data-dir: a fresh one per test module
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1200, "height": 900})
        try:
            yield context
        finally:
            context.close()


DIALOGS: list[str] = []  # every alert, confirm or prompt any page opened


def _follow(page, locator) -> None:
    """Click a link and wait until the page it opens has loaded and its scripts ran."""
    with page.expect_navigation():
        locator.click()
    page.wait_for_function("document.documentElement.dataset.scripts === 'ran'")


def _open(context, path: Path):
    page = context.new_page()
    page.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function("document.documentElement.dataset.scripts === 'ran'")
    return page


@pytest.mark.slow
def test_model_page_shows_the_six_sections_ranks_and_marks(browser, bundled_site, bundled_warehouse, tmp_path):
    page = _open(browser, bundled_site / _model_path(bundled_warehouse, XLMR))
    page.screenshot(path=str(tmp_path / "xlm-roberta-large.png"), full_page=True)
    sections = page.eval_on_selector_all("section[data-section]", "s => s.map(e => e.id)")
    assert sections == ["card", "benchmarks", "strengths", "papers", "related", "sources"]
    headings = page.eval_on_selector_all("section h2", "h => h.map(e => e.textContent)")
    assert [h.split(" · ")[0] for h in headings] == [f"§ 0{i}" for i in range(1, 7)]
    assert page.text_content("#model-name") == "XLM-RoBERTa-large"
    assert "Unsupervised Cross-lingual Representation Learning at Scale" in page.text_content("header.page-head")
    assert page.eval_on_selector(".card-body", "e => e.querySelector('h1').textContent") == "XLM-RoBERTa (large)"

    rows = page.eval_on_selector_all("#benchmarks tr.result", """rows => rows.map(r => ({
        benchmark: r.dataset.benchmark, metric: r.dataset.metric, split: r.dataset.split, setting: r.dataset.setting,
        rank: r.dataset.rank, value: r.querySelector('.value').textContent,
        split_cell: r.querySelector('.split').textContent,
        source: r.querySelector('a[rel="noopener noreferrer"]')?.href,
        tier: r.querySelector('details.tier summary').textContent.trim(),
        reasons: r.querySelector('details.tier .reasons').textContent}))""")
    with duckdb.connect(str(bundled_warehouse), read_only=True) as con:
        expected = con.execute(
            "SELECT benchmark, metric, split, setting, rank_display, value, source_url, verification_tier, "
            "verification_reasons FROM model_page_benchmarks WHERE model_id = ? ORDER BY position", [XLMR]).fetchall()
        sota_model, sota_rank = con.execute(
            "SELECT model_id, rank_display FROM model_page_benchmarks WHERE is_sota AND thin "
            "ORDER BY model_id, position LIMIT 1").fetchone()
    assert len(rows) == len(expected) >= 2
    xnli = [r for r in rows if r["benchmark"] == "XNLI" and r["setting"] == "translate-train-all"]
    assert len(xnli) == 1
    row, want = xnli[0], next(e for e in expected if e[0] == "XNLI" and e[3] == "translate-train-all")
    assert (row["metric"], row["split"], row["rank"], row["value"]) == ("accuracy", "test", want[4], "83.6%")
    assert re.fullmatch(r"#\d+/\d+", row["rank"]) and row["split_cell"] == "test · translate-train-all"
    assert row["source"] == want[6] and row["tier"].startswith(want[7]) and row["reasons"] == want[8]
    # XLM-R holds no rank 1 here: nothing on its page is marked as the state of the art
    assert page.locator("#benchmarks tr.result .mark-sota").count() == 0
    page.close()

    marked = _open(browser, bundled_site / _model_path(bundled_warehouse, sota_model))
    sota_row = marked.locator("#benchmarks tr.result.is-sota.is-thin").first
    assert sota_row.locator(".rank.rank-1").text_content() == sota_rank
    assert sota_row.locator(".mark-sota").text_content() == "SOTA"
    assert sota_row.locator(".mark-thin").text_content() == "thin"
    marked.close()


@pytest.mark.slow
def test_leaderboard_chart_has_one_point_per_record(browser, bundled_site, bundled_warehouse, tmp_path):
    with duckdb.connect(str(bundled_warehouse), read_only=True) as con:
        history = con.execute(
            "SELECT value, held_from::VARCHAR, m.display_name FROM sota_history JOIN models AS m USING (model_id) "
            "WHERE benchmark_id = 'xnli' AND metric = 'accuracy' AND split = 'test' "
            "AND setting = 'translate-train-all' "
            "ORDER BY held_from").fetchall()
        n_models = con.execute("SELECT count(*) FROM leaderboard WHERE benchmark_id = 'xnli' AND metric = 'accuracy' "
                               "AND split = 'test' AND setting = 'translate-train-all'").fetchone()[0]
    assert len(history) >= 2
    page = _open(browser, bundled_site / "leaderboards" / "xnli-accuracy-test-translate-train-all.html")
    page.screenshot(path=str(tmp_path / "xnli-leaderboard.png"), full_page=True)
    points = page.eval_on_selector_all("svg.chart circle.sota-point", """c => c.map(e => ({
        value: Number(e.dataset.value), date: e.dataset.date, model: e.dataset.model,
        x: Number(e.getAttribute('cx')), y: Number(e.getAttribute('cy')),
        current: e.classList.contains('current')}))""")
    assert [(p["value"], p["date"], p["model"]) for p in points] == [(v, d, m) for v, d, m in history]
    assert [p["x"] for p in points] == sorted(p["x"] for p in points)   # time runs left to right
    assert [p["y"] for p in points] == sorted((p["y"] for p in points), reverse=True)  # records climb
    assert [p["current"] for p in points] == [False] * (len(points) - 1) + [True]
    box = page.locator("svg.chart").bounding_box()
    assert box["width"] > 300 and box["height"] > 100  # drawn, not collapsed
    ranks = page.eval_on_selector_all("#ranking tr.entry", "r => r.map(e => e.dataset.rank)")
    assert len(ranks) == n_models and ranks[0] == "1"
    first = page.locator("#ranking tr.entry").first
    assert first.locator(".mark-sota").count() == 1
    assert re.fullmatch(r"#\d+/\d+|–", first.locator(".verified-rank").text_content())
    assert re.fullmatch(r"#\d+/\d+|–", first.locator(".extra-rank").text_content().split(" ")[0])
    page.close()


@pytest.mark.slow
def test_index_search_finds_models_and_benchmarks_from_the_static_index(browser, bundled_site):
    page = _open(browser, bundled_site / "index.html")
    page.fill("#search", "xlm roberta large")
    hits = page.eval_on_selector_all("#search-results li.hit a", "a => a.map(e => [e.textContent, e.href])")
    assert ["XLM-RoBERTa-large", (bundled_site / "models" / "facebookai-xlm-roberta-large.html").as_uri()] in hits
    page.fill("#search", "xnli")
    assert "XNLI" in page.eval_on_selector_all("#search-results li.hit-benchmark a", "a => a.map(e => e.textContent)")
    assert page.locator("#freshness tbody tr").count() >= 2  # when each source was last fetched
    page.fill("#search", "no such thing zzz")
    assert page.text_content("#search-results") == "Nothing matches."
    _follow(page, page.locator("#areas a", has_text="Natural Language Processing").first)
    assert page.url.endswith("areas/natural-language-processing.html")
    _follow(page, page.get_by_role("link", name="XNLI", exact=True))
    assert page.locator("#leaderboards tbody tr").count() >= 3
    page.close()


@pytest.mark.slow
def test_hostile_card_and_names_execute_nothing(browser, hostile_site, tmp_path):
    page = _open(browser, hostile_site / "models" / "xss-org-xss-model.html")
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    body = page.text_content(".card-body")
    assert all(f"Payload {i}:" in body for i in range(len(HOSTILE_CARD_BODY)))  # every payload reached the page
    hrefs = page.eval_on_selector_all(".card-body a", "a => a.map(e => e.getAttribute('href'))")
    assert None in hrefs and "https://example.org" in hrefs  # a javascript: href is dropped, a safe one kept
    assert all(href is None or href.startswith(("https://", "http://")) for href in hrefs)
    assert page.locator("script:not([src]), iframe, .card-body svg, [onerror], [onload], [onclick], "
                        "[onmouseover]").count() == 0
    hostile_row = page.locator("#benchmarks tr.result", has_text=HOSTILE_DATASET)
    # the benchmark's name, shown as text: on the curated row, and on the card's two results (a Hub
    # dataset whose name says more than its type is named by both)
    assert hostile_row.count() == 3
    assert hostile_row.locator("a[href^='javascript']").count() == 0  # the javascript: source is not a link
    for row in page.locator("#benchmarks tr.result").all():
        row.hover()

    # the curated table's leaderboard (the benchmark named by the table alone): both hostile names, escaped
    curated_row = next(r for r in hostile_row.all() if r.get_attribute("data-benchmark") == HOSTILE_DATASET)
    _follow(page, curated_row.locator("td").nth(3).locator("a"))
    page.screenshot(path=str(tmp_path / "hostile-leaderboard.png"), full_page=True)
    assert HOSTILE_DATASET in page.text_content("h1")
    assert page.locator("#ranking tr.entry", has_text=HOSTILE_NAME).count() == 1
    assert HOSTILE_NAME in page.eval_on_selector_all("circle.sota-point", "c => c.map(e => e.dataset.model)")
    escaped_link = page.locator("#ranking a[rel='noopener noreferrer']").first.get_attribute("href")
    assert escaped_link == f"https://example.org/'><script>{CANARY}</script>"  # one attribute, whole
    _follow(page, page.locator("#ranking a", has_text=HOSTILE_NAME))  # the page of the model the table names so
    assert page.text_content("#model-name") == HOSTILE_NAME

    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__sotaboardPwned") == "undefined"
    assert DIALOGS == []
    page.close()
