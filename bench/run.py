"""The scale benchmark: the nightly job on a synthetic snapshot, timed per asset group, against a
pandas version of the same computation and a one-scan floor; then again after a 1% upstream change.

    python -m bench.generate bench/out/s1m                     # the snapshot (once)
    python -m bench.run --snapshot bench/out/s1m [--json bench/out/s1m.json]

What it does, in one process (the nightly job runs in process, as `sotaboard run` does):

1. full run: a fresh working database, the `nightly` job of `pipelines.definitions` executed
   in process; per step the wall time (STEP_START to STEP_SUCCESS), the peak RSS of the process
   during the step (VmHWM, reset at each step start through /proc/self/clear_refs), the bytes
   the step read from files (/proc/self/io rchar: snapshot files, and the working database) and
   the CPU seconds it used (user + system, of the process and of the worker processes it ended:
   CPU over wall is the cores it kept busy);
2. floor: one DuckDB scan-and-aggregate over the built `results` table;
3. pandas: ranks, verification flags and model strengths done the way a user might, with pandas
   group-bys on the results table pulled out of the warehouse (pull and compute timed apart),
   checked against the warehouse's own leaderboard;
4. the same work in DuckDB: what the pandas code computes, in SQL (verification as a self-join, the
   three rankings as `leaderboard.sql` ranks them: best values per model in one grouping, one
   window pass), on the same `results` table, with the same checks, writing nothing but temporary
   tables. This is the like-for-like comparison: the `results`, `leaderboard` and
   `model_strengths` assets do more than pandas does (`results` parses and resolves every raw
   value first, writes verification reasons; every asset writes its table to the working file);
   3 and 4 each run in a child process, so that their memory is theirs alone, `--repeat` times
   (default 3) taking turns; the run of median time is reported, with every run's time;
5. incremental run: `bench.generate --change` applies a 1% upstream change to the snapshot (in
   place: regenerate the snapshot to start over), then the job runs again on the same state;
6. the table reading floor: every (changed) table file read once by the typed reader, nothing
   flattened or written; with the other ingest steps and publish as the incremental run measured
   them, the least that run could cost if core, analytics and checks were free (the summary's
   `incremental_lower_bound_*`);
7. with `--lake CATALOG`: after the full run and after the incremental run, the working database is
   published again into a DuckLake (`ducklake:CATALOG`, data files in `<state>/lake_data`), timed,
   with the data files it wrote, beside the file publish of the job (`lake_publish` in the summary).

Source requests: in snapshot mode the ingest assets make none (raw.source_runs.requests = 0), so
the cost of a run's ingest is reported as snapshot files and bytes read. Times are wall seconds on
this machine; peak memory is the process's resident set (Python, Dagster and DuckDB together).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

GROUPS = ("ingest", "core", "analytics", "publish", "checks")
STEP_END = {"STEP_SUCCESS", "STEP_FAILURE"}


# ------------------------------------------------------------------------------------ measuring

def _status(field_name: str) -> int:
    """A /proc/self/status field in bytes (VmHWM, VmRSS)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _rchar() -> int:
    with open("/proc/self/io") as handle:
        for line in handle:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its ended child processes (card parsers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: writing 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


@dataclass
class Step:
    key: str
    group: str
    seconds: float = 0.0
    peak_rss: int = 0
    bytes_read: int = 0
    cpu_seconds: float = 0.0
    ok: bool = True
    _t0: float = 0.0
    _r0: int = 0
    _c0: float = 0.0


@dataclass
class Measure:
    steps: dict[str, Step] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)


def measuring_logger(measure: Measure, groups: dict[str, str]):
    import dagster as dg

    @dg.logger(description="Per-step wall time, peak RSS and bytes read, for the benchmark.")
    def _logger(_context: dg.InitLoggerContext) -> logging.Logger:
        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                event = getattr(record, "dagster_meta", {}).get("dagster_event")
                if event is None or not event.step_key:
                    return
                kind = event.event_type_value
                if kind == "STEP_START":
                    reset_peak()
                    step = Step(event.step_key, groups.get(event.step_key, "checks"))
                    step._t0, step._r0, step._c0 = time.monotonic(), _rchar(), _cpu_seconds()
                    measure.steps[event.step_key] = step
                    measure.order.append(event.step_key)
                elif kind in STEP_END and event.step_key in measure.steps:
                    step = measure.steps[event.step_key]
                    step.seconds = time.monotonic() - step._t0
                    step.peak_rss = _status("VmHWM")
                    step.bytes_read = _rchar() - step._r0
                    step.cpu_seconds = _cpu_seconds() - step._c0
                    step.ok = kind == "STEP_SUCCESS"
                    print(f"  {step.group:9} {step.key:28} {step.seconds:7.2f}s  cpu {step.cpu_seconds:7.2f}s"
                          f"  peak {step.peak_rss / 2**20:7.0f} MiB  read {step.bytes_read / 2**20:8.1f} MiB"
                          f"{'' if step.ok else '  FAILED'}", flush=True)

        log = logging.Logger("bench", level=logging.DEBUG)
        log.addHandler(Handler())
        return log

    return _logger


# ------------------------------------------------------------------------------------ the job

def nightly_job(settings):
    """(job, {step key: group}): the code location's own nightly job."""
    from pipelines.definitions import build_definitions

    defs = build_definitions(settings)
    # a step is named after its op: one asset (`hub_models`) or one SQL file's multi-asset (`model_page`)
    groups: dict[str, str] = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        for group in set(assets_def.group_names_by_key.values()) if assets_def.is_executable else ():
            groups[assets_def.node_def.name] = group
    return defs.resolve_job_def("nightly"), groups


def run_job(settings, label: str) -> dict:
    import dagster as dg

    job, groups = nightly_job(settings)
    measure = Measure()
    print(f"{label}: nightly job on {settings.snapshot_dir}", flush=True)
    started = time.monotonic()
    job = job.with_logger_defs({"bench": measuring_logger(measure, groups)})
    result = job.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False,
                                    run_config={"loggers": {"bench": {}}})
    wall = time.monotonic() - started
    failed_checks = [f"{e.event_specific_data.asset_key.to_user_string()}.{e.event_specific_data.check_name}"
                     for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed]
    by_group = {}
    for group in GROUPS:
        steps = [measure.steps[k] for k in measure.order if measure.steps[k].group == group]
        by_group[group] = {"seconds": round(sum(s.seconds for s in steps), 2),
                           "peak_rss_mib": round(max((s.peak_rss for s in steps), default=0) / 2**20),
                           "bytes_read_mib": round(sum(s.bytes_read for s in steps) / 2**20, 1),
                           "cpu_seconds": round(sum(s.cpu_seconds for s in steps), 2),
                           "steps": len(steps)}
    return {
        "label": label, "success": result.success, "wall_seconds": round(wall, 2),
        "groups": by_group, "failed_checks": failed_checks,
        "steps": {k: {"group": s.group, "seconds": round(s.seconds, 2), "peak_rss_mib": round(s.peak_rss / 2**20),
                      "bytes_read_mib": round(s.bytes_read / 2**20, 1), "cpu_seconds": round(s.cpu_seconds, 2),
                      "ok": s.ok}
                  for k, s in measure.steps.items()},
    }


# ------------------------------------------------------------------------------------ comparisons

def warehouse_counts(path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in ("results", "leaderboard", "models", "papers", "benchmarks", "model_strengths", "quarantine",
                      "sota_history", "result_conflicts", "model_ambiguities"):
            try:
                out[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            except duckdb.Error:
                out[table] = None
        out["leaderboards"] = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT benchmark_id, metric, split, setting FROM leaderboard)").fetchone()[0]
        out["largest_leaderboard"] = con.execute(
            "SELECT max(n_models) FROM leaderboard").fetchone()[0]
        out["verified_results"] = con.execute("SELECT count(*) FROM results WHERE verified").fetchone()[0]
        out["sources"] = dict(con.execute("SELECT source, count(*) FROM results GROUP BY 1 ORDER BY 1").fetchall())
        out["source_requests"] = dict(con.execute(
            "SELECT source, requests FROM raw.source_runs QUALIFY row_number() OVER "
            "(PARTITION BY source ORDER BY finished_at DESC) = 1 ORDER BY 1").fetchall())
        return out
    finally:
        con.close()


def floor(path: Path, repeat: int = 3) -> dict:
    """One scan-and-aggregate over results: the least any ranking of them can cost."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        times = []
        for _ in range(repeat):
            t0 = time.monotonic()
            rows = con.execute("SELECT benchmark_id, metric, count(*), max(value) FROM results GROUP BY ALL").fetchall()
            times.append(time.monotonic() - t0)
        return {"seconds": round(min(times), 3), "groups": len(rows)}
    finally:
        con.close()


def table_reading_floor(snapshot: Path) -> dict:
    """Reading every table JSON file once, as `benchmark_table_rows` reads a changed file (the typed
    pass of read_table_json_by_shape, TABLE_READERS files at once) but flattening and writing
    nothing: the least a run costs when every table file changed, however little changed inside."""
    import duckdb

    from assets.tables import TABLE_READERS, _read_table_json_by_shape
    from warehouse.database import WarehouseResource

    files = sorted(snapshot.glob("tables/*.json"), key=lambda f: f.stat().st_size, reverse=True)
    con = duckdb.connect()

    def read(path: Path) -> int:
        with con.cursor() as cursor:
            WarehouseResource.run_sql(cursor, "create_table_docs")
            if not _read_table_json_by_shape(cursor, WarehouseResource, path):
                raise ValueError(f"{path} is not of the usual Papers with Code shape")
            return cursor.execute("SELECT count(*) FROM table_row_docs").fetchall()[0][0]

    try:
        WarehouseResource.run_sql(con, "create_macros")
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=TABLE_READERS) as pool:
            rows = sum(pool.map(read, files))
        # rows: the table rows of the tasks' own datasets (those of subtasks and subdatasets stay JSON)
        return {"seconds": round(time.monotonic() - t0, 2), "files": len(files), "rows": rows}
    finally:
        con.close()


def pandas_equivalent(path: Path) -> dict:
    """Verification flags, leaderboard ranks (all, verified, without extra data) and model strengths
    with pandas group-bys on the results table pulled out of the warehouse, as a user might."""
    import duckdb
    import numpy as np
    import pandas as pd

    reset_peak()
    t0 = time.monotonic()
    con = duckdb.connect(str(path), read_only=True)
    try:
        res = con.sql("SELECT * FROM results").df()
        metrics = con.sql("SELECT metric, direction FROM metrics").df()
        papers = con.sql("SELECT arxiv_id, status, withdrawn, published FROM papers").df()
        models = con.sql("SELECT model_id, arxiv_ids FROM models").df()
        benchmarks = con.sql("SELECT benchmark_id, area FROM benchmarks").df()
        sql_lb = con.execute("SELECT count(*) AS n, count(*) FILTER (WHERE is_sota) AS sota, "
                         "count(verified_rank) AS vr, count(rank_without_extra_data) AS xr FROM leaderboard").fetchone()
        sql_strengths = con.execute("SELECT count(*) FROM model_strengths").fetchone()[0]
        sql_verified = con.execute("SELECT count(*) FROM results WHERE verified").fetchone()[0]
    finally:
        con.close()
    pulled = time.monotonic() - t0

    t1 = time.monotonic()
    key = ["model_id", "benchmark_id", "metric", "split", "setting"]
    r = res[["result_id", *key, "value", "source", "source_file", "source_precedence", "arxiv_id", "result_date",
             "hub_verified", "uses_additional_data"]].copy()
    r["split"] = r["split"].fillna("")
    r["source_file"] = r["source_file"].fillna("")
    # corroborated / conflict: every other source reporting the same model, benchmark, metric, split, setting
    pairs = r.merge(r[[*key, "value", "source", "source_file", "source_precedence"]], on=key, suffixes=("", "_b"))
    pairs = pairs[(pairs["source"] != pairs["source_b"]) | (pairs["source_file"] != pairs["source_file_b"])]
    diff = (pairs["value"] - pairs["value_b"]).abs()
    tol = np.maximum(0.1, 0.001 * pairs["value"].abs())
    pairs = pairs.assign(corroborated=diff <= tol, conflict=(diff > tol) & (pairs["source_precedence_b"] <= pairs["source_precedence"]))
    flags = pairs.groupby("result_id")[["corroborated", "conflict"]].any().reset_index()
    r = r.merge(flags, on="result_id", how="left")
    r[["corroborated", "conflict"]] = r[["corroborated", "conflict"]].fillna(False).astype(bool)
    # paper confirmed, and the model cites the paper
    p = papers[(papers["status"] == "found") & ~papers["withdrawn"].fillna(False).astype(bool)]
    r = r.merge(p[["arxiv_id", "published"]], on="arxiv_id", how="left")
    r["paper_ok"] = pd.to_datetime(r["published"]).dt.normalize() <= pd.to_datetime(r["result_date"])
    links = models.explode("arxiv_ids").dropna(subset=["arxiv_ids"])
    links = links.rename(columns={"arxiv_ids": "arxiv_id"}).drop_duplicates().assign(linked=True)
    r = r.merge(links, on=["model_id", "arxiv_id"], how="left")
    r["linked"] = r["linked"].fillna(False).astype(bool)
    r["verified"] = (r["hub_verified"] | r["corroborated"] | (r["paper_ok"] & r["linked"])) & ~r["conflict"]
    # ranks
    r = r.merge(metrics, on="metric", how="left")
    rankable = r[r["direction"].isin(["higher", "lower"]) & r["value"].notna() & r["benchmark_id"].notna()].copy()
    rankable["goodness"] = np.where(rankable["direction"] == "higher", rankable["value"], -rankable["value"])
    board = ["benchmark_id", "metric", "split", "setting"]

    def ranked(frame: pd.DataFrame) -> pd.DataFrame:
        best = frame.sort_values(["goodness", "result_date", "result_id"], ascending=[False, True, True],
                                 na_position="last").drop_duplicates([*board, "model_id"])
        best = best.assign(rank=best.groupby(board)["goodness"].rank(method="min", ascending=False),
                           n_models=best.groupby(board)["goodness"].transform("size"))
        return best

    lb = ranked(rankable)
    verified = ranked(rankable[rankable["verified"]])[[*board, "model_id", "rank", "n_models"]]
    no_extra = ranked(rankable[~rankable["uses_additional_data"]])[[*board, "model_id", "rank", "n_models"]]
    lb = lb.merge(verified, on=[*board, "model_id"], how="left", suffixes=("", "_verified"))
    lb = lb.merge(no_extra, on=[*board, "model_id"], how="left", suffixes=("", "_without_extra"))
    lb["is_sota"] = lb["rank"] == 1
    # strengths
    per_benchmark = lb.groupby(["model_id", "benchmark_id"]).agg(best_rank=("rank", "min"), is_sota=("is_sota", "any"))
    strengths = (per_benchmark.reset_index().merge(benchmarks, on="benchmark_id")
                 .groupby(["model_id", "area"]).agg(n_benchmarks=("best_rank", "size"), avg_rank=("best_rank", "mean"),
                                                   n_sota=("is_sota", "sum")))
    computed = time.monotonic() - t1
    agrees = {
        "leaderboard_rows": (len(lb), sql_lb[0]), "sota_rows": (int(lb["is_sota"].sum()), sql_lb[1]),
        "verified_ranked_rows": (int(lb["rank_verified"].notna().sum()), sql_lb[2]),
        "ranked_without_extra_rows": (int(lb["rank_without_extra"].notna().sum()), sql_lb[3]),
        "strengths_rows": (len(strengths), sql_strengths), "verified_results": (int(r["verified"].sum()), sql_verified),
    }
    return {"pull_seconds": round(pulled, 2), "compute_seconds": round(computed, 2),
            "seconds": round(pulled + computed, 2), "peak_rss_mib": round(_status("VmHWM") / 2**20),
            "matches_warehouse": {k: {"pandas": int(a), "warehouse": int(b), "same": int(a) == int(b)}
                                  for k, (a, b) in agrees.items()}}


SAME_WORK_SQL = """
CREATE TEMP TABLE flagged AS
WITH r AS (
    SELECT result_id, model_id, benchmark_id, metric, coalesce(split, '') AS split, setting, value, source,
           coalesce(source_file, '') AS source_file, source_precedence, arxiv_id, result_date, hub_verified,
           uses_additional_data
    FROM results
), pairs AS (
    SELECT a.result_id,
           bool_or(abs(a.value - b.value) <= greatest(0.1, 0.001 * abs(a.value))) AS corroborated,
           bool_or(abs(a.value - b.value) > greatest(0.1, 0.001 * abs(a.value))
                   AND b.source_precedence <= a.source_precedence) AS conflict
    FROM r AS a JOIN r AS b USING (model_id, benchmark_id, metric, split, setting)
    WHERE (a.source, a.source_file) <> (b.source, b.source_file)
    GROUP BY a.result_id
), confirmed AS (
    SELECT arxiv_id, published::DATE AS published FROM papers WHERE status = 'found' AND NOT coalesce(withdrawn, false)
), links AS (
    SELECT DISTINCT model_id, unnest(arxiv_ids) AS arxiv_id FROM models
)
SELECT r.*, (r.hub_verified OR coalesce(p.corroborated, false)
             OR coalesce(c.published <= r.result_date AND l.model_id IS NOT NULL, false))
            AND NOT coalesce(p.conflict, false) AS verified
FROM r LEFT JOIN pairs AS p USING (result_id) LEFT JOIN confirmed AS c USING (arxiv_id)
LEFT JOIN links AS l USING (model_id, arxiv_id);

CREATE TEMP TABLE ranked AS
-- as leaderboard.sql ranks: each model's best values (all, verified, without extra data) in one
-- grouping over numbered boards, then one window pass; a rank needs only the best value
WITH rankable AS (
    SELECT f.model_id, f.benchmark_id, f.metric, f.split, f.setting, f.verified, f.uses_additional_data,
           CASE m.direction WHEN 'higher' THEN f.value ELSE -f.value END AS goodness
    FROM flagged AS f JOIN metrics AS m USING (metric)
    WHERE m.direction IN ('higher', 'lower') AND f.value IS NOT NULL AND f.benchmark_id IS NOT NULL
), boards AS MATERIALIZED (
    SELECT row_number() OVER () AS board, *
    FROM (SELECT DISTINCT benchmark_id, metric, split, setting FROM rankable)
), best AS (
    SELECT board, model_id, max(goodness) AS goodness,
           max(goodness) FILTER (WHERE verified) AS verified_goodness,
           max(goodness) FILTER (WHERE NOT uses_additional_data) AS plain_goodness
    FROM rankable JOIN boards USING (benchmark_id, metric, split, setting)
    GROUP BY board, model_id
)
SELECT l.benchmark_id, b.model_id, rank() OVER (board ORDER BY goodness DESC) AS rank,
       CASE WHEN verified_goodness IS NOT NULL
            THEN rank() OVER (board ORDER BY verified_goodness DESC NULLS LAST) END AS verified_rank,
       CASE WHEN plain_goodness IS NOT NULL
            THEN rank() OVER (board ORDER BY plain_goodness DESC NULLS LAST) END AS rank_without_extra_data
FROM best AS b JOIN boards AS l USING (board)
WINDOW board AS (PARTITION BY board);

CREATE TEMP TABLE strengths AS
SELECT p.model_id, b.area, count(*) AS n_benchmarks, avg(p.best_rank) AS avg_rank,
       count(*) FILTER (WHERE p.is_sota) AS n_sota
FROM (SELECT model_id, benchmark_id, min(rank) AS best_rank, bool_or(rank = 1) AS is_sota
      FROM ranked GROUP BY ALL) AS p
JOIN benchmarks AS b USING (benchmark_id)
GROUP BY ALL;
"""


def duckdb_equivalent(path: Path) -> dict:
    """What `pandas_equivalent` computes (verification flags, the three rankings, strengths), in
    DuckDB SQL on the results table where it lies, checked against the warehouse the same way."""
    import duckdb

    reset_peak()
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET enable_progress_bar = false")
        t0 = time.monotonic()
        con.execute(SAME_WORK_SQL)
        seconds = time.monotonic() - t0
        ours = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE rank = 1), count(verified_rank), count(rank_without_extra_data), "
            "(SELECT count(*) FROM strengths), (SELECT count(*) FROM flagged WHERE verified) FROM ranked").fetchone()
        theirs = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_sota), count(verified_rank), count(rank_without_extra_data), "
            "(SELECT count(*) FROM model_strengths), (SELECT count(*) FROM results WHERE verified) FROM leaderboard"
        ).fetchone()
    finally:
        con.close()
    names = ("leaderboard_rows", "sota_rows", "verified_ranked_rows", "ranked_without_extra_rows", "strengths_rows",
             "verified_results")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(_status("VmHWM") / 2**20),
            "matches_warehouse": {k: {"duckdb": int(a), "warehouse": int(b), "same": int(a) == int(b)}
                                  for k, a, b in zip(names, ours, theirs)}}


def in_child(function, *args):
    """function(*args) in a fresh process (spawned: it starts with nothing of this one's memory)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def median_run(runs: list[dict]) -> dict:
    """The run of median time among `runs` (each in a process of its own), with every run's time."""
    middle = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {**middle, "runs_seconds": [run["seconds"] for run in runs]}


def snapshot_inventory(root: Path) -> dict:
    out = {}
    for label, pattern in (("tables_json", "tables/*.json"), ("tables_csv", "tables/*.csv"),
                           ("hub_models", "hub/models/*/*.json"), ("hub_cards", "hub/cards/*/*/README.md"),
                           ("hub_leaderboards", "hub/leaderboards/*/*.json"), ("arxiv_feeds", "arxiv/*.xml")):
        files = list(root.glob(pattern))
        out[label] = {"files": len(files), "mib": round(sum(f.stat().st_size for f in files) / 2**20, 1)}
    return out


# ------------------------------------------------------------------------------------ change footprint

FOOTPRINT_COLUMNS = "result_id, model_id, benchmark_id, metric, split, setting, value, verified"


def export_leaderboard_keys(path: Path, target: Path) -> None:
    """The results' leaderboard keys and values before the change, to compare with after it."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(f"COPY (SELECT {FOOTPRINT_COLUMNS} FROM results) TO '{target}' (FORMAT parquet)")
    finally:
        con.close()


def change_footprint(path: Path, before: Path) -> dict:
    """What the 1% change touched downstream: results added, removed or changed, and the share of
    leaderboards (and of their rows) and of models holding one of them, which a core that
    recomputes only what changed would have to recompute: ranks of a whole leaderboard move when
    one of its values does."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(f"CREATE TEMP TABLE old AS SELECT * FROM read_parquet('{before}')")
        con.execute(f"CREATE TEMP TABLE new AS SELECT {FOOTPRINT_COLUMNS} FROM results")
        con.execute("""
            CREATE TEMP TABLE touched AS
            WITH diff AS (
                SELECT coalesce(n.result_id, o.result_id) AS result_id,
                       CASE WHEN o.result_id IS NULL THEN 'added' WHEN n.result_id IS NULL THEN 'removed'
                            ELSE 'changed' END AS how, o, n
                FROM old AS o FULL JOIN new AS n USING (result_id)
                WHERE o IS DISTINCT FROM n)
            SELECT result_id, how, o.model_id, o.benchmark_id, o.metric, o.split, o.setting FROM diff WHERE o IS NOT NULL
            UNION ALL
            SELECT result_id, how, n.model_id, n.benchmark_id, n.metric, n.split, n.setting FROM diff WHERE n IS NOT NULL""")
        changes = dict(con.execute("SELECT how, count(DISTINCT result_id) FROM touched GROUP BY 1 ORDER BY 1").fetchall())
        boards = con.execute("""
            WITH boards AS (SELECT benchmark_id, metric, split, setting, count(*) AS n FROM leaderboard GROUP BY ALL),
            hit AS (SELECT DISTINCT benchmark_id, metric, coalesce(split, '') AS split, setting FROM touched
                    WHERE benchmark_id IS NOT NULL)     -- the leaderboard writes no split as ''
            SELECT count(*), count(h.metric), sum(n), sum(n) FILTER (WHERE h.metric IS NOT NULL)
            FROM boards AS b LEFT JOIN hit AS h
              ON (h.benchmark_id, h.metric, h.split, h.setting) IS NOT DISTINCT FROM
                 (b.benchmark_id, b.metric, b.split, b.setting)""").fetchone()
        models = con.execute("""
            SELECT count(*), count(*) FILTER (WHERE model_id IN (SELECT model_id FROM touched)) FROM models""").fetchone()
        return {"results_before": con.execute("SELECT count(*) FROM old").fetchone()[0], **changes,
                "leaderboards": boards[0], "leaderboards_touched": boards[1],
                "leaderboard_rows": int(boards[2] or 0), "leaderboard_rows_in_touched": int(boards[3] or 0),
                "leaderboard_rows_share_touched": round((boards[3] or 0) / max(boards[2] or 0, 1), 3),
                "models": models[0], "models_touched": models[1]}
    finally:
        con.close()


# ------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True, help="a snapshot made by bench.generate")
    parser.add_argument("--state", type=Path, help="working directory for the run (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-change", action="store_true", help="skip the 1%% change and the incremental run")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison")
    parser.add_argument("--lake", metavar="CATALOG",
                        help="also publish into a DuckLake on this catalog (postgres:dbname=… host=…, or a file), "
                             "after the full and the incremental run, and compare with the file publish")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the pandas and DuckDB comparisons, taken in turn; the median is reported")
    args = parser.parse_args(argv)

    snapshot = args.snapshot.absolute()
    state = (args.state or Path(tempfile.mkdtemp(prefix="sotaboard-bench-"))).absolute()
    if state.exists():
        shutil.rmtree(state)
    state.mkdir(parents=True)
    os.environ.update({
        "SOTABOARD_SOURCE": "snapshot", "SOTABOARD_SNAPSHOT": str(snapshot),
        "SOTABOARD_WAREHOUSE": str(state / "sotaboard.duckdb"), "SOTABOARD_STATE_DIR": str(state / ".state"),
        "DAGSTER_HOME": str(state / "dagster_home"), "DAGSTER_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(state / "hf_home"),
    })
    (state / "dagster_home").mkdir()
    (state / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    from pipelines.settings import Settings

    settings = Settings.from_env()
    report: dict = {"snapshot": str(snapshot), "inventory": snapshot_inventory(snapshot)}
    manifest = snapshot / "BENCH_MANIFEST.json"
    if manifest.is_file():
        report["generator"] = json.loads(manifest.read_text())

    report["full"] = run_job(settings, "full run")
    published = settings.warehouse_path
    work = settings.state_dir / "work.duckdb"
    if args.lake:
        report["lake_full"] = lake_publish(settings, args.lake, state / "lake_data")
        print(f"lake publish, full: {json.dumps(report['lake_full'])}", flush=True)
    report["counts"] = warehouse_counts(work)
    report["floor"] = floor(work)
    print(f"floor: {report['floor']}", flush=True)
    if not args.no_pandas:
        # the machine's speed drifts between minutes: the two comparisons take turns, the median counts
        runs = [(in_child(pandas_equivalent, work), in_child(duckdb_equivalent, work)) for _ in range(args.repeat)]
        report["pandas"] = median_run([pandas for pandas, _ in runs])
        print(f"pandas: {json.dumps(report['pandas'])}", flush=True)
        report["duckdb_same_work"] = median_run([same for _, same in runs])
        print(f"duckdb, same work: {json.dumps(report['duckdb_same_work'])}", flush=True)
    if not args.no_change:
        t0 = time.monotonic()
        change = subprocess.run([sys.executable, "-m", "bench.generate", str(snapshot), "--change"],
                                capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
        report["change"] = {"generator_seconds": round(time.monotonic() - t0, 1),
                            **json.loads(change.stdout.strip().splitlines()[-1])}
        before = state / "results_before_change.parquet"
        export_leaderboard_keys(work, before)
        report["incremental"] = run_job(settings, "incremental run (1% changed upstream)")
        report["table_reading_floor"] = table_reading_floor(snapshot)
        print(f"table reading floor: {report['table_reading_floor']}", flush=True)
        if args.lake:
            report["lake_incremental"] = lake_publish(settings, args.lake, state / "lake_data")
            print(f"lake publish, incremental: {json.dumps(report['lake_incremental'])}", flush=True)
        report["counts_after_change"] = warehouse_counts(work)
        report["change_footprint"] = change_footprint(work, before)
        print(f"change footprint: {json.dumps(report['change_footprint'])}", flush=True)
    report["published_mib"] = round(published.stat().st_size / 2**20, 1) if published.exists() else None
    report["working_db_mib"] = round(work.stat().st_size / 2**20, 1)
    report["summary"] = summarise(report)
    print(format_summary(report), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0 if report["full"]["success"] else 1


def lake_publish(settings, catalog: str, data: Path) -> dict:
    """The working database published into the DuckLake `ducklake:<catalog>` (data files in `data`):
    seconds, data files written and tables changed."""
    from assets.publish import PUBLISHED_TABLES, PUBLISHED_VIEW_SQL
    from warehouse.database import WarehouseResource

    warehouse = WarehouseResource(path=f"ducklake:{catalog}", state_dir=str(settings.state_dir), lake_data=str(data))
    started = time.monotonic()
    published = warehouse.publish(PUBLISHED_TABLES, PUBLISHED_VIEW_SQL)
    return {"seconds": round(time.monotonic() - started, 2),
            "data_files_written": published["data_files_written"].value,
            "data_mib": round(sum(f.stat().st_size for f in data.rglob("*.parquet")) / 2**20, 1),
            "tables_changed": len(published["tables_changed"].value)}


def summarise(report: dict) -> dict:
    full = report["full"]["groups"]
    core_analytics = full["core"]["seconds"] + full["analytics"]["seconds"]
    steps = report["full"]["steps"]
    like_for_like = sum(steps.get(k, {}).get("seconds", 0) for k in ("results", "leaderboard", "model_strengths"))
    s = {"core_analytics_seconds": round(core_analytics, 2),
         "floor_seconds": report["floor"]["seconds"],
         "core_analytics_over_floor": round(core_analytics / max(report["floor"]["seconds"], 1e-9), 1),
         "peak_rss_mib": max(g["peak_rss_mib"] for g in full.values())}
    if "pandas" in report:
        s["pandas_seconds"] = report["pandas"]["seconds"]
        s["pandas_over_core_analytics"] = round(report["pandas"]["seconds"] / core_analytics, 2)
        s["results_leaderboard_strengths_seconds"] = round(like_for_like, 2)
        s["pandas_over_results_leaderboard_strengths"] = round(report["pandas"]["seconds"] / like_for_like, 2)
        s["pandas_peak_rss_mib"] = report["pandas"]["peak_rss_mib"]
        same = report["duckdb_same_work"]["seconds"]
        s["duckdb_same_work_seconds"] = same
        s["pandas_over_duckdb_same_work"] = round(report["pandas"]["seconds"] / same, 1)
        s["pandas_compute_over_duckdb_same_work"] = round(report["pandas"]["compute_seconds"] / same, 1)
        s["duckdb_same_work_over_floor"] = round(same / max(report["floor"]["seconds"], 1e-9), 1)
    for run, lake in (("full", "lake_full"), ("incremental", "lake_incremental")):
        if lake in report:
            s.setdefault("lake_publish", {})[run] = {
                "file_publish_seconds": report[run]["groups"]["publish"]["seconds"],
                "lake_publish_seconds": report[lake]["seconds"],
                "lake_data_files_written": report[lake]["data_files_written"],
                "lake_data_mib_after": report[lake]["data_mib"]}
    if "incremental" in report:
        inc = report["incremental"]["groups"]
        s["incremental_over_full_time"] = round(report["incremental"]["wall_seconds"] / report["full"]["wall_seconds"], 3)
        s["incremental_over_full_time_by_group"] = {
            g: round(inc[g]["seconds"] / full[g]["seconds"], 3) if full[g]["seconds"] else None for g in GROUPS}
        s["incremental_over_full_ingest_bytes_read"] = round(
            inc["ingest"]["bytes_read_mib"] / max(full["ingest"]["bytes_read_mib"], 1e-9), 3)
        # the least the run after the change could cost if core, analytics and checks cost nothing and
        # the table files were only read: the other ingest steps (already incremental) and publish
        # (a new file for the atomic swap) as measured, and the table reading floor
        other_ingest = sum(step["seconds"] for name, step in report["incremental"]["steps"].items()
                           if step["group"] == "ingest" and name != "benchmark_table_rows")
        bound = report["table_reading_floor"]["seconds"] + other_ingest + inc["publish"]["seconds"]
        s["incremental_lower_bound_seconds"] = round(bound, 2)
        s["incremental_lower_bound_over_full_time"] = round(bound / report["full"]["wall_seconds"], 3)
    return s


def format_summary(report: dict) -> str:
    lines = ["", "group       full s    cpu s   peak MiB   read MiB"
             + ("   incr s    cpu s   peak MiB   read MiB" if "incremental" in report else "")]
    for g in GROUPS:
        f = report["full"]["groups"][g]
        line = f"{g:10} {f['seconds']:7.1f} {f['cpu_seconds']:8.1f} {f['peak_rss_mib']:10} {f['bytes_read_mib']:10.1f}"
        if "incremental" in report:
            i = report["incremental"]["groups"][g]
            line += f" {i['seconds']:8.1f} {i['cpu_seconds']:8.1f} {i['peak_rss_mib']:10} {i['bytes_read_mib']:10.1f}"
        lines.append(line)
    lines.append(f"{'wall':10} {report['full']['wall_seconds']:7.1f}" + (
        f" {'':30} {report['incremental']['wall_seconds']:8.1f}" if "incremental" in report else ""))
    lines.append(json.dumps(report["summary"], indent=1))
    lines.append("counts: " + json.dumps(report["counts"]))
    if report["full"]["failed_checks"]:
        lines.append("failed checks: " + ", ".join(report["full"]["failed_checks"]))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
