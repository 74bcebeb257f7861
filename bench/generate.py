"""Synthetic snapshot generator: the real source formats at Papers-with-Code scale and beyond.

    python -m bench.generate OUT_DIR [--results 1000000 --models 100000 --hub-models 20000
                                      --papers 50000 --benchmarks 10000 --seed 0]
    python -m bench.generate OUT_DIR --change        # apply one 1% upstream change to OUT_DIR

What it writes (the snapshot layout of README.md):

- `tables/pwc-NNN.json`: Papers with Code evaluation-tables files (tasks > optional subtask >
  datasets > sota rows with `metrics` dicts of value *text*), the shape of shared/data/pwc/*.json.
  Leaderboard sizes are Zipf-distributed (a few huge leaderboards, thousands of tiny ones); model
  popularity too (a few models appear on thousands of leaderboards). A little real-world mess is
  kept on purpose: `-` cells, `85.1%`, `**70.3**`, `0.74 ± 0.01`, unknown metrics (`mIoU`), a
  size column (`Number of params`), rows without a date, rows citing non-arXiv papers.
- `tables/curated.csv`: curated rows (README columns) repeating some table values under the
  models' Hub ids (cross-source corroboration, some conflicts).
- `hub/models/<org>/<name>.json`: `GET /api/models/<id>` bodies (tags with `arxiv:<id>`,
  `base_model:`, `license:`; `safetensors.total`; `cardData` with `model-index`; siblings...).
- `hub/cards/<org>/<name>/README.md`: YAML front matter (license, tags, datasets, base_model and,
  for about half the models, a `model-index` that repeats some of the model's table results with
  Hub conventions: fraction accuracies, `exact_match`, `verified` with a verify token for a few),
  then a markdown body with a results table.
- `hub/leaderboards/<org>/<name>.json`: Hub dataset leaderboards for the biggest benchmarks.
- `arxiv/feed-NNNNN.xml`: Atom feeds exactly as the arXiv API answers an id_list query, 100
  entries per feed file (shape of shared/data/arxiv/*.xml).
- `BENCH_MANIFEST.json`: the parameters and change rounds (no ingest asset reads it).

Only `--hub-models` of the `--models` have a Hub repo (files); the rest exist only as model names
in the benchmark tables, as most Papers with Code models do (the warehouse gives them synthetic
`paper:<arXiv id>/<name>` keys). Results = table cells + model-index metric values + curated rows.

`--change` rebuilds the same world from the manifest's seed, applies one more change round and
rewrites only what changed upstream: 0.5% of table cells get a corrected value and 0.5% new rows
are appended to existing leaderboards (tables/*.json rewritten, as a new dump of Papers with Code
would be), 1% of the Hub models get a new sha, lastModified and an edited card (one model-index
value and the card text), and a few new papers arrive in a new feed file.

Deterministic: the same parameters and seed give byte-identical files (but for the timings that
`BENCH_MANIFEST.json` records).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

MANIFEST = "BENCH_MANIFEST.json"
EPOCH = date(2015, 1, 1)
FETCH_TIME = datetime(2026, 11, 1)  # lastModified of unchanged models is before this

# (raw name in tables, hub metric type, hub unit factor, value kind)
# value kinds: pct (0-100, higher), err (0-100 lower), frac (0-1), pts (0-100 points), ppl, bpc
METRICS = [
    ("Accuracy", "accuracy", 0.01, "pct"), ("F1", "f1", 0.01, "pct"), ("EM", "exact_match", 1, "pct"),
    ("Precision", "precision", 0.01, "pct"), ("Recall", "recall", 0.01, "pct"),
    ("BLEU", "bleu", 1, "pts"), ("ROUGE-1", "rouge1", 1, "pts"), ("ROUGE-L", "rougeL", 1, "pts"),
    ("METEOR", "meteor", 1, "pts"), ("Perplexity", "perplexity", 1, "ppl"), ("BPC", "bpc", 1, "bpc"),
    ("WER", "wer", 0.01, "err"), ("CER", "cer", 0.01, "err"), ("Error", "error", 0.01, "err"),
    ("MAP", "map", 0.01, "pct"), ("MRR", "mrr", 0.01, "pct"), ("NDCG@10", "ndcg@10", 0.01, "pct"),
    ("AUC", "auc", 1, "frac"), ("Pearson", "pearson", 1, "frac"), ("Spearman", "spearman", 1, "frac"),
    ("LAS", "las", 0.01, "pct"), ("UAS", "uas", 0.01, "pct"), ("Test Accuracy", "accuracy", 0.01, "pct"),
]
UNKNOWN_METRICS = [("mIoU", None, 1, "pct"), ("Box AP", None, 1, "pct"), ("Human Score", None, 1, "pct")]
PARAMS_METRIC = "Number of params"

REAL_TASKS = [
    ("Question Answering", "Natural Language Processing"), ("Reading Comprehension", "Natural Language Processing"),
    ("Natural Language Inference", "Natural Language Processing"), ("Text Classification", "Natural Language Processing"),
    ("Sentiment Analysis", "Natural Language Processing"), ("Named Entity Recognition", "Natural Language Processing"),
    ("Part-Of-Speech Tagging", "Natural Language Processing"), ("Machine Translation", "Natural Language Processing"),
    ("Summarization", "Natural Language Processing"), ("Language Modelling", "Natural Language Processing"),
    ("Constituency Parsing", "Natural Language Processing"), ("Dependency Parsing", "Natural Language Processing"),
    ("Coreference Resolution", "Natural Language Processing"), ("Semantic Role Labeling", "Natural Language Processing"),
    ("Relationship Extraction", "Natural Language Processing"), ("Semantic Textual Similarity", "Natural Language Processing"),
    ("Image Classification", "Computer Vision"), ("Object Detection", "Computer Vision"),
    ("Image Segmentation", "Computer Vision"), ("Visual Question Answering", "Computer Vision"),
    ("Automatic Speech Recognition", "Speech"), ("Audio Classification", "Speech"),
]
TASK_KINDS = [("Classification", "Computer Vision"), ("Detection", "Computer Vision"),
              ("Segmentation", "Computer Vision"), ("Generation", "Natural Language Processing"),
              ("Retrieval", "Natural Language Processing"), ("Tagging", "Natural Language Processing"),
              ("Recognition", "Speech"), ("Forecasting", "Time Series"), ("Estimation", "Computer Vision"),
              ("Reasoning", "Natural Language Processing")]
PIPELINES = ["text-classification", "question-answering", "token-classification", "translation",
             "summarization", "text-generation", "image-classification", "object-detection",
             "automatic-speech-recognition", "fill-mask"]
LICENSES = ["apache-2.0", "mit", "cc-by-4.0", "cc-by-nc-4.0", "llama3.1", "openrail", "bsd-3-clause"]
MODEL_TYPES = ["bert", "roberta", "t5", "llama", "vit", "wav2vec2", "deberta-v2", "gpt2", "mistral", "bart"]
SUFFIXES = ["", "", "", "-base", "-large", "-small", "-xl", "-v2", "-tiny", "-instruct", "-7B", "-distilled"]
CATEGORIES = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.SD", "eess.AS", "stat.ML", "cs.IR"]
SYLLABLES = ("ka lo mi ra ve to nu si be da ze po li an or ex qu ul ti mo re sa fi no ga hu el ir "
             "ta ko vi ro ne cu ba de wa yo ju").split()


@dataclass
class Params:
    results: int = 1_000_000
    models: int = 100_000
    hub_models: int = 20_000
    papers: int = 50_000
    benchmarks: int = 10_000
    seed: int = 0
    zipf: float = 1.0            # exponent of leaderboard sizes
    table_files: int = 100
    hub_share: float = 0.05      # share of results that come from model-index entries
    curated_share: float = 0.005
    hub_leaderboards: int = 10


# ---------------------------------------------------------------------------------------- words

def _words(rng: np.random.Generator, n: int, n_syllables: tuple[int, int] = (2, 4)) -> list[str]:
    """n distinct pronounceable words."""
    out: list[str] = []
    seen: set[str] = set()
    syl = np.array(SYLLABLES)
    while len(out) < n:
        k = n - len(out)
        lengths = rng.integers(n_syllables[0], n_syllables[1] + 1, size=k * 2)
        parts = rng.integers(0, len(syl), size=(k * 2, n_syllables[1]))
        for length, row in zip(lengths, parts):
            word = "".join(syl[row[:length]])
            if word not in seen:
                seen.add(word)
                out.append(word)
                if len(out) == n:
                    break
        n_syllables = (n_syllables[0], n_syllables[1] + 1) if len(out) < n else n_syllables
    return out


def _sha(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------------------------------------------------------------------------------------- world

class World:
    """Everything the files are written from, as arrays (one row per table row)."""

    def __init__(self, p: Params) -> None:
        self.p = p
        rng = np.random.default_rng(p.seed)
        self.rng = rng
        vocab = _words(rng, 3000, (2, 3))
        self.vocab = np.array(vocab)

        # --- papers
        P = p.papers
        i = np.arange(P)
        month = i % 120
        self.paper_ids = [f"{15 + m // 12:02d}{m % 12 + 1:02d}.{s:05d}" for m, s in zip(month, i // 120 + 1)]
        day = rng.integers(0, 28, size=P)
        self.paper_published = np.array([(date(2015 + m // 12, m % 12 + 1, 1) - EPOCH).days for m in month]) + day
        self.paper_versions = rng.choice([1, 1, 1, 2, 2, 3], size=P)
        self.paper_category = rng.integers(0, len(CATEGORIES), size=P)
        self.paper_title_words = rng.integers(0, len(vocab), size=(P, 7))
        self.paper_title_len = rng.integers(4, 8, size=P)

        # --- models: the first hub_models have a Hub repo
        M, H = p.models, p.hub_models
        names = _words(rng, M, (2, 3))
        suffix = rng.integers(0, len(SUFFIXES), size=M)
        self.model_names = [n.capitalize() + SUFFIXES[s] for n, s in zip(names, suffix)]
        self.model_paper = rng.permutation(np.arange(M) % P)
        self.model_arxiv = rng.random(M) >= 0.05          # 5% cite a non-arXiv paper (OpenReview)
        orgs = _words(rng, max(1, M // 50), (2, 3))
        org_weights = 1.0 / np.arange(1, len(orgs) + 1) ** 0.9
        self.model_org = [orgs[k] for k in rng.choice(len(orgs), size=H, p=org_weights / org_weights.sum())]
        self.hub_ids = [f"{o}-ai/{n.lower()}" for o, n in zip(self.model_org, self.model_names[:H])]
        self.hub_round = np.zeros(H, dtype=int)           # change round that last touched the model

        # --- tasks and benchmarks
        B = p.benchmarks
        n_tasks = max(4, B // 25)
        kinds = rng.integers(0, len(TASK_KINDS), size=n_tasks)
        task_words = _words(rng, n_tasks, (2, 3))
        self.tasks = [REAL_TASKS[t] if t < len(REAL_TASKS) else
                      (f"{task_words[t].capitalize()} {TASK_KINDS[kinds[t]][0]}", TASK_KINDS[kinds[t]][1])
                      for t in range(n_tasks)]
        self.bench_task = np.arange(B) % n_tasks
        ds_words = _words(rng, B, (3, 4))
        ds_suffix = rng.choice(["", "", "", "-10", " 2.0", "-QA", "-Bench", "++", " v2"], size=B)
        self.bench_dataset = [w.upper() if len(w) < 7 else w.capitalize() + s for w, s in zip(ds_words, ds_suffix)]
        # 10% of benchmarks reuse another benchmark's dataset under a different task
        for b in rng.choice(B, size=B // 10, replace=False):
            other = (b + 1 + rng.integers(0, B - 1)) % B
            if self.bench_task[other] != self.bench_task[b]:
                self.bench_dataset[b] = self.bench_dataset[other]
        self.bench_subtask = rng.random(B) < 0.15        # listed under a subtask of its task
        n_metrics = rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2], size=B)
        self.bench_metrics = []
        for b in range(B):
            r = rng.random()
            pool = UNKNOWN_METRICS if r < 0.03 else METRICS
            chosen = [pool[k] for k in rng.choice(len(pool), size=min(n_metrics[b], len(pool)), replace=False)]
            if rng.random() < 0.01:
                chosen.append((PARAMS_METRIC, None, 1, "params"))
            self.bench_metrics.append(chosen)
        cells_per_row = np.array([len(m) for m in self.bench_metrics])

        # --- leaderboard sizes: Zipf over a random order of the benchmarks
        table_cells = p.results * (1 - p.hub_share - p.curated_share)
        weights = 1.0 / rng.permutation(np.arange(1, B + 1)).astype(float) ** p.zipf
        cells = weights / weights.sum() * table_cells
        rows = np.maximum(1, np.round(cells / cells_per_row)).astype(int)
        factor = table_cells / (rows * cells_per_row).sum()   # the minimum of one row adds cells: rescale
        rows = np.maximum(1, np.round(cells * factor / cells_per_row)).astype(int)
        order = np.argsort(-rows, kind="stable")
        self.hub_datasets = set(order[: p.hub_leaderboards].tolist())
        for b in self.hub_datasets:
            self.bench_dataset[b] = f"sotabench/{_slug(self.bench_dataset[b])}"

        # --- rows
        R = int(rows.sum())
        self.row_bench = np.repeat(np.arange(B), rows)
        # every model at least once, the rest by popularity (Zipf; Hub models more popular)
        popularity_key = rng.random(M) * np.where(np.arange(M) < H, 0.3, 1.0)
        by_popularity = np.argsort(popularity_key)
        w = 1.0 / np.arange(1, M + 1) ** 0.9
        extra = by_popularity[rng.choice(M, size=max(0, R - M), p=w / w.sum())]
        models = np.concatenate([rng.permutation(M)[: min(M, R)], extra])
        self.row_model = rng.permutation(models)[:R]
        # popular across leaderboards, but (as in Papers with Code) rarely listed twice on one:
        # a repeat of a model on a leaderboard goes to another model, except for 2% of them
        for _ in range(4):
            _, first = np.unique(self.row_bench.astype(np.int64) * M + self.row_model, return_index=True)
            repeat = np.ones(R, dtype=bool)
            repeat[first] = False
            repeat &= rng.random(R) >= 0.02
            if not repeat.any():
                break
            self.row_model[repeat] = rng.integers(0, M, size=int(repeat.sum()))
        self.row_date = (self.paper_published[self.model_paper[self.row_model]]
                         + rng.integers(0, 400, size=R)).astype(np.int64)
        self.row_date[rng.random(R) < 0.03] = -1          # no paper_date
        self.row_extra = rng.random(R) < 0.05
        self.row_values = rng.random((R, 4))                 # one per metric slot, scaled at writing
        self.row_mess = rng.random(R)                        # chooses the odd cell formats
        self.row_round = np.zeros(R, dtype=int)
        self.changes = 0

    # --------------------------------------------------------------------------- change rounds

    def apply_change(self, r: int) -> dict:
        """Round r of upstream change (deterministic in seed and r)."""
        p = self.p
        rng = np.random.default_rng([p.seed, r])
        R = len(self.row_bench)
        # 0.5% corrected values
        changed = rng.choice(R, size=max(1, R // 200), replace=False)
        self.row_values[changed, 0] = np.clip(self.row_values[changed, 0] + rng.normal(0, 0.05, size=len(changed)),
                                              0.001, 0.999)
        self.row_mess[changed] = 0.5
        self.row_round[changed] = r
        # new papers, each introducing one model (non-Hub) with results
        n_papers = max(5, p.papers // 1000)
        start = len(self.paper_ids)
        self.paper_ids += [f"{25 + (r - 1) // 12:02d}{(r - 1) % 12 + 1:02d}.{90000 + k:05d}" for k in range(n_papers)]
        published = (date(2025 + (r - 1) // 12, (r - 1) % 12 + 1, 1) - EPOCH).days
        self.paper_published = np.concatenate([self.paper_published, np.full(n_papers, published)])
        self.paper_versions = np.concatenate([self.paper_versions, np.ones(n_papers, dtype=int)])
        self.paper_category = np.concatenate([self.paper_category, rng.integers(0, len(CATEGORIES), size=n_papers)])
        self.paper_title_words = np.concatenate([self.paper_title_words,
                                                 rng.integers(0, len(self.vocab), size=(n_papers, 7))])
        self.paper_title_len = np.concatenate([self.paper_title_len, rng.integers(4, 8, size=n_papers)])
        m0 = len(self.model_names)
        self.model_names += [f"Neo{self.vocab[k].capitalize()}-r{r}" for k in
                             rng.choice(len(self.vocab), size=n_papers, replace=False)]
        self.model_paper = np.concatenate([self.model_paper, np.arange(start, start + n_papers)])
        self.model_arxiv = np.concatenate([self.model_arxiv, np.ones(n_papers, dtype=bool)])
        # 0.5% new rows appended to existing leaderboards: new models and known ones
        n_new = max(1, R // 200)
        bench = self.row_bench[rng.choice(R, size=n_new)]
        model = np.where(rng.random(n_new) < 0.3, m0 + rng.integers(0, n_papers, size=n_new),
                         self.row_model[rng.choice(R, size=n_new)])
        self.row_bench = np.concatenate([self.row_bench, bench])
        self.row_model = np.concatenate([self.row_model, model])
        self.row_date = np.concatenate([self.row_date, np.full(n_new, published + 20, dtype=np.int64)])
        self.row_extra = np.concatenate([self.row_extra, np.zeros(n_new, dtype=bool)])
        self.row_values = np.concatenate([self.row_values, rng.random((n_new, 4))])
        self.row_mess = np.concatenate([self.row_mess, np.full(n_new, 0.5)])
        self.row_round = np.concatenate([self.row_round, np.full(n_new, r)])
        # 1% of the Hub models: new sha, lastModified, edited card
        H = p.hub_models
        touched = rng.choice(H, size=max(1, H // 100), replace=False)
        self.hub_round[touched] = r
        self.changes = r
        return {"round": r, "cells_changed_rows": int(len(changed)), "rows_added": int(n_new),
                "papers_added": n_papers, "hub_models_changed": int(len(touched))}

    # --------------------------------------------------------------------------- values

    def value_text(self, row: int, slot: int, metric: tuple) -> str | None:
        """The cell text of a row's metric, as a table would write it."""
        kind = metric[3]
        u = self.row_values[row, slot]
        mess = self.row_mess[row]
        if kind == "params":
            return f"{int(10 + u * 990)}M"
        v = _scale(kind, u)
        text = f"{v:.{2 if kind in ('pct', 'err', 'pts') else 3}f}"
        if mess < 0.003:
            return "-"
        if mess < 0.005 and kind in ("pct", "err"):
            return text + "%"
        if mess < 0.006:
            return f"**{text}**"
        if mess < 0.007:
            return f"{text} ± 0.{int(u * 9) + 1}"
        return text

    def paper_title(self, k: int) -> str:
        words = self.vocab[self.paper_title_words[k, : self.paper_title_len[k]]]
        return " ".join(w.capitalize() for w in words)

    def model_paper_ref(self, m: int) -> tuple[str, str]:
        """(paper_url, paper_title) that a model's rows cite."""
        k = self.model_paper[m]
        if self.model_arxiv[m]:
            aid = self.paper_ids[k]
            url = f"https://arxiv.org/abs/{aid}" if k % 7 else f"http://arxiv.org/pdf/{aid}v{self.paper_versions[k]}"
            return url, self.paper_title(k)
        return f"https://openreview.net/forum?id={_sha('or', k)[:10]}", self.paper_title(k)


# A metric kind's value range: lowest value and span (a uniform u in [0, 1) maps to low + span * u).
SCALES = {"pct": (20, 79.9), "err": (1, 40), "pts": (5, 60), "frac": (0.5, 0.499), "ppl": (5, 300),
          "bpc": (0.9, 0.6)}


def _scale(kind: str, u: float) -> float:
    low, span = SCALES.get(kind, (0, 1))
    return low + span * u


def build_world(p: Params, rounds: int = 0) -> tuple[World, list[dict]]:
    world = World(p)
    log = [world.apply_change(r) for r in range(1, rounds + 1)]
    return world, log


# ---------------------------------------------------------------------------------------- writers

def _day(d: int) -> str | None:
    return None if d < 0 else (EPOCH + timedelta(days=int(d))).isoformat()


def write_tables(world: World, root: Path) -> dict:
    """tables/pwc-NNN.json: tasks spread over the files; rows grouped by benchmark in row order."""
    p = world.p
    out = root / "tables"
    out.mkdir(parents=True, exist_ok=True)
    order = np.argsort(world.row_bench, kind="stable")
    bounds = np.searchsorted(world.row_bench[order], np.arange(p.benchmarks + 1))
    refs = {}
    files: dict[int, dict[int, dict]] = {}
    cells = 0
    for b in range(p.benchmarks):
        t = int(world.bench_task[b])
        metrics = world.bench_metrics[b]
        rows = []
        for row in order[bounds[b]:bounds[b + 1]]:
            m = int(world.row_model[row])
            if m not in refs:
                refs[m] = world.model_paper_ref(m)
            url, title = refs[m]
            values = {}
            for slot, metric in enumerate(metrics):
                values[metric[0]] = world.value_text(row, slot, metric)
            cells += len(values)
            rows.append({"code_links": [], "metrics": values, "model_links": [],
                         "model_name": world.model_names[m], "paper_date": _day(world.row_date[row]),
                         "paper_title": title, "paper_url": url, "uses_additional_data": bool(world.row_extra[row])})
        dataset = {"dataset": world.bench_dataset[b], "dataset_citations": [], "dataset_links": [],
                   "description": "", "sota": {"metrics": [m[0] for m in metrics], "rows": rows},
                   "subdatasets": []}
        task_name, area = world.tasks[t]
        task = files.setdefault(t % p.table_files, {}).setdefault(t, {
            "categories": [area], "datasets": [], "description": "", "source_link": None,
            "subtasks": [], "synonyms": [], "task": task_name})
        if world.bench_subtask[b]:
            if not task["subtasks"]:
                task["subtasks"].append({"categories": [], "datasets": [], "description": "", "source_link": None,
                                         "subtasks": [], "synonyms": [], "task": f"{task_name} (subtask)"})
            task["subtasks"][0]["datasets"].append(dataset)
        else:
            task["datasets"].append(dataset)
    written = 0
    for k in range(p.table_files):
        path = out / f"pwc-{k:03d}.json"
        data = json.dumps(list(files.get(k, {}).values()), ensure_ascii=False).encode()
        if not path.exists() or path.stat().st_size != len(data) or path.read_bytes() != data:
            path.write_bytes(data)
            written += 1
    return {"table_files_written": written, "table_cells": cells, "table_rows": int(len(world.row_bench))}


def _hub_results(world: World, m: int, rng: np.random.Generator) -> list[dict]:
    """model-index results of Hub model m: some of its table rows, in Hub conventions."""
    rows = world.rows_of_model.get(m, [])
    if not rows:
        return []
    take = rows[: int(rng.integers(1, 7))]
    results = []
    for row in take:
        b = int(world.row_bench[row])
        task_name, _ = world.tasks[int(world.bench_task[b])]
        if world.bench_subtask[b]:
            task_name = f"{task_name} (subtask)"
        metrics = []
        for slot, metric in enumerate(world.bench_metrics[b]):
            if metric[1] is None:
                continue
            v = _scale(metric[3], world.row_values[row, slot])
            v = round(v, 2 if metric[3] in ("pct", "err", "pts") else 3)
            roll = rng.random()
            if roll < 0.05:
                v = round(v * 0.9, 3)                    # a conflicting claim
            value = round(v * metric[2], 6)
            entry = {"type": metric[1], "value": value, "name": metric[0]}
            if roll > 0.97:
                entry["verified"] = True
                entry["verifyToken"] = "eyJ" + _sha("tok", m, row, slot)[:60]
            else:
                entry["verified"] = False
            metrics.append(entry)
        if not metrics:
            continue
        dataset = {"name": world.bench_dataset[b], "type": world.bench_dataset[b]}
        if rng.random() < 0.3:
            dataset["split"] = "test"
        results.append({"task": {"type": _slug(task_name), "name": task_name}, "dataset": dataset,
                        "metrics": metrics})
    return results


_PLAIN = re.compile(r"[A-Za-z][\w./@+()-]*(?: [\w./@+()-]+)*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _scalar(v: object) -> str:
    """A YAML scalar as card authors write them: plain when unambiguous, else JSON-quoted."""
    if isinstance(v, str) and _PLAIN.fullmatch(v) and v.lower() not in _YAML_WORDS:
        return v
    return json.dumps(v, ensure_ascii=False)


def _yaml(value: object, indent: int = 0) -> str:
    """Block YAML in the style of real cards (`- ` items at their key's indent)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{k}:\n{_yaml(v, indent + 2)}")
            elif isinstance(v, list) and v:
                lines.append(f"{pad}{k}:\n{_yaml(v, indent)}")
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
    else:
        for v in value:
            if isinstance(v, dict) and v:
                inner = _yaml(v, indent + 2)
                lines.append(f"{pad}- {inner[indent + 2:]}")
            else:
                lines.append(f"{pad}- {_scalar(v)}")
    return "\n".join(lines)


def write_hub(world: World, root: Path, only_round: int | None = None) -> dict:
    """hub/models/<id>.json and hub/cards/<id>/README.md; with only_round, just the models changed then."""
    p = world.p
    if not hasattr(world, "rows_of_model"):
        world.rows_of_model = {}
        hub_rows = np.flatnonzero(world.row_model < p.hub_models)
        for row in hub_rows[np.argsort(world.row_model[hub_rows], kind="stable")]:
            world.rows_of_model.setdefault(int(world.row_model[row]), []).append(int(row))
    written = cards = results = 0
    for m in range(p.hub_models):
        r = int(world.hub_round[m])
        if only_round is not None and r != only_round:
            continue
        rng = np.random.default_rng([p.seed, 7, m, r])
        repo = world.hub_ids[m]
        org, name = repo.split("/")
        k = int(world.model_paper[m])
        arxiv = world.paper_ids[k] if world.model_arxiv[m] else None
        pipeline = PIPELINES[m % len(PIPELINES)]
        mtype = MODEL_TYPES[m % len(MODEL_TYPES)]
        lic = LICENSES[m % len(LICENSES)]
        base = world.hub_ids[(m * 7919 + 1) % p.hub_models] if m % 3 == 0 and p.hub_models > 1 else None
        has_index = m % 2 == 0
        index_results = _hub_results(world, m, rng) if has_index else []
        if r and index_results:                          # the edit: one value of the card moves
            first = index_results[0]["metrics"][0]
            first["value"] = round(first["value"] * 1.01, 6)
        model_index = [{"name": repo, "results": index_results}] if index_results else None
        datasets = sorted({res["dataset"]["name"] for res in index_results})
        modified = (FETCH_TIME - timedelta(days=int(30 + m % 900))) if not r else FETCH_TIME + timedelta(days=r)
        tags = ["transformers", "pytorch", "safetensors", mtype, pipeline, "en",
                *[f"dataset:{d}" for d in datasets],
                *([f"base_model:{base}", f"base_model:finetune:{base}"] if base else []),
                *([f"arxiv:{arxiv}"] if arxiv else []), f"license:{lic}",
                *(["model-index"] if model_index else []), "endpoints_compatible", "region:us"]
        card_data = {"language": ["en"], "license": lic, "library_name": "transformers",
                     "tags": ["generated_from_trainer", pipeline], "datasets": datasets or None,
                     "base_model": base, "pipeline_tag": pipeline}
        card_data = {key: v for key, v in card_data.items() if v is not None}
        if model_index:
            card_data["model-index"] = model_index
        params = int(1e6 * (10 + (m * 37) % 7000)) if m % 10 < 7 else None
        body = {
            "_id": _sha("id", m)[:24], "id": repo, "private": False, "pipeline_tag": pipeline,
            "library_name": "transformers", "tags": tags, "downloads": int(1e6 / (1 + m % 5000)),
            "likes": int(1000 / (1 + m % 300)), "modelId": repo, "author": org, "sha": _sha("sha", m, r),
            "lastModified": modified.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "gated": "manual" if m % 50 == 0 else False, "inference": "warm", "disabled": False,
            **({"model-index": model_index} if model_index else {}),
            "config": {"architectures": [f"{mtype.capitalize()}ForSequenceClassification"], "model_type": mtype},
            "cardData": card_data,
            "transformersInfo": {"auto_model": "AutoModel", "pipeline_tag": pipeline, "processor": "AutoTokenizer"},
            "siblings": [{"rfilename": f} for f in (".gitattributes", "README.md", "config.json",
                                                     "model.safetensors", "tokenizer.json", "tokenizer_config.json")],
            "spaces": [],
            "createdAt": (modified - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            **({"safetensors": {"parameters": {"F32": params}, "total": params}} if params else {}),
            "usedStorage": (params or 10**8) * 4,
        }
        path = root / "hub" / "models" / org / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=1, ensure_ascii=False))
        written += 1
        results += sum(len(res["metrics"]) for res in index_results)
        if m % 20 == 19:                                 # 5% of the models have no card file
            continue
        front = dict(card_data)
        card = _card_text(world, m, repo, front, index_results, arxiv, r)
        card_path = root / "hub" / "cards" / org / name / "README.md"
        card_path.parent.mkdir(parents=True, exist_ok=True)
        card_path.write_text(card)
        cards += 1
    return {"hub_model_files_written": written, "hub_cards_written": cards, "hub_index_values": results}


def _card_text(world: World, m: int, repo: str, front: dict, results: list[dict], arxiv: str | None,
               r: int) -> str:
    words = world.vocab[(np.arange(60) * (m + 3) + r) % len(world.vocab)]
    paragraph = " ".join(words).capitalize() + "."
    table = "\n".join(f"| {res['dataset']['name']} | {mt['name']} | {mt['value']} |"
                      for res in results for mt in res["metrics"])
    cite = f"\n## Citation\n\nSee [arXiv:{arxiv}](https://arxiv.org/abs/{arxiv}).\n" if arxiv else ""
    return (f"---\n{_yaml(front)}\n---\n\n# {repo.split('/')[1]}\n\n"
            f"This model is a fine-tuned version of [{front.get('base_model', 'a base model')}]"
            f"(https://huggingface.co/{front.get('base_model', '')}) for **{front['pipeline_tag']}**.\n\n"
            f"## Model description\n\n{paragraph}\n\n"
            + (f"## Evaluation results\n\n| Dataset | Metric | Value |\n|---|---|---|\n{table}\n\n" if table else "")
            + "## Training procedure\n\n- learning_rate: 2e-05\n- train_batch_size: 16\n- num_epochs: 3\n"
            + (f"\nRevision {r}: numbers updated.\n" if r else "") + cite)


def write_leaderboards(world: World, root: Path) -> dict:
    n = 0
    for b in sorted(world.hub_datasets):
        rows = np.flatnonzero((world.row_bench == b) & (world.row_model < world.p.hub_models))
        metric = world.bench_metrics[b][0]
        entries = {}
        for row in rows:
            m = int(world.row_model[row])
            v = round(_scale(metric[3], world.row_values[row, 0]), 2)
            if m not in entries or v > entries[m][0]:
                entries[m] = (v, row)
        ranked = sorted(entries.items(), key=lambda kv: -kv[1][0])[:200]
        body = [{"rank": i + 1, "modelId": world.hub_ids[m], "value": v, "verified": bool(i % 4 == 0),
                 "source": {"name": "Eval", "url": f"https://huggingface.co/{world.hub_ids[m]}"},
                 "filename": ".eval_results/results.yaml"} for i, (m, (v, _)) in enumerate(ranked)]
        path = root / "hub" / "leaderboards" / f"{world.bench_dataset[b]}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=1))
        n += 1
    return {"hub_leaderboards": n}


def write_curated(world: World, root: Path) -> dict:
    p = world.p
    rng = np.random.default_rng([p.seed, 11])
    hub_rows = np.flatnonzero(world.row_model < p.hub_models)
    n = min(len(hub_rows), int(p.results * p.curated_share))
    picked = np.sort(rng.choice(hub_rows, size=n, replace=False)) if n else []
    path = root / "tables" / "curated.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["model_id", "model_name", "benchmark", "task", "area", "metric", "value", "split", "setting",
               "paper_url", "paper_title", "result_date", "source_url", "uses_additional_data"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in picked:
            m, b = int(world.row_model[row]), int(world.row_bench[row])
            metric = world.bench_metrics[b][0]
            task_name, area = world.tasks[int(world.bench_task[b])]
            if world.bench_subtask[b]:
                task_name = f"{task_name} (subtask)"
            text = world.value_text(row, 0, metric)
            if rng.random() < 0.1 and text not in ("-",):
                text = f"{_scale(metric[3], world.row_values[row, 0]) * 1.05:.2f}"
            url, title = world.model_paper_ref(m)
            writer.writerow([world.hub_ids[m], world.model_names[m], world.bench_dataset[b], task_name, area,
                             metric[0], text, "", "", url, title, _day(world.row_date[row]) or "",
                             f"https://example.org/curated/{b}", "false"])
    return {"curated_rows": int(n)}


FEED_HEAD = ("<?xml version='1.0' encoding='UTF-8'?>\n"
             '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
             'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
             "  <id>https://arxiv.org/api/{feed_id}</id>\n"
             "  <title>arXiv Query: search_query=&amp;id_list={ids}&amp;start=0&amp;max_results=100</title>\n"
             "  <updated>2026-11-01T02:00:00Z</updated>\n"
             '  <link href="https://arxiv.org/api/query?search_query=&amp;start=0&amp;max_results=100&amp;'
             'id_list={ids}" type="application/atom+xml"/>\n'
             "  <opensearch:itemsPerPage>100</opensearch:itemsPerPage>\n"
             "  <opensearch:totalResults>{n}</opensearch:totalResults>\n"
             "  <opensearch:startIndex>0</opensearch:startIndex>\n")


def _entry(world: World, k: int) -> str:
    aid, v = world.paper_ids[k], int(world.paper_versions[k])
    published = datetime.combine(EPOCH + timedelta(days=int(world.paper_published[k])), datetime.min.time())
    published += timedelta(seconds=int(k * 7919 % 86400))
    updated = published + timedelta(days=30 * (v - 1))
    words = world.vocab[(np.arange(120) * (k + 11)) % len(world.vocab)]
    summary = " ".join(words).capitalize() + "."
    cat = CATEGORIES[int(world.paper_category[k])]
    cats = [cat] + ([CATEGORIES[(int(world.paper_category[k]) + 2) % len(CATEGORIES)]] if k % 3 == 0 else [])
    authors = "".join(f"    <author>\n      <name>{escape(world.vocab[(k * 31 + a) % len(world.vocab)].capitalize())} "
                      f"{escape(world.vocab[(k * 17 + a * 5) % len(world.vocab)].capitalize())}</name>\n    </author>\n"
                      for a in range(2 + k % 5))
    stamp = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    doi = f"10.{1000 + k % 9000}/synthetic.{k}" if k % 4 == 0 else None
    return (
        "  <entry>\n"
        f"    <id>http://arxiv.org/abs/{aid}v{v}</id>\n"
        f"    <title>{escape(world.paper_title(k))}</title>\n"
        f"    <updated>{stamp(updated)}</updated>\n"
        f'    <link href="https://arxiv.org/abs/{aid}v{v}" rel="alternate" type="text/html"/>\n'
        f'    <link href="https://arxiv.org/pdf/{aid}v{v}" rel="related" type="application/pdf" title="pdf"/>\n'
        f"    <summary>{escape(summary)}</summary>\n"
        + "".join(f'    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n' for c in cats)
        + f"    <published>{stamp(published)}</published>\n"
        + (f"    <arxiv:comment>{8 + k % 20} pages, {1 + k % 9} figures</arxiv:comment>\n" if k % 2 else "")
        + f'    <arxiv:primary_category term="{cat}"/>\n'
        + (f"    <arxiv:journal_ref>Proc. Synthetic Conf. {2015 + k % 10}</arxiv:journal_ref>\n" if k % 5 == 0 else "")
        + authors
        + (f"    <arxiv:doi>{doi}</arxiv:doi>\n"
           f'    <link rel="related" href="https://doi.org/{doi}" title="doi"/>\n' if doi else "")
        + "  </entry>\n")


def write_feeds(world: World, root: Path, papers: range, prefix: str = "feed") -> dict:
    out = root / "arxiv"
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    ks = list(papers)
    for f in range(0, len(ks), 100):
        chunk = ks[f:f + 100]
        ids = ",".join(world.paper_ids[k] for k in chunk)
        head = FEED_HEAD.format(feed_id=_sha("feed", prefix, f)[:27], ids=ids, n=len(chunk))
        (out / f"{prefix}-{f // 100:05d}.xml").write_text(head + "".join(_entry(world, k) for k in chunk) + "</feed>\n")
        n += 1
    return {"feed_files_written": n, "papers_written": len(ks)}


# ---------------------------------------------------------------------------------------- entry points

def generate(root: Path, p: Params) -> dict:
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    world, _ = build_world(p)
    stats = {"built_s": round(time.monotonic() - started, 1)}
    stats.update(write_tables(world, root))
    stats.update(write_curated(world, root))
    stats.update(write_hub(world, root))
    stats.update(write_leaderboards(world, root))
    stats.update(write_feeds(world, root, range(p.papers)))
    stats["results_expected"] = stats["table_cells"] + stats["hub_index_values"] + stats["curated_rows"]
    stats["seconds"] = round(time.monotonic() - started, 1)
    (root / MANIFEST).write_text(json.dumps({"params": asdict(p), "rounds": 0, "generated": stats}, indent=1))
    return stats


def apply_change(root: Path) -> dict:
    """One more 1% upstream change round on the snapshot at root (made by `generate`)."""
    started = time.monotonic()
    manifest = json.loads((root / MANIFEST).read_text())
    p = Params(**manifest["params"])
    r = manifest["rounds"] + 1
    world, log = build_world(p, rounds=r)
    stats = dict(log[-1])
    stats.update(write_tables(world, root))
    stats.update(write_hub(world, root, only_round=r))
    papers = len(world.paper_ids)
    stats.update(write_feeds(world, root, range(papers - stats["papers_added"], papers), prefix=f"new-r{r:03d}"))
    stats["seconds"] = round(time.monotonic() - started, 1)
    manifest["rounds"] = r
    manifest.setdefault("changes", []).append(stats)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--change", action="store_true", help="apply one 1%% change round to an existing snapshot")
    for name, default in asdict(Params()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args(argv)
    if args.change:
        stats = apply_change(args.out)
    else:
        p = Params(**{k: getattr(args, k) for k in asdict(Params())})
        if p.hub_models > p.models:
            parser.error("--hub-models cannot exceed --models")
        stats = generate(args.out, p)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
