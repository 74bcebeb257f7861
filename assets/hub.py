"""Hugging Face Hub ingestion: model info, model cards with their evaluation results, dataset leaderboards.

Both modes parse the same files under `snapshot.root` (snapshot layout: `hub/models/<id>.json`,
`hub/cards/<id>/README.md`, `hub/leaderboards/<dataset id>.json`); in live mode the assets first
fill the fetch cache from the Hub (see `assets.sources.hub.client`).

Each asset keeps its own ingest log (sources `hub`, `hub-cards`, `hub-leaderboards`): one shared
source name would make each asset's `IngestLog.save` delete the failures the others recorded.
"""

from __future__ import annotations

import json
import os
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from assets.sources.files import FileRefused, open_source_file
from assets.sources.hub.cards import (
    EVAL_COLUMNS,
    MODEL_FILES_PARSER,
    PARSER_VERSION,
    CardBounds,
    ModelCardsResult,
    parse_model_cards_in_workers,
)
from assets.sources.hub.client import (
    FetchOutcome,
    HubClient,
    HubResource,
    fetch_cards,
    fetch_leaderboards,
    fetch_models,
    repo_id_problem,
)
from assets.sources.hub.targets import (
    model_files,
    read_targets,
    snapshot_model_ids,
    tracked_dataset_ids,
)
from assets.sources.ingest_log import (
    IngestLog,
    failure_payload,
    files_to_read,
    source_answered_spec,
)
from assets.sources.snapshot import SnapshotResource
from warehouse.database import WarehouseResource, utc_now

PREVIEW_ROWS = 5
HUB_KINDS = {"huggingface", "duckdb"}


# --- assets ---------------------------------------------------------------------------------------


def _preview(con: duckdb.DuckDBPyConnection, query: str) -> dg.MetadataValue:
    frame = con.execute(query).df()
    return dg.MetadataValue.md(frame.to_markdown(index=False) if len(frame) else "(none)")


def _record_fetch(log: IngestLog, client: HubClient, outcome: FetchOutcome) -> None:
    """What a live fetch did, into the asset's log: failures quarantined, requests and retries,
    stale entities, and whether the Hub failed wholesale."""
    for key, reason in outcome.failures:
        log.fail(key, reason, failure_payload(id=key))
    log.requests, log.retries = client.stats.requests, client.stats.retries
    log.stale += outcome.stale
    log.judge_fetch(outcome.attempted, outcome.failed, client.breaker.unreachable({client.host}))


@dg.asset(group_name="ingest", kinds=HUB_KINDS, deps=["catalog", "benchmark_table_rows"], check_specs=[source_answered_spec("hub_models")])
def hub_models(snapshot: SnapshotResource, warehouse: WarehouseResource, hub: HubResource) -> dg.MaterializeResult:
    """Hub model info: one row per canonical repo id in `raw.hub_models` (key: model_id) and one per
    old or legacy id in `raw.hub_model_aliases` (key: alias). Tracks the catalog's orgs and models and
    every model_id the curated tables name (in snapshot mode with no org or model in the catalog:
    every file in hub/models). Live mode fetches each model's info into the cache first.

    Incremental: `raw.hub_model_files` keeps one row per model info file read (its fields, or why it
    was refused); a file whose size and modification time are unchanged (`raw.files_read`) is not
    read again, and the rows of files no longer tracked are dropped. The result is the same as
    reading every file.

    Files are admitted by the snapshot jail (`assets.sources.files`, cap `max_model_info_bytes`);
    a count that is not a count (`downloads: NaN`) is left empty and quarantined."""
    log = IngestLog("hub", snapshot.source, lacks=snapshot.lacking("hub/models"))
    root = snapshot.root
    extra: dict[str, Any] = {}
    with warehouse.connect() as con:
        targets = read_targets(con)
    if snapshot.live:
        with hub.open() as client:
            ids, outcome = fetch_models(client, targets.orgs, targets.models + targets.curated, root)
        _record_fetch(log, client, outcome)
        extra = {"renamed": dg.MetadataValue.json(outcome.renamed), "unchanged_not_fetched": len(outcome.unchanged),
                 "library_rejects_model_info": dg.MetadataValue.json(dict(outcome.library_rejects))}
    else:
        ids = snapshot_model_ids(root, targets, log)
    files = model_files(root, ids, log, snapshot.max_model_info_bytes)
    with warehouse.connect() as con:
        log.save_stale(con, "model", ids)
        files_read = load_models(con, warehouse, files, log)
        log.records = con.execute("SELECT count(*) FROM raw.hub_models").fetchone()[0]
        aliases = con.execute("SELECT count(*) FROM raw.hub_model_aliases").fetchone()[0]
        preview = _preview(con, f"SELECT model_id, requested_id, sha, params, license, arxiv_ids "
                                f"FROM raw.hub_models ORDER BY model_id LIMIT {PREVIEW_ROWS}")
        log.save(con)
    return dg.MaterializeResult(metadata={**log.metadata(), **extra, "files": len(files), "files_read": files_read,
                                          "files_unchanged": len(files) - files_read, "aliases": aliases,
                                          "preview": preview},
                                check_results=[log.source_answered(warehouse.publish_anyway)])


def load_models(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, files: pd.DataFrame,
                log: IngestLog) -> int:
    """Bring raw.hub_model_files (and so its views raw.hub_models and raw.hub_model_aliases) up to
    date with `files` (see `model_files`) in one transaction, reading only the files that are new or
    whose size, modification time or reading code changed. Returns the files read."""
    con.register("listed_model_files", files)
    con.execute("BEGIN")
    to_read = files_to_read(con, "raw.hub_model_files", "listed_model_files", ("bytes", "mtime_ns"),
                            MODEL_FILES_PARSER)
    if len(to_read):
        con.register("model_files_to_read", to_read)
        warehouse.run_sql(con, "merge_into_hub_model_files", model_files=list(to_read["filename"]),
                          parser=MODEL_FILES_PARSER, read_at=utc_now())
        con.unregister("model_files_to_read")
    con.execute("COMMIT")
    con.unregister("listed_model_files")
    log.quarantine_rows("SELECT requested_id, reason, payload FROM raw.hub_model_files WHERE reason IS NOT NULL "
                        "UNION ALL SELECT requested_id, 'model info field left empty: ' || unnest(field_problems), "
                        "source_file FROM raw.hub_model_files")
    return len(to_read)


@dg.asset(group_name="ingest", kinds=HUB_KINDS, deps=["hub_models"], check_specs=[source_answered_spec("hub_cards")])
def hub_cards(snapshot: SnapshotResource, warehouse: WarehouseResource, hub: HubResource) -> dg.MaterializeResult:
    """Model cards: one row per model with a README in `raw.hub_cards` (key: model_id; sanitised
    HTML, YAML front matter as JSON), and every evaluation result in `raw.hub_eval_results` (key:
    record_key = model_id/format/position) from the card's model-index and the model's evalResults;
    one row per parsed model in `raw.hub_card_parses` (key: model_id; the sha, ids and model info file
    it was parsed from, and its failures).

    Incremental: a model whose sha (ids, model info file, parsing code) did not change since it was
    parsed is not parsed again; its rows and its quarantined records are kept. Models no longer
    tracked lose theirs. Live mode downloads a card only when the model's sha changed since its card
    was last loaded. The rows and metadata are those of a full rebuild.

    Cards and model info files are read through the snapshot jail (`assets.sources.files`): a
    card that is a link out of the root, a FIFO or over `max_card_bytes` is quarantined and the model
    loads without it; a card body over `card_render_chars` is rendered up to there, with a note."""
    log = IngestLog("hub-cards", snapshot.source, lacks=snapshot.lacking("hub/cards"))
    root = snapshot.root
    with warehouse.connect() as con:
        models = con.execute(
            "SELECT model_id, requested_id, sha, source_file FROM raw.hub_models ORDER BY model_id").fetchall()
        previous = dict(con.execute("SELECT model_id, sha FROM raw.hub_cards").fetchall())
        parsed_from = {m: tuple(inputs) for m, *inputs in con.execute(
            "SELECT model_id, requested_id, sha, source_file, parser FROM raw.hub_card_parses").fetchall()}
    downloads: dict[str, int] = {}
    if snapshot.live:
        with hub.open() as client:
            outcome = fetch_cards(client, [(m, sha) for m, _, sha, _ in models], previous, root)
        _record_fetch(log, client, outcome)
        downloads = {"checked": len(outcome.fetched), "unchanged_sha_skipped": len(outcome.unchanged)}
        # a card whose download failed (or was refused) keeps the sha of the copy in the cache, so
        # the model keeps its rows and the next run retries it
        failed = {key.removesuffix("/README.md") for key, _ in outcome.failures}
        models = [(m, r, previous.get(m) if m in failed else sha, f) for m, r, sha, f in models]
    unchanged = {m for m, r, sha, f in models if sha is not None and parsed_from.get(m) == (r, sha, f, PARSER_VERSION)}
    parsed = parse_model_cards_in_workers(root, [model for model in models if model[0] not in unchanged],
                                          CardBounds.of(snapshot))
    with warehouse.connect() as con:
        con.execute("BEGIN")
        log.save_stale(con, "card", [m for m, *_ in models])
        save_cards(con, warehouse, parsed, unchanged)
        log.recall("raw.hub_card_parses")
        cards, without_card, seen, loaded = con.execute(
            "SELECT (SELECT count(*) FROM raw.hub_cards), count(*) FILTER (WHERE without_card), "
            "coalesce(sum(eval_results_seen), 0), (SELECT count(*) FROM raw.hub_eval_results) "
            "FROM raw.hub_card_parses").fetchone()
        cross_check = dict(con.execute("SELECT cross_check, count(*) FROM raw.hub_card_parses "
                                       "WHERE cross_check IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall())
        log.records = loaded
        preview = _preview(con, f"SELECT record_key, dataset_type, metric_type, value_raw, verified "
                                f"FROM raw.hub_eval_results ORDER BY record_key LIMIT {PREVIEW_ROWS}")
        log.save(con)
        con.execute("COMMIT")
    return dg.MaterializeResult(metadata={
        **log.metadata(),
        "cards": cards, "models_without_card": without_card,
        "eval_results_seen": seen, "eval_results_loaded": loaded, "eval_results_quarantined": seen - loaded,
        "library_cross_check": dg.MetadataValue.json(cross_check),
        "models_parsed": len(parsed.models), "models_unchanged": len(unchanged),
        "card_downloads": dg.MetadataValue.json(downloads), "preview": preview,
    }, check_results=[log.source_answered(warehouse.publish_anyway)])


def save_cards(con: duckdb.DuckDBPyConnection, warehouse: WarehouseResource, parsed: ModelCardsResult,
               unchanged: set[str]) -> None:
    """Replace the rows of every model but the `unchanged` ones by the `parsed` ones."""
    cards = pd.DataFrame(parsed.cards, columns=["model_id", "sha", "readme", "card_html", "metadata", "fetched_at"])
    evals = pd.DataFrame(parsed.evals.rows, columns=EVAL_COLUMNS).astype(
        {c: "string" for c in EVAL_COLUMNS if c != "verified"}).astype({"verified": "boolean"})
    models = pd.DataFrame(parsed.models, columns=["model_id", "sha", "requested_id", "source_file", "without_card",
                                                  "cross_check", "eval_results_seen", "failures"])
    models["failures"] = [json.dumps([dict(zip(("record_key", "reason", "payload"), f)) for f in failures])
                          for failures in models["failures"]]
    con.register("parsed_cards", cards)
    con.register("parsed_eval_results", evals)
    con.register("parsed_models", models.astype({c: "string" for c in ("model_id", "sha", "requested_id",
                                                                       "source_file", "cross_check", "failures")}))
    con.register("unchanged_models", pd.DataFrame({"model_id": pd.Series(sorted(unchanged), dtype="string")}))
    warehouse.run_sql(con, "merge_into_hub_cards", parser=PARSER_VERSION, parsed_at=utc_now())


@dg.asset(group_name="ingest", kinds=HUB_KINDS, deps=["catalog"], check_specs=[source_answered_spec("hub_leaderboards")])
def hub_leaderboards(snapshot: SnapshotResource, warehouse: WarehouseResource,
                     hub: HubResource) -> dg.MaterializeResult:
    """Hub dataset leaderboards: one row per (dataset_id, model_id, filename) in
    `raw.hub_leaderboard_entries`, with the Hub's rank and verified flag. Tracks the catalog's
    benchmarks that are (or have an alias that is) a Hub dataset id; in snapshot mode with no such
    benchmark, every file in hub/leaderboards."""
    log = IngestLog("hub-leaderboards", snapshot.source, lacks=snapshot.lacking("hub/leaderboards"))
    root = snapshot.root
    with warehouse.connect() as con:
        dataset_ids = tracked_dataset_ids(con)
    if snapshot.live:
        with hub.open() as client:
            outcome = fetch_leaderboards(client, dataset_ids, root)
        _record_fetch(log, client, outcome)
    board_dir = root / "hub" / "leaderboards"
    if dataset_ids or snapshot.live:
        listed = [board_dir / f"{d}.json" for d in dataset_ids if not repo_id_problem(d)]
        listed = [p for p in listed if os.path.lexists(p)]
    else:
        listed = sorted(board_dir.glob("*/*.json"))
    files = []
    for path in listed:
        try:
            files.append(open_source_file(root, path, snapshot.max_leaderboard_bytes, "leaderboard file").path)
        except FileRefused as refused:
            dataset_id = str(path.relative_to(board_dir))[: -len(".json")]
            log.fail(dataset_id, refused.reason,
                     failure_payload(id=dataset_id, file=f"hub/leaderboards/{dataset_id}.json"))
    with warehouse.connect() as con:
        if files:
            warehouse.run_sql(con, "hub_leaderboards", leaderboard_files=[str(p) for p in files], root=str(root))
            log.quarantine_rows("SELECT * FROM hub_leaderboard_errors")  # saved on this connection, below
        else:
            con.execute("DELETE FROM raw.hub_leaderboard_entries")
        log.save_stale(con, "leaderboard", dataset_ids)
        log.records = con.execute("SELECT count(*) FROM raw.hub_leaderboard_entries").fetchone()[0]
        preview = _preview(con, f"SELECT dataset_id, rank, model_id, value, verified FROM raw.hub_leaderboard_entries "
                                f"ORDER BY dataset_id, rank LIMIT {PREVIEW_ROWS}")
        log.save(con)
    return dg.MaterializeResult(metadata={**log.metadata(), "leaderboards": len(files),
                                          "tracked_datasets": dg.MetadataValue.json(dataset_ids), "preview": preview},
                                check_results=[log.source_answered(warehouse.publish_anyway)])
