"""`sotaboard`: run the nightly job headless, print a model's page or render the static site from the
published warehouse, or open the Dagster UI.

Every flag has an environment variable (pipelines/settings.py lists them); a flag wins.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.settings import SOURCES, Settings
from warehouse import LAKE_PREFIX

if TYPE_CHECKING:
    # Dagster and the assets are imported by the command that uses them (`run`), not at start:
    # `sotaboard model` and `sotaboard site` read the published file with DuckDB alone, and importing
    # Dagster would cost each of them over a second of CPU.
    import dagster as dg

STEP_EVENTS = {"STEP_START": "start", "STEP_SUCCESS": "success", "STEP_FAILURE": "failed", "STEP_SKIPPED": "skipped"}
# how Dagster's in-process executor says it skips a step whose upstream failed (a warning, not an event)
SKIPPED_STEP = re.compile(r"Dependencies for step (\S+) .*Not executing")
PROJECT = Path(__file__).resolve().parent.parent
INSTANCE_CONFIG = Path(__file__).resolve().parent / "dagster.yaml"
# Dagster 1.13 marks `dagster dev` superseded by `dg dev`, which needs the dagster-dg-cli package
# (not released for this Dagster version) and a dg project layout; `dagster dev` is still the
# command that serves a workspace.yaml, so its supersession notice is silenced by its message.
DEV_SUPERSESSION_FILTER = "ignore:Function `dev_command` is superseded:Warning"


def _flag_environment(args: argparse.Namespace) -> dict[str, str]:
    """The settings the flags give, as the environment variables they stand for (a flag wins)."""
    given: dict[str, str] = {}
    for flag, variable in (("source", "SOTABOARD_SOURCE"), ("snapshot", "SOTABOARD_SNAPSHOT"),
                           ("warehouse", "SOTABOARD_WAREHOUSE"), ("lake_data", "SOTABOARD_LAKE_DATA")):
        value = getattr(args, flag, None)
        if value:
            # a `ducklake:<catalog>` target is a connection string, not a path (settings resolves its file)
            keep = flag == "source" or (flag == "warehouse" and value.startswith(LAKE_PREFIX))
            given[variable] = value if keep else str(Path(value).absolute())
    if getattr(args, "publish_anyway", False):
        given["SOTABOARD_PUBLISH_ANYWAY"] = "1"
    return given


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of a command run in this process: the environment, then its flags."""
    return Settings.from_env({**os.environ, **_flag_environment(args)})


def _use_dagster_home() -> None:
    """DAGSTER_HOME (default `.dagster_home/` in the working directory), with sotaboard's instance
    configuration (`pipelines/dagster.yaml`) unless it has its own."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").absolute())))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")


def progress_logger(_context: dg.InitLoggerContext) -> logging.Logger:
    """The `progress` logger of `sotaboard run`."""
    import dagster as dg

    started = time.monotonic()
    check_outcomes: dict[str, str] = {}  # step key -> "failed" or "warning", for checks that did not pass

    class Progress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            clock = f"{time.monotonic() - started:6.1f}s"
            if event is None:
                if skipped := SKIPPED_STEP.search(record.getMessage()):
                    print(f"{clock} {'skipped':8} {skipped.group(1)}", flush=True)
                elif record.levelno >= logging.WARNING:
                    print(f"  ! {record.getMessage().splitlines()[-1][:200]}", file=sys.stderr, flush=True)
                return
            kind = event.event_type_value
            if kind == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
                blocking = event.event_specific_data.severity == dg.AssetCheckSeverity.ERROR
                if blocking or event.step_key not in check_outcomes:
                    check_outcomes[event.step_key] = "failed" if blocking else "warning"
            elif kind in STEP_EVENTS:
                # a check step that ran to the end but found violations is shown as the check's outcome
                outcome = STEP_EVENTS[kind]
                if kind == "STEP_SUCCESS":
                    outcome = check_outcomes.get(event.step_key, outcome)
                print(f"{clock} {outcome:8} {event.step_key}", flush=True)
                if kind == "STEP_FAILURE" and event.event_specific_data.error:
                    print(f"         {_error_line(event.event_specific_data.error)}", flush=True)

    log = logging.Logger("sotaboard.progress", level=logging.DEBUG)  # step events are logged at DEBUG
    log.addHandler(Progress())
    return log


def _error_line(error) -> str:
    """The first line of the error a step raised, under Dagster's wrapping."""
    while error.cause and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause
    return f"{error.cls_name}: {error.message.strip().splitlines()[0][:300]}"


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _use_dagster_home()
    import dagster as dg

    from pipelines.definitions import build_definitions
    from warehouse.database import RunInProgress, exclusive_run

    defs = build_definitions(settings)
    progress = dg.LoggerDefinition(progress_logger, description="One line per step and check, for the terminal.")
    job = defs.resolve_job_def("nightly").with_logger_defs({"progress": progress})
    try:
        with exclusive_run(settings.state_dir):
            print(f"sotaboard: nightly job, source={settings.source}, snapshot={settings.snapshot_dir}", flush=True)
            result = job.execute_in_process(
                instance=dg.DagsterInstance.get(),
                raise_on_error=False,
                run_config={"loggers": {"progress": {}}},
            )
    except RunInProgress as busy:
        print(f"sotaboard run refused: {busy}", file=sys.stderr)
        return 3
    except OSError as unusable:  # the state directory cannot be made or locked
        print(f"sotaboard run failed: the state directory {settings.state_dir} cannot be used "
              f"({type(unusable).__name__}: {unusable.strerror or unusable}); nothing was published", file=sys.stderr)
        return 1
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed_checks = [c.check_name for c in evaluations
                     if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    warned_checks = [c.check_name for c in evaluations
                     if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
    # a check step whose blocking checks found violations fails with Dagster's DagsterAssetCheckFailedError:
    # that is a failed check (exit 2, listed above), not a failed step
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"
                and getattr(e.event_specific_data.error, "cls_name", None) != "DagsterAssetCheckFailedError"]
    published_now = any(
        e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == dg.AssetKey("published_warehouse")
        for e in result.all_events
    )
    published = settings.warehouse_target
    if published_now and settings.lake_catalog:
        _print_lake_summary(result)
    elif published_now:
        _print_summary(settings.warehouse_path)
    lacking = sorted({part for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
                      for part in getattr(e.materialization.metadata.get("snapshot_lacks"), "value", None) or []})
    if lacking:
        print(f"snapshot lacks: {', '.join(lacking)}")
    outages = _print_fetches(result)
    if warned_checks:
        print(f"checks warned (not blocking): {', '.join(warned_checks)}")
    if failed_checks:
        print(f"checks failed: {', '.join(failed_checks)}")
    if settings.lake_catalog:
        kept = f"the lake {published} was left at its last snapshot"
    elif settings.warehouse_path.exists():
        kept = f"the published warehouse {published} was left as it was"
    else:
        kept = f"no warehouse is published at {published} yet"
    if not published_now and outages and not settings.publish_anyway:
        by_reason: dict[str, list[str]] = {}
        for source, outage in sorted(outages.items()):
            by_reason.setdefault(outage, []).append(source)
        down = "; ".join(f"{', '.join(sources)}: {outage}" for outage, sources in by_reason.items())
        print(f"sotaboard run failed: {down}; nothing was published, {kept} (--publish-anyway publishes the "
              f"last known data, marked stale)", file=sys.stderr)
        return 3
    if failures:
        for failure in failures:
            error = failure.event_specific_data.error
            print(f"step {failure.step_key} failed" + (f": {_error_line(error)}" if error else ""),
                  file=sys.stderr)
        outcome = (f"the warehouse {published} was published before it" if published_now
                   else f"so nothing was published; {kept}")
        print(f"sotaboard run failed: step(s) {', '.join(f.step_key for f in failures)} failed, "
              f"{outcome}", file=sys.stderr)
        return 1
    if not published_now:
        print(f"sotaboard run failed: blocking check(s) {', '.join(failed_checks) or '(none)'} failed, so nothing "
              f"was published; {kept}", file=sys.stderr)
        return 2
    if outages:
        print(f"published anyway: {', '.join(outages)} failed wholesale; their last known data is published, "
              f"marked stale (entity_freshness)")
    print(f"published {published}")
    return 0


def _print_fetches(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """One line per source that fetched tonight: its fetches and failures (by reason) and, when it
    failed wholesale, why. Returns those sources' outage reasons."""
    outages: dict[str, str] = {}
    lines = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        meta = {key: getattr(value, "value", value) for key, value in event.materialization.metadata.items()}
        if not meta.get("fetches"):
            continue
        source, failed = meta["source"], meta.get("fetch_failures", 0)
        reasons = ", ".join(f"{reason} {n}" for reason, n in (meta.get("quarantine_reasons") or {}).items())
        line = f"  {source}: {meta['fetches']} fetches, {failed} failed" + (f" (quarantined: {reasons})" if failed else "")
        if meta.get("outage"):
            outages[source] = meta["outage"]
            line += f"; down: {meta['outage']}"
        lines.append(line)
    if lines:
        print("fetched:\n" + "\n".join(lines))
    return outages


def _print_lake_summary(result: dg.ExecuteInProcessResult) -> None:
    """What the publish wrote into the lake: its snapshot, the tables it changed, its data files."""
    import dagster as dg

    meta = next({key: getattr(value, "value", value) for key, value in e.materialization.metadata.items()}
                for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
                and e.asset_key == dg.AssetKey("published_warehouse"))
    changed = meta["tables_changed"]
    print(f"lake snapshot {meta['snapshot_id']}: "
          + (", ".join(f"{table} {what}" for table, what in changed.items()) or "no table changed")
          + f"; {meta['data_files_written']} data files written")


def _print_summary(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        counts = con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name"
        ).fetchall()
        exact = {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0] for name, _ in counts}
        quarantined = con.execute("SELECT source, count(*) FROM quarantine GROUP BY 1 ORDER BY 1").fetchall()
    finally:
        con.close()
    print("rows: " + ", ".join(f"{name} {n}" for name, n in exact.items()))
    print("quarantined: " + (", ".join(f"{source} {n}" for source, n in quarantined) or "none"))


def model(args: argparse.Namespace) -> int:
    from assets.pages.model_page import (
        AmbiguousModel,
        ModelNotFound,
        WarehouseMissing,
        load_model_page,
        render_model_page,
    )

    settings = _settings(args)
    if settings.lake_catalog:
        print("sotaboard model: reads a published DuckDB file, not a lake: give --warehouse FILE", file=sys.stderr)
        return 1
    try:
        page = load_model_page(settings.warehouse_path, args.model_id)
    except (ModelNotFound, WarehouseMissing) as exc:
        print(f"sotaboard model: {exc}", file=sys.stderr)
        return 1
    except AmbiguousModel as exc:
        # the candidates are the answer, on stdout; the exit code says no page was printed
        if args.json:
            print(json.dumps({"error": "ambiguous model name", "name": exc.name, "candidates": exc.candidates},
                             indent=2))
        else:
            print(f"{exc.name!r} names {len(exc.candidates)} models; ask for one of them by its id:")
            for candidate in exc.candidates:
                print(f"  {candidate['model_id']}  {candidate['display_name']}  ({candidate['matched_by']})")
        print(f"sotaboard model: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(page, indent=2, default=str) if args.json else render_model_page(page))
    return 0


def site(args: argparse.Namespace) -> int:
    from assets.pages.model_page import WarehouseMissing
    from assets.pages.site import build_site

    settings = _settings(args)
    out = Path(args.out).absolute() if args.out else settings.site_dir
    if out is None:
        print("sotaboard site: say where with --out DIR (or SOTABOARD_SITE_DIR)", file=sys.stderr)
        return 1
    if settings.lake_catalog:
        print("sotaboard site: renders a published DuckDB file, not a lake: give --warehouse FILE", file=sys.stderr)
        return 1
    try:
        report = build_site(settings.warehouse_path, out)
    except WarehouseMissing as exc:
        print(f"sotaboard site: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def dev(args: argparse.Namespace) -> int:
    # `dagster dev` loads the code location in processes of its own: the flags reach them as the
    # environment variables they stand for
    os.environ.update(_flag_environment(args))
    _use_dagster_home()
    # the Dagster of sotaboard's own environment, whether or not that environment's bin is on PATH
    command = [sys.executable, "-W", DEV_SUPERSESSION_FILTER, "-m", "dagster", "dev",
               "-w", str(PROJECT / "workspace.yaml"), *args.dagster_args]
    os.execv(sys.executable, command)


SETTING_FLAGS = {
    "warehouse": ("FILE", "published DuckDB file (run and dev: or ducklake:<catalog>, a DuckLake whose catalog is "
                          "postgres:dbname=… host=… or a local catalog file); environment SOTABOARD_WAREHOUSE; "
                          "default warehouse/sotaboard.duckdb, relative to the working directory"),
    "lake-data": ("DIR", "the lake's data files when --warehouse is ducklake:<catalog>; environment "
                         "SOTABOARD_LAKE_DATA; default lake_data/ beside the state directory"),
    "source": (None, "where the sources are read: `snapshot` (files only) or `live` (the Hub and arXiv, "
                     "recorded into the state directory); environment SOTABOARD_SOURCE; default snapshot"),
    "snapshot": ("DIR", "snapshot directory; environment SOTABOARD_SNAPSHOT; default the bundled snapshot, "
                        "pipelines/snapshot/"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sotaboard",
        description="Run the nightly job headless, print a model's page or render the static site from the "
                    "published warehouse, or open the Dagster UI. Every flag has an environment variable; a flag wins.",
        epilog="Run history lives in DAGSTER_HOME (default .dagster_home/ in the working directory).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,model,site,dev}")

    def add_setting(sub: argparse.ArgumentParser, flag: str, ignored: bool = False) -> None:
        metavar, text = SETTING_FLAGS[flag]
        sub.add_argument(f"--{flag}", metavar=metavar, choices=SOURCES if flag == "source" else None,
                         help=argparse.SUPPRESS if ignored else text)

    runner = commands.add_parser(
        "run", help="run the nightly job now, headless",
        description="Run the nightly job (every asset and check) in this process on the snapshot or the "
                    "live sources, print one line per step and check, then a summary; publish the "
                    "warehouse when no blocking check failed. Exit status: 0 published, 1 a step failed, "
                    "2 a blocking check failed, 3 a source failed wholesale or another run holds the state "
                    "directory (the last published warehouse is then left untouched).")
    for flag in SETTING_FLAGS:
        add_setting(runner, flag)
    runner.add_argument("--publish-anyway", action="store_true",
                        help="publish the last known data, marked stale, although a source failed wholesale "
                             "(a host that never answered, or most of its fetches failing); environment "
                             "SOTABOARD_PUBLISH_ANYWAY=1; default off: such a run exits 3 and publishes nothing")
    runner.set_defaults(func=run)

    page = commands.add_parser(
        "model", help="print a model's page from the published warehouse",
        description="Print a model's page (card, benchmarks with rank, strengths by area, papers, "
                    "related models, sources and freshness) from the published warehouse.")
    page.add_argument("model_id", help="Hugging Face repo id or any alias of the model (xlm-roberta-large)")
    page.add_argument("--json", action="store_true", help="emit the page as JSON instead of text")
    add_setting(page, "warehouse")
    # accepted for compatibility with older scripts, and ignored: a page is read from the published file only
    add_setting(page, "source", ignored=True)
    add_setting(page, "snapshot", ignored=True)
    page.set_defaults(func=model)

    static = commands.add_parser(
        "site", help="render the static HTML site of the published warehouse",
        description="Render a static site (model, leaderboard, benchmark and area pages and a searchable "
                    "index) from the published warehouse into a folder; only pages whose content changed "
                    "are written again.")
    static.add_argument("--out", metavar="DIR",
                        help="output folder; environment SOTABOARD_SITE_DIR; no default: one of the two is needed")
    add_setting(static, "warehouse")
    static.set_defaults(func=site)

    # no -h here: dagster dev's own -h is its host
    ui = commands.add_parser(
        "dev", help="open the Dagster UI (dagster dev) on this code location", add_help=False,
        usage="sotaboard dev [--help] [--warehouse FILE] [--lake-data DIR] [--source {snapshot,live}] [--snapshot DIR] "
              "[dagster dev options]",
        description="Run `dagster dev -w workspace.yaml` from sotaboard's own environment, with the same "
                    "settings as `run`: the UI, the nightly schedule and the freshness sensor.",
        epilog="Every other argument goes to dagster dev: `-p 3001` (port, default 3000), "
               "`-h 0.0.0.0` (host, default 127.0.0.1).")
    ui.add_argument("--help", action="help", help="show this help message and exit")
    for flag in SETTING_FLAGS:
        add_setting(ui, flag)
    ui.set_defaults(func=dev)
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "dev":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.dagster_args = unknown
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"sotaboard: {exc}", file=sys.stderr)
        return 1
