"""arXiv ingestion with the real arxiv.Client against a local replay of the API: batching, retries,
parsed fields, missing ids, quarantine, the incremental plan, snapshot mode, idempotence."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from arxiv_replay import (
    FIXTURES,
    RECORDED,
    arxiv_routes,
    recorded_entries,
    synthetic_entry,
)
from replay import Fault, ReplayServer

import assets.arxiv as arxiv_assets
import assets.sources.arxiv.feeds as feeds
import assets.sources.workers as workers
from assets.arxiv import NOT_FETCHED, arxiv_papers
from assets.sources.arxiv.client import ArxivResource
from assets.sources.arxiv.feeds import read_feed
from assets.sources.arxiv.plan import STATE_FILE
from assets.sources.snapshot import SnapshotResource
from warehouse.database import WarehouseResource

QUERY = r"/api/query"
NIGHT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture()
def corpus(server, real_data):
    extra = [synthetic_entry(f"2001.{i:05d}v1") for i in range(1, 1001)]
    return arxiv_routes(server, recorded_entries() + extra, clock=lambda: NIGHT)


def client(server: ReplayServer, **overrides) -> ArxivResource:
    settings = {"query_url": server.url + "/api/query?{}", "delay_seconds": 0, "backoff_seconds": 0.01,
                "timeout_seconds": 5, **overrides}
    return ArxivResource(**settings)


def resources(tmp: Path, arxiv: ArxivResource, source: str = "live", snapshot_dir: Path | None = None) -> dict:
    return {
        "warehouse": WarehouseResource(path=str(tmp / "pub.duckdb"), state_dir=str(tmp / "state")),
        "snapshot": SnapshotResource(source=source, snapshot_dir=str(snapshot_dir or tmp / "snap"),
                                     cache_dir=str(tmp / "cache")),
        "arxiv": arxiv,
    }


def seed(res: dict, hub: dict[str, list[str]] = {}, tables: list[tuple[str | None, str | None]] = (),
         catalog: list[str] = ()) -> None:
    """Stand in for the Hub, tables and catalog assets: their raw rows, nothing else."""
    warehouse = res["warehouse"]
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
        con.execute("DELETE FROM raw.hub_model_files; DELETE FROM raw.table_results; DELETE FROM raw.catalog")
        for model_id, ids in hub.items():
            con.execute("INSERT INTO raw.hub_model_files (source_file, requested_id, model_id, arxiv_ids) "
                        "VALUES ('hub/models/' || $id || '.json', $id, $id, $ids)", {"id": model_id, "ids": ids})
        for index, (paper_url, source_url) in enumerate(tables):
            con.execute("INSERT INTO raw.table_results (record_key, source_file, source_format, paper_url, source_url)"
                        " VALUES (?, 'tables/t.json', 'pwc-json', ?, ?)", [f"t|{index}", paper_url, source_url])
        for key in catalog:
            con.execute("INSERT INTO raw.catalog VALUES ('paper', ?)", [key])


def run(res: dict, now: datetime = NIGHT, monkeypatch=None) -> dg.MaterializeResult:
    if monkeypatch is not None:
        monkeypatch.setattr(arxiv_assets, "utc_now", lambda: now)
    result = dg.materialize([arxiv_papers], resources=res)
    assert result.success
    return result.asset_materializations_for_node("arxiv_papers")[0].metadata


def rows(res: dict, sql: str) -> list[tuple]:
    con = duckdb.connect(str(res["warehouse"].working_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- the client ----------------------------------------------------------------------------------


def test_250_ids_take_three_requests_of_at_most_100(server, corpus):
    ids = [f"2001.{i:05d}" for i in range(1, 251)]
    feeds = []
    stats = client(server).fetch(ids, feeds.append)
    assert stats.requests == 3 == server.count("GET", QUERY)
    sizes = [len(r.query["id_list"][0].split(",")) for r in server.requests]
    assert sizes == [100, 100, 50]
    assert all(r.query["max_results"] == ["100"] for r in server.requests)
    assert sum(len(read_feed(f.body).results) for f in feeds) == 250


def test_retries_an_injected_503_then_loads(server, corpus):
    server.inject(QUERY, Fault(status=503), Fault(status=503, retry_after=0))
    feeds = []
    stats = client(server).fetch(["1605.08386", "2104.12255"], feeds.append)
    assert (stats.requests, stats.retries, stats.failed_batches) == (3, 2, [])
    assert {r.get_short_id() for r in read_feed(feeds[0].body).results} == {"1605.08386v1", "2104.12255v1"}


def test_timeouts_and_cut_bodies_are_retried_with_a_session_timeout(server, corpus):
    server.inject(QUERY, Fault(delay=1.5), Fault(truncate=True))
    feeds = []
    stats = client(server, timeout_seconds=0.5).fetch(["1605.08386"], feeds.append)
    assert (stats.requests, stats.retries, len(feeds)) == (3, 2, 1)


def test_gives_up_after_bounded_retries(server, corpus):
    server.inject(QUERY, *[Fault(status=502)] * 10)
    feeds = []
    stats = client(server, max_retries=2).fetch(["1605.08386"], feeds.append)
    assert stats.requests == 3 and feeds == []
    assert stats.failed_batches and "HTTP 502" in stats.failed_batches[0][1]


def test_backoff_grows_and_honours_retry_after(server, corpus):
    server.inject(QUERY, Fault(status=503), Fault(status=500), Fault(status=429, retry_after=7))
    waits = []
    client(server, backoff_seconds=2, max_backoff_seconds=60).fetch(["1605.08386"], lambda f: None,
                                                                    sleep=waits.append)
    assert waits == [2, 4, 7]


def test_a_refused_id_is_dropped_from_its_batch_not_the_batch(server, corpus):
    feeds = []
    stats = client(server).fetch(["abc", "1605.08386", "2104.12255"], feeds.append)
    assert stats.rejected_ids[0][0] == "abc" and "incorrect id format for abc" in stats.rejected_ids[0][1]
    assert stats.requests == 2
    assert len(read_feed(feeds[0].body).results) == 2


def test_the_library_waits_delay_seconds_between_requests(server, corpus):
    import time

    started = time.monotonic()
    client(server, delay_seconds=0.3, batch_size=1).fetch(["1605.08386", "2104.12255", "1707.08567"],
                                                          lambda f: None)
    assert time.monotonic() - started >= 0.6
    assert server.count("GET", QUERY) == 3


# --- the asset, live -----------------------------------------------------------------------------


REFERENCES = dict(
    hub={"FacebookAI/xlm-roberta-large": ["1911.02116"], "some/model": ["2104.12255", "not-an-id"]},
    tables=[
        ("https://arxiv.org/abs/1911.02116v1", None),
        ("http://arxiv.org/pdf/1208.9999v1.pdf", "https://arxiv.org/abs/1208.9999"),
        ("https://arxiv.org/abs/astro-ph/0601001v1", None),
        ("https://arxiv.org/abs/2301.99999", None),                 # unknown to arXiv
        ("https://arxiv.org/list/cs.CL/recent", None),              # on arxiv.org, not a paper
        ("https://aclanthology.org/P19-1001/", None),               # not arXiv: ignored
        (None, "https://arxiv.org/abs/1707.08567"),
    ],
    catalog=["arXiv:quant-ph/0201082", "1605.08386v1"],
)


def test_live_run_loads_fields_missing_and_quarantine(tmp_path, server, corpus, monkeypatch):
    res = resources(tmp_path, client(server))
    seed(res, **REFERENCES)
    meta = run(res, monkeypatch=monkeypatch)
    assert meta["requests"].value == 1 == server.count("GET", QUERY)
    assert meta["papers"].value == 7 and meta["missing"].value == 1

    xlmr = rows(res, "SELECT version, title, authors, primary_category, categories, comment, withdrawn, links, "
                     "published, updated, fetched_at FROM raw.arxiv_papers WHERE arxiv_id = '1911.02116'")[0]
    assert xlmr[:3] == (2, "Unsupervised Cross-lingual Representation Learning at Scale",
                        ["Alexis Conneau", "Kartikay Khandelwal", "Naman Goyal", "Vishrav Chaudhary",
                         "Guillaume Wenzek", "Francisco Guzmán", "Edouard Grave", "Myle Ott", "Luke Zettlemoyer",
                         "Veselin Stoyanov"])
    assert xlmr[3:7] == ("cs.CL", ["cs.CL"], "ACL 2020 (+ updated results)", False)
    assert xlmr[7] == ["https://arxiv.org/abs/1911.02116v2", "https://arxiv.org/pdf/1911.02116v2"]
    assert xlmr[8:] == (datetime(2019, 11, 5, 18, 43, 29), datetime(2020, 4, 8, 1, 2, 52), datetime(2026, 11, 23, 2))

    withdrawn = rows(res, "SELECT version, withdrawn, doi FROM raw.arxiv_papers WHERE arxiv_id = '1208.9999'")
    assert withdrawn == [(2, True, "10.0000/fixture.1208.9999")]
    old = rows(res, "SELECT version, journal_ref, primary_category FROM raw.arxiv_papers "
                    "WHERE arxiv_id = 'astro-ph/0601001'")
    assert old == [(1, "ActaAstron.56:1-50,2006", "astro-ph")]
    assert rows(res, "SELECT arxiv_id FROM raw.arxiv_papers WHERE arxiv_id = 'quant-ph/0201082'")
    assert rows(res, "SELECT arxiv_id, reason FROM raw.arxiv_missing") == [
        ("2301.99999", "asked, arXiv returned no entry")]

    failures = [(key, reason, json.loads(payload)) for key, reason, payload in rows(
        res, "SELECT record_key, reason, payload FROM raw.ingest_failures WHERE source = 'arxiv' ORDER BY record_key")]
    assert ("hub|some/model", "unparsable arXiv reference",
            {"cited_by": "hub", "record": "some/model", "reference": "not-an-id"}) in failures
    assert ("tables|t|4", "unparsable arXiv reference",
            {"cited_by": "tables", "record": "t|4", "reference": "https://arxiv.org/list/cs.CL/recent"}) in failures
    assert len(failures) == 2
    cached = list((tmp_path / "cache" / "arxiv").glob("*.xml"))
    assert len(cached) == 1 and (tmp_path / "cache" / "arxiv" / STATE_FILE).is_file()
    assert rows(res, "SELECT mode, records, failures, requests FROM raw.source_runs WHERE source = 'arxiv'") == [
        ("live", 7, 2, 1)]


def test_unchanged_rerun_same_night_costs_nothing_and_changes_nothing(tmp_path, server, corpus, monkeypatch):
    res = resources(tmp_path, client(server))
    seed(res, **REFERENCES)
    run(res, monkeypatch=monkeypatch)
    before = [rows(res, f"SELECT * FROM {t} ORDER BY ALL") for t in ("raw.arxiv_papers", "raw.arxiv_missing")]
    meta = run(res, NIGHT + timedelta(hours=3), monkeypatch=monkeypatch)
    assert meta["requests"].value == 0 and server.count("GET", QUERY) == 1
    after = [rows(res, f"SELECT * FROM {t} ORDER BY ALL") for t in ("raw.arxiv_papers", "raw.arxiv_missing")]
    assert after == before
    assert rows(res, "SELECT count(*) FROM raw.ingest_failures WHERE source = 'arxiv'") == [(2,)]


def test_new_ids_and_claimed_newer_versions_are_fetched_once(tmp_path, server, corpus, monkeypatch):
    res = resources(tmp_path, client(server, recheck_days=1000))
    seed(res, hub={"m": ["1911.02116"]})
    v2 = corpus.by_version.pop("1911.02116v2")
    corpus.latest["1911.02116"] = "1911.02116v1"
    run(res, monkeypatch=monkeypatch)
    assert rows(res, "SELECT version FROM raw.arxiv_papers") == [(1,)]

    # a source now cites v2, and arXiv has it: the next night asks once and keeps v2
    corpus.add(v2)
    seed(res, hub={"m": ["1911.02116"]}, tables=[("https://arxiv.org/abs/1911.02116v2", None)])
    meta = run(res, NIGHT + timedelta(days=1), monkeypatch=monkeypatch)
    assert meta["fetch_plan"].value == {"claimed-version": 1}
    assert rows(res, "SELECT version FROM raw.arxiv_papers") == [(2,)]

    # a wrong claim (v7) is checked once, then left to the rolling window, and quarantined
    seed(res, hub={"m": ["1911.02116"]}, tables=[("https://arxiv.org/abs/1911.02116v7", None)])
    assert run(res, NIGHT + timedelta(days=2), monkeypatch=monkeypatch)["requests"].value == 1
    assert run(res, NIGHT + timedelta(days=3), monkeypatch=monkeypatch)["requests"].value == 0
    assert rows(res, "SELECT reason FROM raw.ingest_failures WHERE source = 'arxiv'") == [
        ("cited version v7 unknown to arXiv (latest v2)",)]

    # a new id the next night: only it is asked
    seed(res, hub={"m": ["1911.02116", "1605.08386"]})
    meta = run(res, NIGHT + timedelta(days=4), monkeypatch=monkeypatch)
    assert meta["fetch_plan"].value == {"new": 1}
    assert server.requests[-1].query["id_list"] == ["1605.08386"]


def test_failed_batch_is_quarantined_and_asked_again_next_run(tmp_path, server, corpus, monkeypatch):
    res = resources(tmp_path, client(server, max_retries=1))
    seed(res, hub={"m": ["1605.08386"]})
    server.inject(QUERY, Fault(status=503), Fault(status=503))
    meta = run(res, monkeypatch=monkeypatch)
    assert (meta["requests"].value, meta["retries"].value, meta["papers"].value) == (2, 1, 0)
    reasons = [r[0] for r in rows(res, "SELECT reason FROM raw.ingest_failures WHERE source = 'arxiv'")]
    assert any(r.startswith("fetch failed: gave up after 1 retries: HTTP 503") for r in reasons)
    assert "not fetched: no arXiv feed covers this id" not in reasons      # listed as not fetched instead
    assert rows(res, "SELECT arxiv_id, reason, seen_at FROM raw.arxiv_missing") == [("1605.08386", NOT_FETCHED, None)]
    meta = run(res, NIGHT + timedelta(minutes=5), monkeypatch=monkeypatch)
    assert (meta["requests"].value, meta["papers"].value, meta["quarantined"].value) == (1, 1, 0)


def test_requests_per_1000_new_ids_and_per_unchanged_night(tmp_path, server, corpus, monkeypatch):
    """The figures of the report: 1,000 new ids cost 10 requests; an unchanged rerun the same night
    costs none; each later night re-checks about 1/N of the known papers (one request here)."""
    days = 10
    res = resources(tmp_path, client(server, recheck_days=days))
    ids = [f"2001.{i:05d}" for i in range(1, 1001)]
    seed(res, hub={"m": ids})
    assert run(res, monkeypatch=monkeypatch)["requests"].value == 10
    assert run(res, NIGHT + timedelta(hours=1), monkeypatch=monkeypatch)["requests"].value == 0
    asked_per_night = []
    for night in range(1, days + 1):
        before = len(server.requests)
        meta = run(res, NIGHT + timedelta(days=night), monkeypatch=monkeypatch)
        asked = sum(len(r.query["id_list"][0].split(",")) for r in server.requests[before:])
        assert meta["requests"].value == len(server.requests) - before == math.ceil(asked / 100)
        asked_per_night.append(asked)
    assert sum(asked_per_night) == 1000                # every known paper exactly once per cycle
    assert max(asked_per_night) < 1.5 * 1000 / days    # spread by the hash, not bunched


def test_a_missed_night_is_caught_up(tmp_path, server, corpus, monkeypatch):
    res = resources(tmp_path, client(server, recheck_days=3))
    seed(res, hub={"m": [f"2001.{i:05d}" for i in range(1, 31)]})
    run(res, monkeypatch=monkeypatch)
    first = len(server.requests)
    run(res, NIGHT + timedelta(days=6), monkeypatch=monkeypatch)   # nights 1..5 missed
    asked = server.requests[first:]
    assert sum(len(r.query["id_list"][0].split(",")) for r in asked) == 30


# --- the asset, snapshot mode --------------------------------------------------------------------


def test_snapshot_mode_parses_feeds_keeps_newest_version_and_quarantines_bad_feeds(tmp_path, real_data, server):
    snap = tmp_path / "snap" / "arxiv"
    snap.mkdir(parents=True)
    for name in ("id_0000.0000_s0_m100_8b51d9633a68.xml", "id_abc_s0_m100_b79c8dcf6bc3.xml",
                 "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml", "q_testing_s0_m100_cfe7536492ca.xml",
                 "q_testing_s0_m10_bc5a6c384fe9.xml"):
        shutil.copy(RECORDED / name, snap / name)
    shutil.copy(FIXTURES / "multi_version.xml", snap / "multi.xml")
    shutil.copy(FIXTURES / "withdrawn.xml", snap / "withdrawn.xml")
    (snap / "proxy.xml").write_text("<html><body>502 Bad Gateway</body></html>")
    (snap / "garbage.xml").write_bytes(b"\x00\x01 not xml")
    res = resources(tmp_path, client(server), source="snapshot")
    seed(res, hub={"m": ["1911.02116", "0000.0001"]}, catalog=["astro-ph/0601001", "1707.08567"])
    meta = run(res)
    assert server.requests == []
    assert meta["papers"].value == 100 + 1 + 2          # q_testing pages overlap; astro-ph; 1911.02116; 1208.9999
    assert rows(res, "SELECT version FROM raw.arxiv_papers WHERE arxiv_id = '1911.02116'") == [(2,)]
    assert rows(res, "SELECT fetched_at FROM raw.arxiv_papers WHERE arxiv_id = 'astro-ph/0601001'") == [
        (datetime(2026, 5, 11, 23, 51, 23),)]
    failures = dict(rows(res, "SELECT record_key, reason FROM raw.ingest_failures WHERE source = 'arxiv'"))
    assert failures["arxiv/id_abc_s0_m100_b79c8dcf6bc3.xml"] == "arXiv error feed: incorrect id format for abc"
    assert failures["arxiv/proxy.xml"].startswith("not an Atom feed")
    assert failures["arxiv/garbage.xml"].startswith("not XML")
    assert failures["hub|m"] == "unparsable arXiv reference"          # 0000.0001: month 00
    assert "paper|1707.08567" not in failures                     # the snapshot does not hold it: not bad input
    assert rows(res, "SELECT arxiv_id, reason FROM raw.arxiv_missing") == [("1707.08567", NOT_FETCHED)]
    before = rows(res, "SELECT * FROM raw.arxiv_papers ORDER BY ALL")
    run(res)
    assert rows(res, "SELECT * FROM raw.arxiv_papers ORDER BY ALL") == before


ARXIV_TABLES = ["raw.arxiv_papers", "raw.arxiv_missing", "raw.arxiv_feed_entries", "raw.arxiv_feed_files",
                "raw.files_read EXCLUDE (read_at)"]


def arxiv_content(res: dict) -> dict[str, list]:
    content = {t: rows(res, f"SELECT * {t.removeprefix(t.split()[0])} FROM {t.split()[0]} ORDER BY ALL")
               for t in ARXIV_TABLES}
    content["failures"] = rows(res, "SELECT record_key, reason, payload FROM raw.ingest_failures "
                                    "WHERE source = 'arxiv' ORDER BY ALL")
    return content


def test_snapshot_rerun_parses_only_new_and_changed_feeds(tmp_path, server, monkeypatch):
    snap = tmp_path / "snap" / "arxiv"
    snap.mkdir(parents=True)
    for name in ("id_0000.0000_s0_m100_8b51d9633a68.xml", "id_abc_s0_m100_b79c8dcf6bc3.xml",
                 "q_testing_s0_m100_cfe7536492ca.xml"):
        shutil.copy(RECORDED / name, snap / name)
    shutil.copy(FIXTURES / "multi_version.xml", snap / "multi.xml")
    (snap / "garbage.xml").write_bytes(b"\x00\x01 not xml")
    res = resources(tmp_path, client(server), source="snapshot")
    refs = {"m": ["1911.02116", "0000.0000", "astro-ph/0601001"]}
    seed(res, hub=refs)
    first = run(res)
    assert (first["feeds_parsed"].value, first["feeds_read"].value) == (5, 3)
    before = arxiv_content(res)
    again = run(res)
    assert (again["feeds_parsed"].value, again["feeds_read"].value) == (0, 3)
    assert arxiv_content(res) == before                         # refused feeds stay quarantined

    (snap / "multi.xml").unlink()
    shutil.copy(RECORDED / "id_astro-ph_0601001_s0_m100_3150dca9dc76.xml", snap / "garbage.xml")   # repaired
    shutil.copy(FIXTURES / "withdrawn.xml", snap / "withdrawn.xml")
    rerun = run(res)
    assert (rerun["feeds_parsed"].value, rerun["feeds_read"].value) == (2, 4)
    assert rows(res, "SELECT version FROM raw.arxiv_papers WHERE arxiv_id = '1911.02116'") == []   # its feed went
    assert ("1911.02116", NOT_FETCHED, None) in arxiv_content(res)["raw.arxiv_missing"]
    assert rows(res, "SELECT withdrawn FROM raw.arxiv_papers WHERE arxiv_id = 'astro-ph/0601001'") == [(False,)]
    # from scratch, its feeds parsed in two worker processes, a feed a batch: the same rows
    monkeypatch.setattr(feeds, "FEEDS_PER_BATCH", 1)
    monkeypatch.setattr(workers, "PARSERS", 2)
    scratch = resources(tmp_path / "scratch", client(server), source="snapshot", snapshot_dir=tmp_path / "snap")
    seed(scratch, hub=refs)
    assert run(scratch)["feeds_parsed"].value == 5
    assert arxiv_content(res) == arxiv_content(scratch)


def test_snapshot_empty_feed_for_an_asked_id_records_it_missing(tmp_path, real_data, server):
    snap = tmp_path / "snap" / "arxiv"
    snap.mkdir(parents=True)
    empty = (RECORDED / "id_0000.0000_s0_m100_8b51d9633a68.xml").read_text().replace("0000.0000", "2301.99999")
    (snap / "unknown.xml").write_text(empty)
    res = resources(tmp_path, client(server), source="snapshot")
    seed(res, tables=[("https://arxiv.org/abs/2301.99999v1", None)])
    meta = run(res)
    assert (meta["papers"].value, meta["missing"].value) == (0, 1)
    assert rows(res, "SELECT arxiv_id, seen_at FROM raw.arxiv_missing") == [
        ("2301.99999", datetime(2026, 4, 12, 22, 9, 26))]


def test_empty_inputs_load_nothing_and_ask_nothing(tmp_path, server, corpus):
    res = resources(tmp_path, client(server))
    seed(res)
    meta = run(res)
    assert (meta["papers"].value, meta["missing"].value, meta["requests"].value) == (0, 0, 0)
