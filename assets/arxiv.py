"""arXiv ingestion: metadata of every paper a source links to, latest version, incremental.

Which papers: every arXiv reference of a Hub model (`raw.hub_models.arxiv_ids`), of a benchmark
table row (`paper_url` / `source_url` on arxiv.org, abs or pdf, any version) and of the catalog
(`kind = 'paper'`), collected by `warehouse/sql/arxiv_references.sql` and normalised by
`normalize_arxiv_id`. A reference that cannot be read as an arXiv id is quarantined with its text.

Both modes read every `arxiv/*.xml` of `snapshot.root` (Atom feeds as the arXiv API returns them)
with the library's own parser into `raw.arxiv_papers`, keeping the newest version of a paper seen
in several feeds (then the newest `updated`, then the newest feed). Only feeds that are new or
changed since the last run are parsed: `raw.arxiv_feed_files` and `raw.arxiv_feed_entries` keep
what each feed held. Error feeds and bodies that are not Atom are quarantined. A referenced id
that a feed asked for (the feed's own query link, or our fetch state) but that came back without
an entry is recorded in `raw.arxiv_missing`, and so is a referenced id that no feed covers, with the
reason "not fetched" (a snapshot holds the papers it chose to record, not every paper its tables cite;
`papers.status` tells the two apart). Neither is bad input, so neither is quarantined.

Live mode first fills the fetch cache (`<cache>/arxiv/<UTC time>_<hash of ids>_<page>.xml`,
byte-exact bodies) and keeps `<cache>/arxiv/_fetch_state.json` (when each id was last asked, which
claimed versions were checked, ids arXiv refused). It asks for:

- **new ids**: referenced, never asked before;
- **claimed newer versions**: a source cites `1911.02116v3` while we hold v2 (asked once per
  claimed version, so a wrong claim does not cost a request every night);
- **the rolling window**: with `recheck_days = N` (30 by default) each known paper, and each id
  arXiv did not know, has a slot night `sha1(id) mod N`; it is re-checked on the night whose
  `date.toordinal() mod N` equals its slot, so about 1/N of known papers are re-checked each night
  and every one once every N nights. A paper whose slot night was missed (no run that night) is
  re-checked on the next run once its last check is more than N days old.

Nothing is asked twice on the same UTC day, so a rerun of an unchanged night costs no request. New
ids cost one request per 100; the nightly re-check of K known papers costs about K / (100 N).

Areas: `warehouse/reference/arxiv_category_areas.csv` maps each arXiv category (as found in
`primary_category`) to an area; core SQL uses it when a benchmark gives no area.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from assets.sources.arxiv.client import ArxivResource
from assets.sources.arxiv.feeds import collect_references, scan_feeds
from assets.sources.arxiv.plan import STATE_FILE, FetchState, fetch_live, last_asked
from assets.sources.ingest_log import IngestLog, failure_payload, source_answered_spec
from assets.sources.snapshot import SnapshotResource
from warehouse import sql
from warehouse.database import WarehouseResource, utc_now

# --- the asset ---------------------------------------------------------------------------------


# the reason of a referenced id that no feed covers; papers.sql gives these the status 'not_fetched'
NOT_FETCHED = "not fetched: no arXiv feed covers this id"
PAPER_COLUMNS = ["arxiv_id", "version", "title", "authors", "summary", "published", "updated", "primary_category",
                 "categories", "doi", "journal_ref", "comment", "links", "withdrawn", "fetched_at"]


@dg.asset(group_name="ingest", kinds={"arxiv", "duckdb"}, deps=["catalog", "benchmark_table_rows", "hub_models"],
          check_specs=[source_answered_spec("arxiv_papers")])
def arxiv_papers(snapshot: SnapshotResource, warehouse: WarehouseResource, arxiv: ArxivResource
                 ) -> dg.MaterializeResult:
    """arXiv metadata of every paper a Hub model, a benchmark table row or the catalog refers to.

    `raw.arxiv_papers`: one row per paper, key `arxiv_id` without version (`1911.02116`,
    `hep-th/9901001`), latest version kept with its number. `raw.arxiv_missing`: one row per
    referenced id arXiv did not return or no feed covers (reason `not fetched: ...`), key
    `arxiv_id`. In live mode only new ids, claimed newer versions and the rolling window of known
    papers are asked for (see the module docstring)."""
    log = IngestLog("arxiv", snapshot.source, lacks=snapshot.lacking("arxiv"))
    now = utc_now()
    with warehouse.connect() as con:
        con.execute(sql("arxiv_references"))
        rows = con.execute("SELECT source, reference, record_key, records FROM arxiv_references").fetchall()
    refs = collect_references(rows, log)

    plan: dict[str, int] = {}
    if snapshot.live:
        with warehouse.connect() as con:
            known = scan_feeds(con, snapshot.root, snapshot.max_feed_bytes)
        plan = fetch_live(arxiv, snapshot.root, refs.versions, known, log, now)
    with warehouse.connect() as con:
        scan = scan_feeds(con, snapshot.root, snapshot.max_feed_bytes)
        log.recall("raw.arxiv_feed_files")
    state = FetchState.load(snapshot.root / "arxiv" / STATE_FILE) if snapshot.live else FetchState()
    rejected = state.rejected
    asked = last_asked(scan, state)

    missing_rows = []
    unfetched = 0
    for arxiv_id, cited in sorted(refs.versions.items()):
        if arxiv_id in scan.versions:
            held = scan.versions[arxiv_id]
            if cited is not None and held is not None and cited > held:
                log.fail(f"paper|{arxiv_id}v{cited}", f"cited version v{cited} unknown to arXiv "
                         f"(latest v{held})", failure_payload(id=arxiv_id, cited_version=cited, latest_version=held))
            continue
        if arxiv_id in rejected:
            log.fail(f"paper|{arxiv_id}", f"refused by arXiv: {rejected[arxiv_id]}", failure_payload(id=arxiv_id))
        elif arxiv_id in asked:
            missing_rows.append((arxiv_id, "asked, arXiv returned no entry", asked[arxiv_id]))
        else:
            unfetched += 1
            missing_rows.append((arxiv_id, NOT_FETCHED, None))  # never asked: no time

    missing = pd.DataFrame(missing_rows, columns=["arxiv_id", "reason", "seen_at"])
    with warehouse.connect() as con:
        con.register("missing_papers", missing)
        con.execute("BEGIN")
        warehouse.replace_rows(con, "raw.arxiv_papers", ("arxiv_id",),
                               f"SELECT {', '.join(PAPER_COLUMNS)} FROM raw.arxiv_latest_entries")
        warehouse.replace_rows(con, "raw.arxiv_missing", ("arxiv_id",), "SELECT arxiv_id::VARCHAR AS arxiv_id, "
                               "reason::VARCHAR AS reason, seen_at::TIMESTAMP AS seen_at FROM missing_papers")
        log.save_stale(con, "paper", sorted(refs.versions))
        log.records, withdrawn = con.execute("SELECT count(*), count(*) FILTER (withdrawn) FROM raw.arxiv_papers").fetchall()[0]
        log.save(con)
        con.execute("COMMIT")
    return dg.MaterializeResult(
        metadata={
            **log.metadata(),
            "papers": dg.MetadataValue.int(log.records),
            "missing": dg.MetadataValue.int(len(missing) - unfetched),
            "withdrawn": dg.MetadataValue.int(withdrawn),
            "referenced_ids": dg.MetadataValue.int(len(refs.versions)),
            "references_by_source": dg.MetadataValue.json(dict(refs.by_source)),
            "not_fetched": dg.MetadataValue.int(unfetched),
            "feeds_read": dg.MetadataValue.int(scan.feeds),
            "feeds_parsed": dg.MetadataValue.int(scan.parsed),
            "fetch_plan": dg.MetadataValue.json(plan),
            "recheck_days": dg.MetadataValue.int(arxiv.recheck_days),
        },
        check_results=[log.source_answered(warehouse.publish_anyway)],
    )
