"""arXiv id normalisation, withdrawal detection, the rolling-window plan and the category areas."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.sources.arxiv.feeds import is_withdrawn
from assets.sources.arxiv.ids import (
    OLD_STYLE_ARCHIVES,
    normalize_arxiv_id,
    split_version,
)
from assets.sources.arxiv.plan import plan_fetch
from assets.sources.http import stable_slot
from warehouse import REFERENCE_DIR


@pytest.mark.parametrize("text, expected", [
    ("1911.02116", ("1911.02116", None)),
    ("1911.02116v2", ("1911.02116", 2)),
    (" arXiv:1911.02116 ", ("1911.02116", None)),
    ("arxiv: 1911.02116v3", ("1911.02116", 3)),
    ("ARXIV:1911.02116", ("1911.02116", None)),
    ("https://arxiv.org/abs/1911.02116", ("1911.02116", None)),
    ("https://arxiv.org/abs/1911.02116v2", ("1911.02116", 2)),
    ("http://arxiv.org/pdf/1911.02116v2.pdf", ("1911.02116", 2)),
    ("https://arxiv.org/pdf/1911.02116", ("1911.02116", None)),
    ("arxiv.org/abs/1911.02116/", ("1911.02116", None)),
    ("https://www.arxiv.org/abs/1911.02116?context=cs", ("1911.02116", None)),
    ("https://export.arxiv.org/abs/1911.02116v1#section", ("1911.02116", 1)),
    ("https://arxiv.org/html/2401.00001v1", ("2401.00001", 1)),
    ("10.48550/arXiv.2201.00001", ("2201.00001", None)),
    ("https://doi.org/10.48550/arXiv.1911.02116", ("1911.02116", None)),
    ("0704.0001", ("0704.0001", None)),
    ("1412.9999", ("1412.9999", None)),
    ("1501.00001", ("1501.00001", None)),
    ("hep-th/9901001", ("hep-th/9901001", None)),
    ("hep-th/9901001v3", ("hep-th/9901001", 3)),
    ("HEP-TH/9901001", ("hep-th/9901001", None)),
    ("math.GT/0309136", ("math/0309136", None)),
    ("arXiv:cs/0101001v1", ("cs/0101001", 1)),
    ("https://arxiv.org/abs/astro-ph/0601001v1", ("astro-ph/0601001", 1)),
    ("https://arxiv.org/pdf/quant-ph/0201082v1.pdf", ("quant-ph/0201082", 1)),
])
def test_normalises_every_reference_form(text, expected):
    assert normalize_arxiv_id(text) == expected


@pytest.mark.parametrize("text", [
    None, "", "   ", "abc", "0000.0000", "0000.0001", "1913.00001",       # month 13
    "0703.0001",                                                          # new style before April 2007
    "1501.0001", "1412.00001",                                            # serial width of the wrong era
    "1911.2116", "1911.021160", "1911.02116v0", "1911.02116v", "1911.00000",
    "foo/9901001", "hep-th/990100", "hep-th/9913001", "hep-th/0801001",   # unknown archive, bad yymm
    "https://arxiv.org/list/cs.CL/recent", "https://arxiv.org/abs/", "https://example.org/abs/1911.02116",
    "1911.02116 and 1911.02117", "see arXiv:1911.02116 for details", 1911.02116,
])
def test_refuses_what_is_not_one_valid_id(text):
    assert normalize_arxiv_id(text) is None


new_ids = st.builds(
    lambda yymm, serial: f"{yymm:04d}.{serial:0{5 if yymm >= 1501 else 4}d}",
    st.sampled_from([y * 100 + m for y in range(7, 30) for m in range(1, 13) if y * 100 + m >= 704]),
    st.integers(1, 9999),
)
old_ids = st.builds(
    lambda archive, yy, mm, serial: f"{archive}/{yy:02d}{mm:02d}{serial:03d}",
    st.sampled_from(sorted(OLD_STYLE_ARCHIVES)), st.sampled_from([*range(91, 100), *range(0, 8)]),
    st.integers(1, 12), st.integers(1, 999),
)
forms = st.sampled_from([
    "{}", "arXiv:{}", "arxiv: {}", "https://arxiv.org/abs/{}", "http://arxiv.org/pdf/{}.pdf",
    "https://arxiv.org/pdf/{}", "https://export.arxiv.org/abs/{}", "  {}  ", "10.48550/arXiv.{}",
])


@given(st.one_of(new_ids, old_ids), st.one_of(st.none(), st.integers(1, 40)), forms)
def test_every_form_of_a_valid_id_normalises_to_it(arxiv_id, version, form):
    text = form.format(arxiv_id + (f"v{version}" if version else ""))
    assert normalize_arxiv_id(text) == (arxiv_id, version)
    # and the normal form is a fixed point
    assert normalize_arxiv_id(arxiv_id) == (arxiv_id, None)


@given(st.text(max_size=80))
def test_never_raises_and_always_returns_a_valid_id(text):
    parsed = normalize_arxiv_id(text)
    if parsed is not None:
        arxiv_id, version = parsed
        assert normalize_arxiv_id(arxiv_id) == (arxiv_id, None)
        assert version is None or version >= 1


def test_split_version():
    assert split_version("2104.12255v1") == ("2104.12255", 1)
    assert split_version("astro-ph/0601001v12") == ("astro-ph/0601001", 12)
    assert split_version("2104.12255") == ("2104.12255", None)


@pytest.mark.parametrize("title, comment, summary, expected", [
    ("A Paper", "This paper has been withdrawn by the author", "", True),
    ("A Paper", "withdrawn", "", True),
    ("A Paper", "Paper withdrawn due to an error in Lemma 2", "", True),
    ("Withdrawn: A Paper", None, "", True),
    ("[Withdrawn] A Paper", None, "", True),
    ("A Paper", None, "This paper has been withdrawn by the author.", True),
    ("This paper has been withdrawn", None, "", True),
    ("A Paper", "this submission is withdrawn", "", True),
    ("A Paper", "12 pages, 3 figures", "We study withdrawn papers on arXiv.", False),
    ("Why Papers Get Withdrawn from Journals", None, "", False),
    ("A Paper", "Replaces a withdrawn preprint of the second author", "", False),
    ("A Paper", None, "", False),
])
def test_withdrawn_when_comment_or_title_says_so(title, comment, summary, expected):
    assert is_withdrawn(title, comment, summary) is expected


# --- the rolling window --------------------------------------------------------------------------

TODAY = date(2026, 11, 23)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2)


def test_plan_asks_for_new_ids_and_nothing_twice_a_day():
    refs = {"1911.02116": None, "1605.08386": None}
    held = {"1911.02116": 2}
    checked = {"1911.02116": at(TODAY)}
    assert plan_fetch(refs, held, checked, {}, TODAY, 30) == {"1605.08386": "new"}
    # asked already today: even a newer claimed version waits for tomorrow
    assert plan_fetch({"1911.02116": 3}, held, checked, {}, TODAY, 30) == {}


def test_plan_claimed_newer_version_once_per_claim():
    yesterday = {"1911.02116": at(TODAY - timedelta(days=1))}
    assert plan_fetch({"1911.02116": 3}, {"1911.02116": 2}, yesterday, {}, TODAY, 10**6) == {
        "1911.02116": "claimed-version"}
    assert plan_fetch({"1911.02116": 3}, {"1911.02116": 2}, yesterday, {"1911.02116": 3}, TODAY, 10**6) == {}
    assert plan_fetch({"1911.02116": 2}, {"1911.02116": 2}, yesterday, {}, TODAY, 10**6) == {}
    assert plan_fetch({"1911.02116": 4}, {"1911.02116": 2}, yesterday, {"1911.02116": 3}, TODAY, 10**6) == {
        "1911.02116": "claimed-version"}


def test_rolling_window_rechecks_each_known_paper_once_per_cycle_about_one_nth_a_night():
    days = 30
    ids = [f"2001.{i:05d}" for i in range(1, 3001)]
    refs = dict.fromkeys(ids)
    held = dict.fromkeys(ids, 1)
    start = TODAY
    checked = {i: at(start) for i in ids}
    per_night, times = [], Counter()
    for night in range(1, 2 * days + 1):
        day = start + timedelta(days=night)
        plan = plan_fetch(refs, held, checked, {}, day, days)
        assert set(plan.values()) <= {"window"}
        per_night.append(len(plan))
        for arxiv_id in plan:
            checked[arxiv_id] = at(day)
            times[arxiv_id] += 1
    assert set(times.values()) == {2}                       # once per 30-night cycle, every paper
    assert sum(per_night[:days]) == len(ids)
    assert max(per_night) <= 1.5 * len(ids) / days and min(per_night) >= 0.5 * len(ids) / days


def test_rolling_window_catches_up_after_missed_nights():
    ids = [f"2001.{i:05d}" for i in range(1, 301)]
    checked = {i: at(TODAY) for i in ids}
    later = TODAY + timedelta(days=12)                       # ran nightly until day 0, then not for 11 nights
    plan = plan_fetch(dict.fromkeys(ids), dict.fromkeys(ids, 1), checked, {}, later, 10)
    assert set(plan) == set(ids)
    assert Counter(plan.values())["window"] == sum(stable_slot(i, 10) == later.toordinal() % 10 for i in ids)


def test_slots_are_stable_and_spread():
    assert stable_slot("1911.02116", 30) == stable_slot("1911.02116", 30)
    slots = Counter(stable_slot(f"2001.{i:05d}", 7) for i in range(1, 7001))
    assert set(slots) == set(range(7)) and max(slots.values()) < 1.2 * 1000


# --- category areas ------------------------------------------------------------------------------


def test_category_area_file_is_a_clean_mapping():
    with open(REFERENCE_DIR / "arxiv_category_areas.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"category", "area"}
    categories = [r["category"] for r in rows]
    assert len(categories) == len(set(categories))
    areas = {r["category"]: r["area"] for r in rows}
    assert areas["cs.CL"] == "Natural Language Processing"
    assert areas["cs.CV"] == "Computer Vision"
    assert areas["cs.LG"] == areas["stat.ML"] == "Machine Learning"
    assert areas["cs.SD"] == areas["eess.AS"] == "Speech"
    assert {"cs.IR", "cs.AI", "cs.RO", "q-bio.QM", "astro-ph", "hep-th", "math.OC"} <= set(areas)
    assert all(r["area"].strip() == r["area"] and r["area"] for r in rows)


@pytest.mark.parametrize("text", [
    "https://arxiv.org/abs/1911.02116v2", "arXiv:1911.02116", "10.48550/arXiv.1911.02116",
    "https://doi.org/10.48550/arxiv.2101.00001v3", "hep-th/9901001", "math.GT/0309136", "HEP-TH/9901001v2",
    "https://arxiv.org/pdf/cond-mat/0102536v1.pdf", "http://arxiv.org/pdf/1911.02116v2.pdf",
])
def test_the_warehouse_macro_reads_ids_as_the_ingest_does(text):
    """results.arxiv_id (SQL macro) must name the same paper that arxiv_papers fetched (Python)."""
    import duckdb

    from warehouse.database import sql

    con = duckdb.connect()
    con.execute(sql("create_macros"))
    assert con.execute("SELECT arxiv_id_of(?)", [text]).fetchone()[0] == normalize_arxiv_id(text)[0]
