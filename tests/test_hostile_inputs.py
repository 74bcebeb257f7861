"""Hostile and broken inputs through the real ingest assets and the whole `nightly` job.

One snapshot directory holds the bundled snapshot (without its catalog, so everything is tracked)
plus a corpus of hostile inputs: hypothesis-generated model-index blocks in card YAML (random
nesting, wrong types, huge numbers, NaN, unicode, non-string keys), YAML nested 10,000 levels, a
YAML alias bomb, a 5 MB card, non-UTF-8 bytes in cards, model JSON, tables and feeds,
hypothesis-generated Atom feeds (missing fields, bad dates, bad ids) and feeds with XXE and entity
bombs, Papers-with-Code table files of wrong shapes, and curated CSVs with ragged rows.

The job runs once, in process, in snapshot mode. It must not crash, must publish, and must
account for everything: every generated result is in `results` or has a `quarantine` row naming
its record (or the block, file or feed that holds it); every table file reconciles; no external
entity is ever resolved.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import dagster as dg
import duckdb
import pytest
import yaml
from arxiv_replay import arxiv_routes, synthetic_entry
from conftest import varchar_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pipeline_harness import OFFLINE_HUB
from replay import ReplayServer

from assets.sources.arxiv.client import ArxivResource
from assets.sources.arxiv.feeds import read_feed
from assets.sources.arxiv.ids import normalize_arxiv_id, split_version
from assets.sources.hub.cards import EvalParse, parse_card, parse_model_index
from pipelines.definitions import build_definitions
from pipelines.settings import BUNDLED_SNAPSHOT, Settings

pytestmark = pytest.mark.slow

EXAMPLES = 25
HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
SHA = "0123456789abcdef0123456789abcdef01234567"
CANARY = "XXE-CANARY-7f3e1b"            # content of a local file the hostile feeds try to include

# --- strategies ---------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["83.6", "83.6%", "**70.3**", "0.7482 ± 0.0015", "1,234.5", "0,912", "-", "n/a", "NaN", "1e999",
                     "-1e999", "x.xx", "-1", "1e308", "9" * 400, "٣٫١٤", "½", "<script>alert(1)</script>"]),
)
KEYS = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.none(), st.booleans(), st.floats(allow_nan=False))
ANYTHING = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                        max_leaves=8)
def mutate(document: object, mutations: list[tuple[int, object]]) -> object:
    """`document` with some of its values replaced by junk: mutation (k, junk) replaces the k-th
    value (mod their number, depth first, the document itself being value 0) by `junk`."""
    for k, junk in mutations:
        slots: list[tuple[object, object]] = [(None, None)]          # (container, key) of every value

        def walk(node: object) -> None:
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
            for key, value in list(items):
                slots.append((node, key))
                walk(value)

        walk(document)
        container, key = slots[k % len(slots)]
        if container is None:
            document = junk
        else:
            container[key] = junk
    return document


MUTATIONS = st.lists(st.tuples(st.integers(0, 10 ** 6), ANYTHING), max_size=3)

# Well-shaped documents first, then broken at random places by `mutate`: wrong types, NaN, huge
# numbers, unicode, non-string keys anywhere.
NAMES = st.one_of(st.sampled_from(["accuracy", "f1", "exact_match", "wer", "bleu", "parameters", "Test Accuracy", "",
                                   "acc"]), SCALARS)
DATASETS = st.one_of(st.sampled_from(["xnli", "squad_v2", "glue", "imdb", "rajpurkar/squad", "ü∂", ""]), SCALARS)
TASKS = st.one_of(st.sampled_from(["text-classification", "question-answering", "automatic-speech-recognition"]),
                  SCALARS)
VALUES = st.one_of(st.sampled_from(["83.6", "0.912", "93.1%", "**70.3**", "0.7482 ± 0.0015"]), SCALARS, ANYTHING)
METRIC = st.fixed_dictionaries({"type": NAMES, "value": VALUES},
                               optional={"name": NAMES, "verified": ANYTHING, "verifyToken": SCALARS})
RESULT = st.fixed_dictionaries(
    {"task": st.fixed_dictionaries({"type": TASKS}, optional={"name": TASKS}),
     "dataset": st.fixed_dictionaries({"type": DATASETS, "name": DATASETS},
                                      optional={"split": SCALARS, "config": SCALARS}),
     "metrics": st.lists(METRIC, min_size=1, max_size=4)},
    optional={"source": ANYTHING})
ENTRY = st.fixed_dictionaries({"name": SCALARS, "results": st.lists(RESULT, min_size=1, max_size=3)})
MODEL_INDEX = st.builds(mutate, st.lists(ENTRY, min_size=1, max_size=3), MUTATIONS)

XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(
    map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])))
# text XML 1.0 allows, and now and then any text at all (control characters make a feed ill-formed)
XML_TEXT = st.one_of(st.text(alphabet=XML_CHARS, max_size=30), st.text(alphabet=XML_CHARS, max_size=30),
                     st.text(alphabet=XML_CHARS, max_size=30), st.text(alphabet=XML_CHARS, max_size=30),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
GOOD_DATE = st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
BAD_DATE = st.one_of(st.sampled_from(["yesterday", "2020-13-45T00:00:00Z", "", "2020-02-30T25:61:61Z", "0000-00-00",
                                      "2020-01-01T00:00:00+99:00", "0001-01-01T00:00:00+05:00", "٢٠٢٠-٠١-٠١"]),
                     XML_TEXT)
DATE = st.one_of(GOOD_DATE, GOOD_DATE, GOOD_DATE, BAD_DATE, st.none())
NEW_ID = st.tuples(st.integers(15, 26), st.integers(1, 12), st.integers(1, 99999), st.integers(1, 9)).map(
    lambda t: f"{t[0]:02d}{t[1]:02d}.{t[2]:05d}v{t[3]}")
BAD_ID = st.one_of(st.sampled_from(["", "not-an-id", "0000.00000v1", "1913.00001v1", "hep-th/9913001v1",
                                    "../../etc/passwd", "2001.00001v0"]), XML_TEXT)
FEED_ENTRY = st.fixed_dictionaries({
    "id": st.one_of(NEW_ID, NEW_ID, NEW_ID, BAD_ID, st.none()),
    "updated": DATE, "published": DATE,
    "title": st.one_of(XML_TEXT, st.none()),
    "summary": st.one_of(XML_TEXT, st.none()),
    "authors": st.lists(XML_TEXT, max_size=3),
    "category": st.one_of(st.sampled_from(["cs.CL", "cs.LG", "hep-th"]), XML_TEXT, st.none()),
    "comment": st.one_of(st.none(), XML_TEXT, st.just("This paper has been withdrawn")),
})
FEED = st.lists(FEED_ENTRY, min_size=1, max_size=5)

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 30), 10 ** 30),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10))
JSON_ANY = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
TABLE_METRICS = st.dictionaries(st.one_of(st.sampled_from(["Accuracy", "F1", "1", "", "null", "0", "EM",
                                                          "Number of params"]), st.text(max_size=8)),
                                st.one_of(st.sampled_from(["83.6", "91.2%", "24M", "-"]), JSON_SCALARS, JSON_ANY),
                                min_size=1, max_size=4)
TABLE_ROW = st.fixed_dictionaries({"model_name": st.one_of(st.text(max_size=12), JSON_SCALARS),
                                   "metrics": TABLE_METRICS},
                                  optional={"paper_url": st.one_of(st.just("https://arxiv.org/abs/1911.02116"),
                                                                   JSON_SCALARS),
                                            "paper_date": JSON_SCALARS, "paper_title": JSON_SCALARS})
TABLE_DATASET = st.recursive(
    st.fixed_dictionaries({"dataset": st.one_of(st.text(max_size=10), JSON_SCALARS),
                           "sota": st.fixed_dictionaries({"rows": st.lists(TABLE_ROW, min_size=1, max_size=3)})}),
    lambda inner: st.fixed_dictionaries({"dataset": st.text(max_size=10),
                                         "sota": st.fixed_dictionaries({"rows": st.lists(TABLE_ROW, max_size=2)}),
                                         "subdatasets": st.lists(inner, max_size=2)}),
    max_leaves=3)
TABLE_TASK = st.recursive(
    st.fixed_dictionaries({"task": st.one_of(st.text(max_size=10), JSON_SCALARS),
                           "datasets": st.lists(TABLE_DATASET, min_size=1, max_size=2)},
                          optional={"categories": JSON_ANY}),
    lambda inner: st.fixed_dictionaries({"task": st.text(max_size=10), "datasets": st.lists(TABLE_DATASET, max_size=2),
                                         "subtasks": st.lists(inner, max_size=2)}),
    max_leaves=3)
JSON_MUTATIONS = st.lists(st.tuples(st.integers(0, 10 ** 6), JSON_ANY), max_size=3)
TABLE_FILE = st.builds(mutate, st.lists(TABLE_TASK, min_size=1, max_size=3), JSON_MUTATIONS)
CSV_CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
CSV_ROWS = st.lists(st.lists(CSV_CELL, min_size=0, max_size=6), min_size=1, max_size=6)


def collect(strategy: st.SearchStrategy) -> list:
    """EXAMPLES values of `strategy`, drawn by hypothesis itself (derandomized: the same every run)."""
    drawn: list = []

    @HYPOTHESIS
    @given(strategy)
    def draw(value):
        drawn.append(value)

    draw()
    return drawn


# --- the corpus ---------------------------------------------------------------------------------


@dataclass
class Corpus:
    root: Path
    model_index: dict[str, object] = field(default_factory=dict)       # model id -> model-index as loaded
    hostile_models: set[str] = field(default_factory=set)               # every hostile model id
    feed_entries: dict[str, list[dict]] = field(default_factory=dict)   # arxiv/<file> -> generated entries
    tables: dict[str, object] = field(default_factory=dict)             # tables/<file> -> JSON document
    csv_rows: dict[str, int] = field(default_factory=dict)              # tables/<file> -> data rows written
    unreadable_csv: dict[str, bytes] = field(default_factory=dict)      # set aside: read_csv raises on them
    # files the snapshot jail must refuse unread (links leaving the root, FIFOs, oversized, too deep,
    # empty): (source, record_key) -> the start of the reason
    jailed: dict[tuple[str, str], str] = field(default_factory=dict)
    table_status: dict[str, str] = field(default_factory=dict)          # tables/<file> -> expected status
    tried: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def add_model(corpus: Corpus, model_id: str, card: bytes | str | None, info: bytes | dict | None = None) -> None:
    body = info if info is not None else {"id": model_id, "sha": SHA}
    write(corpus.root / "hub" / "models" / f"{model_id}.json",
          body if isinstance(body, bytes) else json.dumps(body))
    if card is not None:
        write(corpus.root / "hub" / "cards" / model_id / "README.md", card)
    corpus.hostile_models.add(model_id)


def card_text(front: str, body: str = "A hostile card.\n") -> str:
    return f"---\n{front}\n---\n\n{body}"


VALID_RESULT = ("model-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n"
                "    dataset: {type: imdb, name: IMDB}\n    metrics:\n    - {type: accuracy, value: 93.1}\n")


def feed_xml(entries: list[dict], doctype: str = "", extra_entry: str = "") -> str:
    out = ["<?xml version='1.0' encoding='UTF-8'?>", doctype,
           '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">',
           "  <id>https://arxiv.org/api/hostile</id>", "  <title>hostile</title>",
           "  <updated>2026-11-23T02:00:00Z</updated>"]
    for e in entries:
        out.append("  <entry>")
        if e["id"] is not None:
            out.append(f"    <id>http://arxiv.org/abs/{escape(e['id'])}</id>")
        for tag in ("updated", "published"):
            if e[tag] is not None:
                out.append(f"    <{tag}>{escape(e[tag])}</{tag}>")
        if e["title"] is not None:
            out.append(f"    <title>{escape(e['title'])}</title>")
        if e["summary"] is not None:
            out.append(f"    <summary>{escape(e['summary'])}</summary>")
        for name in e["authors"]:
            out.append(f"    <author><name>{escape(name)}</name></author>")
        if e["category"] is not None:
            out.append(f'    <arxiv:primary_category term="{escape(e["category"], {chr(34): "&quot;"})}"/>')
        if e["comment"] is not None:
            out.append(f"    <arxiv:comment>{escape(e['comment'])}</arxiv:comment>")
        out.append("  </entry>")
    out += [extra_entry, "</feed>", ""]
    return "\n".join(out)


def deep_dataset(levels: int) -> dict:
    """A dataset whose subdatasets nest `levels` deep, one row with one metric at each level."""
    dataset = {"dataset": f"level {levels}", "sota": {"rows": [{"model_name": "M", "metrics": {"Accuracy": "80.1"}}]}}
    return dataset if levels == 0 else {**dataset, "subdatasets": [deep_dataset(levels - 1)]}


def deep_sequence(levels: int) -> str:
    return "- " * levels + "x"


def plant_jail_breaks(corpus: Corpus, outside: Path, canary_file: Path) -> None:
    """Entries of the snapshot that lead out of it or are not files: symbolic links to files
    outside the root (holding the canary) in tables/, arxiv/, hub/cards/, hub/models/ and
    hub/leaderboards/, a link to /dev/zero and /etc/passwd, FIFOs, a sparse file over the table
    cap, a table nested too deep and an empty one. Each must be refused unread, with a reason."""
    root = corpus.root
    outside.mkdir(parents=True, exist_ok=True)
    write(outside / "table.csv", f"model_name,benchmark,metric,value\n{CANARY},XNLI,accuracy,80\n")
    write(outside / "feed.xml", feed_xml([{"id": "2001.00046v1", "updated": "2020-01-02T03:04:05Z",
                                          "published": "2020-01-02T03:04:05Z", "title": CANARY, "summary": CANARY,
                                          "authors": [CANARY], "category": "cs.CL", "comment": None}]))
    write(outside / "info.json", json.dumps({"id": "hostile/link-info", "sha": SHA, "pipeline_tag": CANARY}))
    write(outside / "board.json", json.dumps([{"rank": 1, "modelId": "FacebookAI/roberta-base", "value": 1,
                                              "source": {"name": CANARY}}]))

    def link(name: str, target: Path, source: str, key: str, reason: str) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)
        corpus.jailed[(source, key)] = reason

    left = "is a link that leaves the snapshot root"
    link("tables/hostile_link_canary.json", canary_file, "tables", "tables/hostile_link_canary.json", f"table file {left}")
    link("tables/hostile_link_outside.csv", outside / "table.csv", "tables", "tables/hostile_link_outside.csv",
         f"table file {left}")
    link("tables/hostile_passwd.json", Path("/etc/passwd"), "tables", "tables/hostile_passwd.json", f"table file {left}")
    link("tables/hostile_dev_zero.json", Path("/dev/zero"), "tables", "tables/hostile_dev_zero.json",
         f"table file {left}")
    link("arxiv/hostile_link_outside.xml", outside / "feed.xml", "arxiv", "arxiv/hostile_link_outside.xml",
         f"feed {left}")
    link("arxiv/hostile_passwd.xml", Path("/etc/passwd"), "arxiv", "arxiv/hostile_passwd.xml", f"feed {left}")
    add_model(corpus, "hostile/link-card", None)
    link("hub/cards/hostile/link-card/README.md", canary_file, "hub-cards", "hostile/link-card/README.md",
         f"card {left}")
    link("hub/models/hostile/link-info.json", outside / "info.json", "hub", "hostile/link-info",
         f"hub/models/hostile/link-info.json: model info file {left}")
    link("hub/leaderboards/hostile/link-board.json", outside / "board.json", "hub-leaderboards", "hostile/link-board",
         f"leaderboard file {left}")

    for name, source, key, what in (("tables/hostile_fifo.json", "tables", "tables/hostile_fifo.json", "table file"),
                                    ("arxiv/hostile_fifo.xml", "arxiv", "arxiv/hostile_fifo.xml", "feed"),
                                    ("hub/cards/hostile/fifo-card/README.md", "hub-cards",
                                     "hostile/fifo-card/README.md", "card")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / name)
        corpus.jailed[(source, key)] = f"{what} is a FIFO, not a regular file"
    add_model(corpus, "hostile/fifo-card", None)

    with open(root / "tables" / "hostile_sparse.json", "wb") as sparse:     # 600 MB of nothing, no disk
        sparse.truncate(600_000_000)
    corpus.jailed[("tables", "tables/hostile_sparse.json")] = "table file too large: 600000000 bytes (limit 512000000)"
    with open(root / "hub" / "models" / "hostile" / "sparse-info.json", "wb") as sparse:
        sparse.truncate(6_000_000)
    corpus.jailed[("hub", "hostile/sparse-info")] = (
        "hub/models/hostile/sparse-info.json: model info file too large: 6000000 bytes (limit 5000000)")
    write(root / "tables" / "hostile_too_deep.json", json.dumps([{"task": "T", "datasets": [deep_dataset(200)]}]))
    corpus.jailed[("tables", "tables/hostile_too_deep.json")] = "JSON nested deeper than about 64 levels"
    write(root / "tables" / "hostile_zero_bytes.json", b"")
    corpus.jailed[("tables", "tables/hostile_zero_bytes.json")] = "empty file: 0 bytes"
    for name in [key for source, key in corpus.jailed if source == "tables"]:
        corpus.table_status[name] = "refused"
    corpus.table_status["tables/hostile_zero_bytes.json"] = "empty"
    corpus.tried["links out of the snapshot, FIFOs, oversized, too deep and empty files"] += len(corpus.jailed)


def build_corpus(root: Path, canary_file: Path) -> Corpus:
    shutil.copytree(BUNDLED_SNAPSHOT, root)
    (root / "catalog.yaml").unlink()                 # no catalog: everything in the snapshot is tracked
    corpus = Corpus(root)

    # hypothesis-generated model-index blocks, one card each
    for i, model_index in enumerate(collect(MODEL_INDEX)):
        front = yaml.safe_dump({"model-index": model_index}, allow_unicode=True, sort_keys=False, width=10 ** 6)
        model_id = f"hostile/mi-{i:02d}"
        add_model(corpus, model_id, card_text(front))
        try:
            corpus.model_index[model_id] = yaml.safe_load(front)["model-index"]
        except yaml.YAMLError:
            corpus.model_index[model_id] = None
        corpus.tried["model-index blocks (hypothesis)"] += 1

    fixed_cards = {
        "hostile/deep-flow-list": card_text("model-index: " + "[" * 10_000 + "]" * 10_000),
        "hostile/deep-flow-map": card_text("model-index: " + "{a: " * 10_000 + "1" + "}" * 10_000),
        "hostile/deep-block-seq": card_text("model-index:\n" + deep_sequence(10_000)),
        "hostile/alias-bomb": card_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
            + "model-index: *i"),
        "hostile/not-closed": "---\nmodel-index: []\n" + "x: 1\n" * 10,
        "hostile/front-matter-list": card_text("- 1\n- 2"),
        "hostile/yaml-python-tag": card_text("model-index: !!python/object/apply:os.system ['echo pwned']"),
        "hostile/huge-card": card_text(VALID_RESULT, ("Lorem ipsum **dolor** sit amet, [link](https://example.org) "
                                                      "`code` <b>b</b> é 漢字.\n\n" * 80_000)[:5_000_000]),
        "hostile/nested-markdown": card_text(VALID_RESULT, ">" * 10_000 + " quote\n\n" + "<div>" * 10_000 + "x"
                                             + "</div>" * 10_000 + "\n\n" + "[" * 10_000 + "\n\n" + "*" * 10_000),
        "hostile/nul-bytes": card_text(VALID_RESULT.replace("93.1", '"93.1\\0"'), "body \x00 with NUL\n"),
    }
    for model_id, card in fixed_cards.items():
        add_model(corpus, model_id, card)
        corpus.tried["fixed hostile cards"] += 1
    corpus.model_index["hostile/huge-card"] = yaml.safe_load(VALID_RESULT)["model-index"]
    corpus.model_index["hostile/nested-markdown"] = yaml.safe_load(VALID_RESULT)["model-index"]
    assert len(fixed_cards["hostile/huge-card"]) > 5_000_000

    # non-UTF-8 bytes: in a card (around a valid model-index), in model info files
    add_model(corpus, "hostile/latin1-card",
              card_text(VALID_RESULT).encode().replace(b"A hostile card.", b"caf\xe9 \xff\xfe na\xefve"))
    corpus.model_index["hostile/latin1-card"] = yaml.safe_load(VALID_RESULT)["model-index"]
    corpus.tried["fixed hostile cards"] += 1
    add_model(corpus, "hostile/latin1-info", None,
              b'{"id": "hostile/latin1-info", "sha": "' + SHA.encode() + b'", "cardData": {"license": "caf\xe9"}}')
    add_model(corpus, "hostile/deep-json-info", None,
              ('{"id": "hostile/deep-json-info", "sha": "%s", "cardData": %s}'
               % (SHA, "[" * 10_000 + "]" * 10_000)).encode())
    add_model(corpus, "hostile/info-not-object", None, b"[1, 2, 3]")
    add_model(corpus, "hostile/info-bad-id", None, json.dumps({"id": "../../etc/passwd", "sha": SHA}).encode())
    add_model(corpus, "hostile/info-nan", None,
              b'{"id": "hostile/info-nan", "sha": "%s", "downloads": NaN, "likes": 1e999, '
              b'"safetensors": {"total": -1e400}, "model-index": [{"results": [{"task": {"type": "t"}, '
              b'"dataset": {"type": "imdb"}, "metrics": [{"type": "accuracy", "value": NaN}]}]}]}' % SHA.encode())
    corpus.model_index["hostile/info-nan"] = [{"results": [{"task": {"type": "t"}, "dataset": {"type": "imdb"},
                                                            "metrics": [{"type": "accuracy", "value": math.nan}]}]}]
    corpus.tried["model info files"] += 5

    # hypothesis-generated Atom feeds
    for i, entries in enumerate(collect(FEED)):
        name = f"arxiv/hostile_{i:02d}.xml"
        write(root / name, feed_xml(entries))
        corpus.feed_entries[name] = entries
        corpus.tried["Atom feeds (hypothesis)"] += 1
        corpus.tried["feed entries (hypothesis)"] += len(entries)

    good = {"id": "2001.00042v1", "updated": "2020-01-02T03:04:05Z", "published": "2020-01-02T03:04:05Z",
            "title": "&xxe;", "summary": "&xxe; &local; &bomb;", "authors": ["&xxe;"], "category": "cs.CL",
            "comment": None}
    doctype = ("<!DOCTYPE feed [\n"
               '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
               f'  <!ENTITY local SYSTEM "file://{canary_file}">\n'
               '  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
               '  <!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
               '  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
               '  <!ENTITY bomb "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n'
               "  %remote;\n]>")
    xxe = feed_xml([good], doctype).replace("&amp;xxe;", "&xxe;").replace("&amp;local;", "&local;").replace(
        "&amp;bomb;", "&bomb;")
    write(root / "arxiv" / "hostile_xxe.xml", xxe)
    corpus.feed_entries["arxiv/hostile_xxe.xml"] = [good]
    latin1 = {**good, "id": "2001.00043v1", "title": "caf\u00e9"}
    write(root / "arxiv" / "hostile_latin1.xml", feed_xml([latin1]).replace("caf\u00e9", "caf\udce9").encode(
        "utf-8", "surrogateescape"))
    corpus.feed_entries["arxiv/hostile_latin1.xml"] = [latin1]
    broken = {**good, "id": "2001.00044v1", "title": "cut"}
    write(root / "arxiv" / "hostile_cut.xml", feed_xml([broken, {**good, "id": "2001.00045v1", "title": "t"}])[:-60])
    corpus.feed_entries["arxiv/hostile_cut.xml"] = [broken, {**good, "id": "2001.00045v1"}]
    write(root / "arxiv" / "hostile_binary.xml", b"\x00\xff\xfe<feed>\x00")
    corpus.feed_entries["arxiv/hostile_binary.xml"] = []
    corpus.tried["fixed hostile feeds (XXE, entity bomb, non-UTF-8, cut, binary)"] += 4

    # Papers-with-Code table files of wrong shapes
    for i, doc in enumerate(collect(TABLE_FILE)):
        name = f"tables/hostile_{i:02d}.json"
        write(root / name, json.dumps(doc))
        corpus.tables[name] = doc
        corpus.tried["table JSON files (hypothesis)"] += 1
    fixed_tables = {
        "tables/hostile_numbers.json": [1, 2, 3],
        "tables/hostile_object.json": {"task": "x"},
        "tables/hostile_null.json": None,
        "tables/hostile_nested_nulls.json": [None, {"task": None, "datasets": None}, {"task": "T", "datasets": [
            None, {"dataset": None, "sota": None}, {"dataset": "D", "sota": {"rows": [
                None, 1, {"model_name": None, "metrics": None},
                {"model_name": "M",
                 "metrics": {"1": 2, "": "3", "null": None, "F1": [1], "BLEU": {"x": 1}, "0": True}}]}}]}],
        "tables/hostile_deep_subdatasets.json": [{"task": "T", "datasets": [deep_dataset(4)]}],
        "tables/hostile_metrics_list.json": [{"task": "T", "datasets": [{"dataset": "D", "sota": {"rows": [
            {"model_name": "M", "metrics": [["Accuracy", 1]]}]}}]}],
    }
    for name, doc in fixed_tables.items():
        write(root / name, json.dumps(doc))
        corpus.tables[name] = doc
    # the same row twice (counted once), and metric names that are empty or hold a NUL
    row = {"model_name": "Dup", "paper_title": "P", "metrics": {"Accuracy": "80.1"}}
    fixed_tables["tables/hostile_duplicate_rows.json"] = [{"task": "Natural Language Inference", "datasets": [
        {"dataset": "SNLI", "sota": {"rows": [row, dict(row), {**row, "metrics": {"Accuracy": "80.2"}}]}}]}]
    fixed_tables["tables/hostile_metric_names.json"] = [{"task": "Natural Language Inference", "datasets": [
        {"dataset": "SNLI", "sota": {"rows": [{"model_name": "Names", "metrics": {"": "80.1", " ": "80.3",
                                                                                  "Acc\u0000uracy": "80.2"}}]}}]}]
    for name in ("tables/hostile_duplicate_rows.json", "tables/hostile_metric_names.json"):
        write(root / name, json.dumps(fixed_tables[name]))
        corpus.tables[name] = fixed_tables[name]
    write(root / "hub" / "leaderboards" / "hostile" / "traversal.json", json.dumps([
        {"rank": 1, "modelId": "../../etc/passwd", "value": 99.0},
        {"rank": 2, "modelId": "FacebookAI/roberta-base", "value": 80.0}]))
    corpus.tried["fixed hostile leaderboards"] += 1
    write(root / "tables" / "hostile_latin1.json", b'[{"task": "caf\xe9", "datasets": []}]')
    corpus.tables["tables/hostile_latin1.json"] = None
    write(root / "tables" / "hostile_not_json.json", b'[{"task": "T", "datasets": [')
    corpus.tables["tables/hostile_not_json.json"] = None
    corpus.tried["fixed hostile table JSON files"] += len(fixed_tables) + 2

    # curated CSVs: hypothesis-generated ragged rows under the real header, and fixed broken ones
    header = "model_name,benchmark,metric,value\n"
    for i, rows in enumerate(collect(CSV_ROWS)):
        name = f"tables/hostile_{i:02d}.csv"
        lines = [",".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows]
        write(root / name, header + "\n".join(lines) + "\n")
        corpus.csv_rows[name] = sum(1 for line in lines if line)
        corpus.tried["curated CSVs with ragged rows (hypothesis)"] += 1
    fixed_csv = {
        "tables/hostile_ragged.csv": (header + "A,XNLI,accuracy,80\nB,XNLI\nC,XNLI,accuracy,81,extra,cells\n", 3),
        "tables/hostile_unbalanced.csv": (header + 'A,"XNLI,accuracy,80\nB,XNLI,accuracy,81\n', 2),
        "tables/hostile_empty.csv": ("", 0),
        "tables/hostile_header_only.csv": (header, 0),
        "tables/hostile_bom.csv": ("\ufeff" + header + "A,XNLI,accuracy,80\n", 1),
    }
    for name, (text, n) in fixed_csv.items():
        write(root / name, text)
        corpus.csv_rows[name] = n
    write(root / "tables" / "hostile_latin1.csv", (header + "caf\xe9,XNLI,accuracy,80\n").encode("latin-1"))
    corpus.csv_rows["tables/hostile_latin1.csv"] = 1
    corpus.tried["fixed hostile CSVs"] += len(fixed_csv) + 1
    # CSVs that DuckDB's read_csv refuses abort benchmark_table_rows' transaction (see
    # test_an_unreadable_csv_does_not_abort_the_table_ingest): kept out of the full run
    for name in list(corpus.csv_rows):
        try:
            duckdb.connect().execute("SELECT * FROM read_csv(?, all_varchar = true, header = true)",
                                     [str(root / name)]).fetchall()
        except duckdb.Error:
            corpus.unreadable_csv[name] = (root / name).read_bytes()
            (root / name).unlink()
            del corpus.csv_rows[name]
            corpus.tried["of which CSVs set aside (read_csv refuses them)"] += 1
    plant_jail_breaks(corpus, root.parent / "outside", canary_file)
    return corpus


# --- accounting ---------------------------------------------------------------------------------


def model_index_records(model_id: str, model_index: object) -> list[str]:
    """The record keys of every result a model-index block holds, at the finest level its shape
    allows (a metric; else the result, entry or block that cannot hold metrics)."""
    base = f"{model_id}/model-index"
    if model_index is None:                                   # `model-index: null` holds nothing
        return []
    if not isinstance(model_index, list):
        return [base]
    keys = []
    for e, entry in enumerate(model_index):
        results = entry.get("results") if isinstance(entry, dict) else None
        if not isinstance(results, list):
            keys.append(f"{base}/{e}")
            continue
        for r, result in enumerate(results):
            metrics = result.get("metrics") if isinstance(result, dict) else None
            if not isinstance(metrics, list) or not metrics:
                keys.append(f"{base}/{e}.{r}")
                continue
            keys += [f"{base}/{e}.{r}.{m}" for m in range(len(metrics))]
    return keys


def ancestors(key: str) -> list[str]:
    """`m/model-index/0.1.2` -> itself, `m/model-index/0.1`, `m/model-index/0`, `m/model-index`, the
    card `m/README.md` and the model `m`."""
    model_id, _, rest = key.partition("/model-index")
    out = [key]
    position = rest.lstrip("/")
    while position:
        position = position.rpartition(".")[0]
        out.append(f"{model_id}/model-index/{position}" if position else f"{model_id}/model-index")
    return list(dict.fromkeys(out + [f"{model_id}/model-index", f"{model_id}/README.md", model_id]))


def table_cells(doc: object, subdataset_depth: int = 10 ** 6) -> int:
    """Cells of a Papers-with-Code evaluation-tables document: one per metric of a row of a dataset
    (or subdataset, nested up to `subdataset_depth` levels) of a task (or subtask)."""
    def dataset_cells(dataset: object, depth: int) -> int:
        if not isinstance(dataset, dict):
            return 0
        sota = dataset.get("sota")
        rows = sota.get("rows") if isinstance(sota, dict) else None
        n = sum(len(row["metrics"]) for row in rows if isinstance(row, dict) and isinstance(row.get("metrics"), dict)) \
            if isinstance(rows, list) else 0
        subs = dataset.get("subdatasets")
        if isinstance(subs, list) and depth < subdataset_depth:
            n += sum(dataset_cells(s, depth + 1) for s in subs)
        return n

    def task_cells(task: object) -> int:
        if not isinstance(task, dict):
            return 0
        datasets, subtasks = task.get("datasets"), task.get("subtasks")
        return (sum(dataset_cells(d, 0) for d in datasets) if isinstance(datasets, list) else 0) + \
            (sum(task_cells(t) for t in subtasks) if isinstance(subtasks, list) else 0)

    return sum(task_cells(t) for t in doc) if isinstance(doc, list) else 0


def silent_rows(doc: object) -> list[object]:
    """Table rows that carry values the format cannot place (metrics not a mapping): rows that give
    no cell, so only a quarantine row can account for them."""
    found = []

    def walk(task: object) -> None:
        if not isinstance(task, dict):
            return
        for dataset in task.get("datasets") if isinstance(task.get("datasets"), list) else []:
            stack = [dataset]
            while stack:
                d = stack.pop()
                if not isinstance(d, dict):
                    continue
                sota = d.get("sota")
                rows = sota.get("rows") if isinstance(sota, dict) else None
                for row in rows if isinstance(rows, list) else []:
                    if isinstance(row, dict) and row.get("metrics") not in (None, {}) \
                            and not isinstance(row.get("metrics"), dict):
                        found.append(row)
                stack += d.get("subdatasets") if isinstance(d.get("subdatasets"), list) else []
        for sub in task.get("subtasks") if isinstance(task.get("subtasks"), list) else []:
            walk(sub)

    for task in doc if isinstance(doc, list) else []:
        walk(task)
    return found


# --- the run ------------------------------------------------------------------------------------


@dataclass
class HostileRun:
    corpus: Corpus
    result: dg.ExecuteInProcessResult
    published: Path
    working: Path

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.published), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> HostileRun:
    tmp = tmp_path_factory.mktemp("hostile")
    canary_file = tmp / "canary.txt"
    canary_file.write_text(CANARY)
    corpus = build_corpus(tmp / "snapshot", canary_file)
    warehouse = tmp / "out" / "sotaboard.duckdb"
    settings_ = Settings.from_env({"SOTABOARD_SOURCE": "snapshot", "SOTABOARD_SNAPSHOT": str(corpus.root),
                                   "SOTABOARD_WAREHOUSE": str(warehouse)})
    job = build_definitions(settings_).resolve_job_def("nightly")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return HostileRun(corpus, result, warehouse, tmp / "out" / ".state" / "work.duckdb")


def test_the_job_survives_and_publishes(hostile_run, record_property):
    run = hostile_run
    failures = [(e.step_key, e.event_specific_data.error.message.splitlines()[0][:300])
                for e in run.result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures == []
    failed_checks = [e.event_specific_data.check_name for e in run.result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
                     and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR]
    assert failed_checks == []
    assert run.result.success and run.published.is_file()
    counts = {t: run.query(f'SELECT count(*) FROM "{t}"')[0][0] for (t,) in run.query(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")}
    assert counts["results"] > 600 and counts["models"] > 56           # the real data still loads beside it
    assert run.query("SELECT count(*) FROM model_page_card")[0][0] == counts["models"]
    tried = dict(run.corpus.tried)
    tried["total files"] = sum(v for k, v in tried.items() if not k.startswith(("feed entries", "of which")))
    record_property("hostile_inputs_tried", tried)
    print("\nhostile inputs tried:", tried)


def test_every_model_and_card_result_is_accounted_for(hostile_run):
    run = hostile_run
    models = {m for (m,) in run.query("SELECT model_id FROM models")}
    quarantined: dict[str, list[str]] = defaultdict(list)
    for key, reason in run.query("SELECT record_key, reason FROM quarantine"):
        quarantined[key].append(reason)
    for model_id in run.corpus.hostile_models:
        assert model_id in models or model_id in quarantined, model_id
    loaded = {key for (key,) in run.query("SELECT record_key FROM results WHERE source = 'hub-model-index'")}
    unaccounted = {}
    checked = 0
    for model_id, model_index in run.corpus.model_index.items():
        if model_id not in models:
            assert model_id in quarantined, model_id
            continue
        for key in model_index_records(model_id, model_index):
            checked += 1
            if key not in loaded and not any(a in quarantined for a in ancestors(key)):
                unaccounted[key] = model_index
    assert unaccounted == {}
    assert checked > EXAMPLES
    # the deep, bomb and tagged YAML is refused with a reason, never loaded
    for model_id in ("hostile/deep-flow-list", "hostile/deep-flow-map", "hostile/deep-block-seq", "hostile/alias-bomb",
                     "hostile/yaml-python-tag"):
        assert any(r.startswith("card yaml:") for r in quarantined[f"{model_id}/model-index"]), model_id
    # the valid result beside the 5 MB body, the nested markdown and the non-UTF-8 bytes loads
    for model_id in ("hostile/huge-card", "hostile/nested-markdown", "hostile/latin1-card"):
        assert f"{model_id}/model-index/0.0.0" in loaded, model_id
    # the 5 MB body is rendered up to its first 100,000 characters, and the card says so
    html = run.query("SELECT card_html FROM models WHERE model_id = 'hostile/huge-card'")[0][0]
    assert len(html) < 1_000_000 and "Card shortened: the first " in html


def entry_keys(body: bytes) -> list[str]:
    """What names each <entry> of a feed in a quarantine key: its <id> text, else its position."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    keys = []
    for position, entry in enumerate(root.iterfind("{http://www.w3.org/2005/Atom}entry") if root is not None else []):
        found = entry.find("{http://www.w3.org/2005/Atom}id")
        keys.append(((found.text if found is not None else None) or "").strip() or f"entry {position}")
    return keys


def test_every_feed_entry_is_accounted_for_and_no_entity_resolved(hostile_run):
    run = hostile_run
    papers = {p for (p,) in run.query("SELECT arxiv_id FROM papers WHERE status = 'found'")}
    quarantined = {key for (key,) in run.query("SELECT record_key FROM quarantine WHERE source = 'arxiv'")}
    unaccounted = []
    checked = 0
    for name, entries in run.corpus.feed_entries.items():
        keys = entry_keys((run.corpus.root / name).read_bytes())
        if len(keys) != len(entries):                            # the recovering parser lost entries:
            assert name in quarantined, name                     # the feed-level row accounts for them
            continue
        for entry, key in zip(entries, keys):
            checked += 1
            parsed = normalize_arxiv_id(split_version(entry["id"])[0]) if entry["id"] else None
            if not (parsed and parsed[0] in papers) and f"{name}|{key}" not in quarantined:
                unaccounted.append((name, key, entry))
    assert unaccounted == []
    assert checked > EXAMPLES
    for path in (run.published, run.working):
        text = varchar_values(path)
        assert CANARY not in text and "root:x:0:0" not in text and "lollollol" not in text
        data = path.read_bytes()
        assert CANARY.encode() not in data and b"root:x:0:0" not in data
    xxe = run.query("SELECT title, abstract FROM papers WHERE arxiv_id = '2001.00042'")
    assert xxe and "passwd" not in repr(xxe)


def table_state(run: HostileRun) -> tuple[dict[str, tuple[int, bool]], set[str]]:
    reconciliation = {f: (cells, ok) for f, cells, ok in run.query(
        "SELECT source_file, cells, reconciles FROM table_reconciliation WHERE status <> 'refused'")}
    quarantined = {key for (key,) in run.query("SELECT record_key FROM quarantine WHERE source = 'tables'")}
    return reconciliation, quarantined


def test_every_table_cell_is_accounted_for(hostile_run):
    """Every file reconciles; a file that is not UTF-8, not JSON or not a list of tasks is refused
    whole; every other file gives exactly the cells its document holds, subdatasets at any depth;
    every CSV row is a cell or a quarantined row."""
    run = hostile_run
    reconciliation, quarantined = table_state(run)
    assert all(ok for _, ok in reconciliation.values()), {f: v for f, v in reconciliation.items() if not v[1]}
    status = dict(run.query("SELECT source_file, status FROM table_reconciliation"))
    checked = 0
    for name, doc in run.corpus.tables.items():
        if doc is None or not isinstance(doc, list):
            assert name in quarantined, name                    # refused as a whole file, with its reason
            assert status[name] == "refused", name
            continue
        assert name not in quarantined, name
        checked += table_cells(doc)
        assert reconciliation.get(name, (0, True))[0] == table_cells(doc), (name, doc)
    assert checked > 100
    for name, rows in run.corpus.csv_rows.items():
        cells = reconciliation.get(name, (0, True))[0]
        row_failures = {k for k in quarantined if k.startswith(f"{name}|")}
        assert name in quarantined or cells + len(row_failures) == rows, (name, cells, row_failures, rows)


def test_every_table_file_is_listed_with_its_status(hostile_run):
    """table_reconciliation lists every file of tables/, refused and empty ones too, with a reason;
    a file with a status other than loaded has no cells."""
    run = hostile_run
    listed = {name: (status, reason, cells) for name, status, reason, cells in run.query(
        "SELECT source_file, status, reason, cells FROM table_reconciliation")}
    on_disk = {f"tables/{p.name}" for p in (run.corpus.root / "tables").iterdir()
               if p.suffix in (".json", ".csv", ".parquet")}
    assert set(listed) == on_disk
    for name, expected in run.corpus.table_status.items():
        status, reason, cells = listed[name]
        assert (status, cells) == (expected, 0) and reason.startswith(run.corpus.jailed[("tables", name)]), name
    assert all(reason for status, reason, _ in listed.values() if status != "loaded")
    assert listed["tables/squad.json"][0] == "loaded" and listed["tables/squad.json"][1] is None
    assert listed["tables/hostile_header_only.csv"][0] == "empty"


def test_nothing_outside_the_snapshot_is_read_and_every_jail_break_is_quarantined(hostile_run):
    run = hostile_run
    quarantined = defaultdict(list)
    for source, key, reason in run.query("SELECT source, record_key, reason FROM quarantine"):
        quarantined[(source, key)].append(reason)
    missing = {k: (want, quarantined.get(k)) for k, want in run.corpus.jailed.items()
               if not any(r.startswith(want) for r in quarantined.get(k, []))}
    assert missing == {}
    for path in (run.published, run.working):
        text = varchar_values(path)
        assert CANARY not in text and "root:x:0:0" not in text
    # the model whose card is a link still loads, without a card; the linked model info is not a model
    models = {m for (m,) in run.query("SELECT model_id FROM models")}
    assert "hostile/link-card" in models and "hostile/link-info" not in models
    assert run.query("SELECT card_html FROM models WHERE model_id = 'hostile/link-card'") == [(None,)]


def test_silent_drops_are_recorded(hostile_run):
    run = hostile_run
    reasons = defaultdict(list)
    for key, reason in run.query("SELECT record_key, reason FROM quarantine"):
        reasons[key].append(reason)
    # the same table row twice is one result; the second is quarantined, naming the first
    dup = "tables/hostile_duplicate_rows.json|Natural Language Inference|SNLI|0:0"
    assert reasons[f"{dup}|1|Accuracy"] == [f"duplicate of {dup}|0|Accuracy"]
    assert run.query("SELECT count(*) FROM results WHERE source_file = 'tables/hostile_duplicate_rows.json'") == [(2,)]
    # empty and NUL metric names name no metric
    names = "tables/hostile_metric_names.json|Natural Language Inference|SNLI|0:0|0|"
    assert reasons[f"{names}"] == ["no metric name"] and reasons[f"{names} "] == ["no metric name"]
    assert reasons[f"{names}Acc\x00uracy"] == ["invalid metric name: contains NUL"]
    assert run.query("SELECT count(*) FROM metrics WHERE metric = '' OR contains(metric, chr(0))") == [(0,)]
    # NaN, 1e999 and -1e400 in model info are left empty, and said so
    info_nan = sorted(r for r in reasons["hostile/info-nan"] if r.startswith("model info field left empty"))
    assert info_nan == ["model info field left empty: downloads: not a count: NaN",
                        "model info field left empty: likes: not a count: 1e999",
                        "model info field left empty: safetensors.total: not a count: -1e400"]
    # a leaderboard modelId that is a path never reaches the raw layer
    con = duckdb.connect(str(run.working), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw.hub_leaderboard_entries WHERE model_id LIKE '%..%'"
                           ).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM raw.hub_leaderboard_entries WHERE dataset_id = 'hostile/traversal'"
                           ).fetchone() == (1,)
    finally:
        con.close()
    assert reasons["hostile/traversal/0"] == ["invalid leaderboard: modelId is not a Hub repo id: ../../etc/passwd"]


def test_subdatasets_of_subdatasets_are_read(hostile_run):
    reconciliation, _ = table_state(hostile_run)
    deeper = {name: (reconciliation.get(name, (0, True))[0], table_cells(doc))
              for name, doc in hostile_run.corpus.tables.items()
              if isinstance(doc, list) and table_cells(doc) != table_cells(doc, subdataset_depth=1)}
    assert deeper
    assert {name: got for name, (got, want) in deeper.items()} == {name: want for name, (got, want) in deeper.items()}


def test_rows_whose_metrics_are_not_a_mapping_are_quarantined(hostile_run):
    """A table row with values but `metrics` of another shape (a list, a number, a string that is
    not a JSON object) gives no cell; it must still be accounted for by a quarantine row."""
    _, quarantined = table_state(hostile_run)
    silent = {name: rows for name, doc in hostile_run.corpus.tables.items() if (rows := silent_rows(doc))
              and name not in quarantined and not any(k.startswith(f"{name}|") for k in quarantined)}
    assert silent == {}


def test_an_unreadable_csv_does_not_abort_the_table_ingest(hostile_run, tmp_path):
    from assets.sources.snapshot import SnapshotResource
    from assets.tables import benchmark_table_rows
    from warehouse.database import WarehouseResource

    assert hostile_run.corpus.unreadable_csv                     # ragged and non-UTF-8 CSVs read_csv refuses
    for name, data in hostile_run.corpus.unreadable_csv.items():
        write(tmp_path / "snap" / name, data)
    write(tmp_path / "snap" / "tables" / "good.csv", "model_name,benchmark,metric,value\nA,XNLI,accuracy,80\n")
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "pub.duckdb"), state_dir=str(tmp_path / "state")),
                 "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(tmp_path / "snap"),
                                              cache_dir=str(tmp_path / "cache")), "hub": OFFLINE_HUB}
    result = dg.materialize([benchmark_table_rows], resources=resources, raise_on_error=False)
    assert result.success
    con = duckdb.connect(str(tmp_path / "state" / "work.duckdb"), read_only=True)
    try:
        refused = {k for (k,) in con.execute("SELECT record_key FROM raw.ingest_failures WHERE source = 'tables'")
                   .fetchall()}
        loaded = {f for (f,) in con.execute("SELECT DISTINCT source_file FROM raw.table_results").fetchall()}
        assert "tables/good.csv" in loaded
    finally:
        con.close()
    # each is refused whole, or read by the ingest's own CSV reader (RFC 4180 quotes, ragged rows
    # padded), which may take what DuckDB's default reader refuses: then its rows are loaded or quarantined
    for name in hostile_run.corpus.unreadable_csv:
        assert name in refused or any(k.startswith(f"{name}|") for k in refused) or name in loaded, name


# --- the parsers alone, example by example ---------------------------------------------------------


@HYPOTHESIS
@given(MODEL_INDEX)
def test_parse_model_index_counts_every_value_it_meets(model_index):
    out = EvalParse()
    parse_model_index("m/x", model_index, out)
    assert out.seen == len(out.rows) + len(out.failures)
    keys = [row["record_key"] for row in out.rows] + [key for key, _, _ in out.failures]
    for key in model_index_records("m/x", model_index):
        assert any(a in keys for a in ancestors(key)), key


@HYPOTHESIS
@given(st.text(max_size=200), st.binary(max_size=200))
def test_parse_card_never_raises(text, raw):
    for candidate in (text, "---\n" + text + "\n---\nbody", raw.decode("utf-8", "replace")):
        card = parse_card(candidate)
        assert card.metadata is None or isinstance(card.metadata, dict)
        assert "<script" not in card.html.lower()


@HYPOTHESIS
@given(FEED)
def test_read_feed_never_raises_and_accounts_for_every_entry(entries):
    body = feed_xml(entries).encode()
    info = read_feed(body)
    assert info.problem is None
    named = [key for key, _ in info.entry_problems if key is not None]
    assert len(info.results) + len(named) == len(entry_keys(body))


def test_live_fetch_survives_an_entry_with_a_malformed_date():
    """The arxiv library raises ValueError on a malformed <published>: the live fetch must keep the
    body and report the entry, not fail the batch or the asset."""
    server = ReplayServer().start()
    try:
        bad = synthetic_entry("2001.00007v1").replace(b"<published>2020-01-02T03:04:05Z</published>",
                                                      b"<published>yesterday</published>")
        arxiv_routes(server, [synthetic_entry("2001.00006v1"), bad])
        feeds = []
        stats = ArxivResource(query_url=server.url + "/api/query?{}", delay_seconds=0, num_retries=1,
                              backoff_seconds=0.01, timeout_seconds=5).fetch(["2001.00006", "2001.00007"], feeds.append)
    finally:
        server.stop()
    assert stats.failed_batches == [] and stats.retries == 0 and len(feeds) == 1
    info = read_feed(feeds[0].body)
    assert [r.get_short_id() for r in info.results] == ["2001.00006v1"]
    assert info.entry_problems == [("http://arxiv.org/abs/2001.00007v1",
                                    "unreadable entry: ValueError: Invalid isoformat string: 'yesterday'")]


# --- the jail, the catalog, the run lock and the render bound, one by one ---------------------------


def test_the_jail_refuses_links_out_fifos_and_oversized_files_without_reading(tmp_path):
    from assets.sources.files import FileRefused, open_source_file, read_source_file

    root, outside = tmp_path / "snap", tmp_path / "outside.txt"
    (root / "tables").mkdir(parents=True)
    outside.write_text(CANARY)
    (root / "tables" / "inside.json").write_text("[]")
    (root / "tables" / "link_in.json").symlink_to(root / "tables" / "inside.json")
    (root / "tables" / "link_out.json").symlink_to(outside)
    (root / "tables" / "dir_out").symlink_to(tmp_path)
    (root / "tables" / "dangling.json").symlink_to(tmp_path / "nowhere")
    os.mkfifo(root / "tables" / "fifo.json")
    with open(root / "tables" / "sparse.json", "wb") as sparse:
        sparse.truncate(2 * 1024 ** 3)                                   # 2 GB, no disk used
    assert read_source_file(root, root / "tables" / "link_in.json", 10) == b"[]"
    refusals = {}
    for name in ("link_out.json", "dir_out/outside.txt", "dangling.json", "fifo.json", "sparse.json"):
        with pytest.raises(FileRefused) as refused:
            read_source_file(root, root / "tables" / name, 512_000_000, "table file")
        refusals[name] = refused.value.reason
    assert refusals == {
        "link_out.json": "table file is a link that leaves the snapshot root: not read",
        "dir_out/outside.txt": "table file is a link that leaves the snapshot root: not read",
        "dangling.json": "table file is a broken or looping link",
        "fifo.json": "table file is a FIFO, not a regular file: not read",
        "sparse.json": "table file too large: 2147483648 bytes (limit 512000000)"}
    assert CANARY not in repr(refusals) and str(tmp_path) not in repr(refusals)
    assert open_source_file(root, root / "tables" / "inside.json", 2).size == 2


def test_json_nesting_is_bounded_before_parsing():
    from assets.sources.files import json_too_deep

    assert not json_too_deep(json.dumps([{"task": "T", "datasets": [deep_dataset(20)]}]).encode(), 64)
    assert json_too_deep(json.dumps([{"task": "T", "datasets": [deep_dataset(200)]}]).encode(), 64)
    assert json_too_deep(b"[" * 100_000 + b"]" * 100_000, 64)
    # brackets inside strings (escaped quotes and backslashes too) are not nesting; cut text is left to the parser
    assert not json_too_deep(json.dumps([{"a": "[[[[" * 100, "b": '\\"[[[' * 100}]).encode(), 8)
    assert not json_too_deep(b'[{"task": "T", "datasets": [', 2)


@pytest.mark.parametrize("text, entries, problem", [
    ("papers: 1911.02116", [("paper", "1911.02116")], None),                   # a lone id is a one-item list
    ("orgs: FacebookAI", [("org", "FacebookAI")], None),                        # never nine one-letter orgs
    ("papers: [2010.11920]", [("paper", "2010.11920")], None),                  # the text written, not 2010.1192
    ("papers: [1911.2]", [], "papers: '1911.2' was written as a number"),
    ("models: [FacebookAI/roberta-base, {a: 1}]", [("model", "FacebookAI/roberta-base")], "models[1]: not a plain id"),
    ("orgs: {FacebookAI: 1}", [], "orgs: not a list of ids but dict"),
    ("paper: [1911.02116]", [], "unknown section 'paper'"),
    ("benchmarks: [yes, 2020-01-01]", [("benchmark", "2020-01-01"), ("benchmark", "yes")], None),
    ("papers:", [], None),
])
def test_catalog_typos_are_named_not_misread(text, entries, problem):
    from assets.catalog import read_catalog

    got, problems = read_catalog(text)
    assert got == entries
    assert (problems == []) if problem is None else any(p.startswith(problem) for p in problems), problems


def test_a_catalog_typo_does_not_stop_the_catalog_step(tmp_path):
    from assets.catalog import catalog
    from assets.sources.snapshot import SnapshotResource
    from warehouse.database import WarehouseResource

    write(tmp_path / "snap" / "catalog.yaml", "papers: 1911.02116\norgs: FacebookAI\nmodel: [x]\n")
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "pub.duckdb"), state_dir=str(tmp_path / "state")),
                 "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(tmp_path / "snap"),
                                              cache_dir=str(tmp_path / "cache"))}
    assert dg.materialize([catalog], resources=resources).success
    con = duckdb.connect(str(tmp_path / "state" / "work.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT kind, key FROM raw.catalog ORDER BY 1").fetchall() == [
            ("org", "FacebookAI"), ("paper", "1911.02116")]
        assert con.execute("SELECT reason FROM raw.ingest_failures WHERE source = 'catalog'").fetchall() == [
            ("unknown section 'model' (sections: orgs, models, papers, benchmarks)",)]
    finally:
        con.close()


def test_a_second_run_on_the_same_state_directory_exits_at_once(tmp_path):
    """While a run holds the state directory, `sotaboard run` exits at once with a clear message and
    a Dagster run fails before its first step writes; a holder killed with -9 releases it."""
    from conftest import offline_env, sotaboard

    from warehouse.database import RunInProgress, exclusive_run

    state = tmp_path / "out" / ".state"
    env = offline_env(tmp_path, SOTABOARD_WAREHOUSE=str(tmp_path / "out" / "sotaboard.duckdb"))
    with exclusive_run(state):
        started = time.monotonic()
        second = sotaboard("run", env=env, cwd=tmp_path, timeout=120)
        elapsed = time.monotonic() - started
    assert second.returncode == 3, second.stderr
    assert "another run is using" in second.stderr and f"pid {os.getpid()}" in second.stderr
    assert "nightly job" not in second.stdout and not (state / "work.duckdb").exists()
    assert elapsed < 60
    # a holder killed with -9 releases the lock with it
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from warehouse.database import exclusive_run\n"
                               f"with exclusive_run(Path({str(state)!r})):\n"
                               "    print('held', flush=True); time.sleep(600)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunInProgress):
            with exclusive_run(state):
                pass
        # a run launched through Dagster (UI, schedule) takes the lock with its warehouse resource
        from assets.catalog import catalog
        from assets.sources.snapshot import SnapshotResource
        from warehouse.database import WarehouseResource

        resources = {"warehouse": WarehouseResource(path=str(tmp_path / "out" / "sotaboard.duckdb"),
                                                    state_dir=str(state)),
                     "snapshot": SnapshotResource(source="snapshot", snapshot_dir=str(BUNDLED_SNAPSHOT),
                                                  cache_dir=str(tmp_path / "cache"))}
        with pytest.raises(dg.DagsterResourceFunctionError) as failed:
            dg.materialize([catalog], resources=resources)
        assert isinstance(failed.value.__cause__, RunInProgress)
        assert not (state / "work.duckdb").exists()
    finally:
        holder.kill()
        holder.wait()
    with exclusive_run(state):
        pass


def test_a_huge_card_renders_in_bounded_time():
    """9.9 MB of the markdown that costs most per byte (nested brackets: about 40 us each, so
    some 6 minutes whole) renders its first 100,000 characters, and the card says so."""
    body = "[" * 9_900_000
    started = time.monotonic()
    card = parse_card(card_text(VALID_RESULT, body))
    elapsed = time.monotonic() - started
    assert card.problem is None and card.metadata["model-index"]
    assert "Card shortened: the first 100,000 of its 9,900,00" in card.html
    print(f"\n9.9 MB card of nested brackets parsed and rendered in {elapsed:.1f} s")
    assert elapsed < 45, elapsed


@pytest.mark.parametrize("linked", ["hub", "hub/models", "hub/models/org"])
def test_model_info_in_a_folder_linked_out_of_the_snapshot_is_refused(tmp_path, linked):
    from assets.sources.hub.targets import model_files
    from assets.sources.ingest_log import IngestLog

    outside = tmp_path / "outside"
    write(outside / "/".join(["hub", "models", "org"][len(linked.split("/")):] + ["m.json"]),
          json.dumps({"id": "org/m", "sha": SHA, "pipeline_tag": CANARY}))
    root = tmp_path / "snap"
    (root / linked).parent.mkdir(parents=True, exist_ok=True)
    (root / linked).symlink_to(outside)
    log = IngestLog("hub", "snapshot")
    files = model_files(root, ["org/m"], log, 5_000_000)
    assert len(files) == 0
    assert log.failures == [("org/m", "hub/models/org/m.json: model info file is a link that leaves the snapshot "
                                      "root: not read", '{"id":"org/m","file":"hub/models/org/m.json"}')]
