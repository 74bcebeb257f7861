"""`sotaboard`: run the nightly job headless; print a model's page or render the static site of the warehouse.

Every flag has an environment variable (pipelines/settings.py lists them); a flag wins.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import dagster as dg

from pipelines.settings import SOURCES, Settings

STEP_EVENTS = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


def _apply_flags(args: argparse.Namespace) -> None:
    """Flags become the environment the code location reads, so `run` and `dagster dev` agree."""
    for flag, variable in (("source", "SOTABOARD_SOURCE"), ("snapshot", "SOTABOARD_SNAPSHOT"),
                           ("warehouse", "SOTABOARD_WAREHOUSE")):
        value = getattr(args, flag, None)
        if value:
            os.environ[variable] = str(Path(value).absolute()) if flag != "source" else value
    if getattr(args, "publish_anyway", False):
        os.environ["SOTABOARD_PUBLISH_ANYWAY"] = "1"
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").absolute())))
    home.mkdir(parents=True, exist_ok=True)


@dg.logger(description="One line per step and check, for the terminal.")
def progress_logger(_context: dg.InitLoggerContext) -> logging.Logger:
    started = time.monotonic()

    class Progress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            if event is None:
                # a step left out because an upstream step failed: that failure is printed already
                if record.levelno >= logging.WARNING and not record.getMessage().endswith("Not executing."):
                    print(f"  ! {record.getMessage().splitlines()[-1][:200]}", file=sys.stderr, flush=True)
                return
            kind = event.event_type_value
            clock = f"{time.monotonic() - started:6.1f}s"
            if kind in STEP_EVENTS:
                print(f"{clock} {kind.removeprefix('STEP_').lower():8} {event.step_key}", flush=True)
                if kind == "STEP_FAILURE" and event.event_specific_data.error:
                    error = event.event_specific_data.error
                    while error.cause and error.cls_name == "DagsterExecutionStepExecutionError":
                        error = error.cause
                    print(f"         {error.cls_name}: {error.message.strip().splitlines()[0][:300]}", flush=True)
            elif kind == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
                data = event.event_specific_data
                print(f"{clock} check failed: {data.asset_key.to_user_string()}.{data.check_name}", flush=True)

    log = logging.Logger("sotaboard.progress", level=logging.DEBUG)  # step events are logged at DEBUG
    log.addHandler(Progress())
    return log


def run(args: argparse.Namespace) -> int:
    _apply_flags(args)
    settings = Settings.from_env()
    from pipelines.definitions import build_definitions  # after the flags reached the environment

    from pipelines.resources import RunInProgress, exclusive_run

    defs = build_definitions(settings)
    job = defs.resolve_job_def("nightly").with_logger_defs({"progress": progress_logger})
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
    failed_checks = [
        f"{e.event_specific_data.asset_key.to_user_string()}.{e.event_specific_data.check_name}"
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    published_now = any(
        e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == dg.AssetKey("published_warehouse")
        for e in result.all_events
    )
    published = settings.warehouse_path
    if published.exists():
        _print_summary(published)
    lacking = sorted({part for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
                      for part in getattr(e.materialization.metadata.get("snapshot_lacks"), "value", None) or []})
    if lacking:
        print(f"snapshot lacks: {', '.join(lacking)}")
    outages = _print_fetches(result)
    if failed_checks:
        print(f"checks failed: {', '.join(failed_checks)}")
    if not published_now and outages and not settings.publish_anyway:
        by_reason: dict[str, list[str]] = {}
        for source, outage in sorted(outages.items()):
            by_reason.setdefault(outage, []).append(source)
        down = "; ".join(f"{', '.join(sources)}: {outage}" for outage, sources in by_reason.items())
        print(f"sotaboard run failed: {down}; nothing was published, "
              f"the published warehouse was left as it was (--publish-anyway publishes the last known data, "
              f"marked stale)", file=sys.stderr)
        return 3
    if failed_steps:
        outcome = "the warehouse was published" if published_now else "the published warehouse was left as it was"
        print(f"sotaboard run failed: step(s) {', '.join(failed_steps)} failed; {outcome}", file=sys.stderr)
        return 1
    if not published_now:
        print("sotaboard run failed: a blocking check failed, so nothing was published; "
              "the published warehouse was left as it was", file=sys.stderr)
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
    _apply_flags(args)
    from pipelines.model_page import (AmbiguousModel, ModelNotFound, WarehouseMissing, load_model_page,
                                      render_model_page)

    try:
        page = load_model_page(Settings.from_env().warehouse_path, args.model_id)
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
    _apply_flags(args)
    from pipelines.model_page import WarehouseMissing
    from pipelines.site import build_site

    settings = Settings.from_env()
    out = Path(args.out).absolute() if args.out else settings.site_dir
    if out is None:
        print("sotaboard site: say where with --out DIR (or SOTABOARD_SITE_DIR)", file=sys.stderr)
        return 1
    try:
        report = build_site(settings.warehouse_path, out)
    except WarehouseMissing as exc:
        print(f"sotaboard site: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def dev(args: argparse.Namespace) -> int:
    _apply_flags(args)
    workspace = Path(__file__).resolve().parent.parent / "workspace.yaml"
    os.execvp("dagster", ["dagster", "dev", "-w", str(workspace), *args.dagster_args])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sotaboard", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def with_settings(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--warehouse", help="published DuckDB file (SOTABOARD_WAREHOUSE)")
        sub.add_argument("--source", choices=SOURCES, help="snapshot or live (SOTABOARD_SOURCE)")
        sub.add_argument("--snapshot", help="snapshot directory (SOTABOARD_SNAPSHOT)")
        return sub

    nightly = with_settings(commands.add_parser("run", help="run the nightly job now"))
    nightly.add_argument("--publish-anyway", action="store_true",
                         help="publish although a source failed wholesale (SOTABOARD_PUBLISH_ANYWAY)")
    nightly.set_defaults(func=run)
    page = with_settings(commands.add_parser("model", help="print a model's page"))
    page.add_argument("model_id")
    page.add_argument("--json", action="store_true", help="emit the page as JSON")
    page.set_defaults(func=model)
    static = with_settings(commands.add_parser("site", help="render the static site of the published warehouse"))
    static.add_argument("--out", help="output directory (SOTABOARD_SITE_DIR)")
    static.set_defaults(func=site)
    ui = with_settings(commands.add_parser("dev", help="open the Dagster UI on this code location"))
    ui.add_argument("dagster_args", nargs=argparse.REMAINDER)
    ui.set_defaults(func=dev)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"sotaboard: {exc}", file=sys.stderr)
        return 1
