"""Hugging Face Hub ingestion: model info, model cards with their evaluation results, dataset leaderboards.

Both modes parse the same files under `snapshot.root` (snapshot layout: `hub/models/<id>.json`,
`hub/cards/<id>/README.md`, `hub/leaderboards/<dataset id>.json`); in live mode the assets first
fill the fetch cache from the Hub (see `pipelines.clients.hub`).

Each asset keeps its own ingest log (sources `hub`, `hub-cards`, `hub-leaderboards`): one shared
source name would make each asset's `IngestLog.save` delete the failures the others recorded.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import nh3
import pandas as pd
import yaml
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.repocard_data import model_index_to_eval_results
from markdown_it import MarkdownIt

from assets.ingest_log import (FAILURE_TYPE, IngestLog, code_version, failure_payload, files_to_read,
                               source_answered_spec)
from pipelines.clients.hub import (
    FetchOutcome,
    HubClient,
    HubResource,
    fetch_cards,
    fetch_leaderboards,
    fetch_models,
    front_matter_unclosed,
    repo_id_problem,
)
from pipelines.resources import SnapshotResource, WarehouseResource, utc_now
from pipelines.settings import InputLimits
from pipelines.snapshot_files import FileRefused, open_source_file, read_source_file
from warehouse import sql

MAX_FRONT_MATTER_CHARS = 2_000_000
MAX_YAML_NODES = 1_000_000          # nodes after alias expansion: a "billion laughs" card is refused
PREVIEW_ROWS = 5
CARD_PARSERS = min(4, os.cpu_count() or 1)   # processes parsing cards on a first run or after a parser change
CARDS_PER_BATCH = 500
HUB_KINDS = {"huggingface", "duckdb"}

# --- YAML front matter ------------------------------------------------------------------------

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RawFloat(float):
    """A float that remembers the text it was written as (`0.90` stays `0.90`)."""

    raw: str


class RawInt(int):
    raw: str


def _raw_number(cls: type, value: Any, text: str) -> Any:
    number = cls(value)
    number.raw = text
    return number


class CardLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader for card front matter: numbers keep their text, timestamps stay strings."""


CardLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: _raw_number(RawFloat, yaml.constructor.SafeConstructor.construct_yaml_float(loader, node),
                                     node.value))
CardLoader.add_constructor(
    "tag:yaml.org,2002:int",
    lambda loader, node: _raw_number(RawInt, yaml.constructor.SafeConstructor.construct_yaml_int(loader, node),
                                     node.value))
CardLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


class YamlRefused(ValueError):
    pass


def _expanded_size(root: yaml.Node) -> int:
    """Number of nodes the document has once aliases are expanded (memoised, so linear)."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:
            raise YamlRefused("recursive alias")
        active.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in node.value)
        else:
            total = 1
        active.discard(key)
        memo[key] = total
        if total > MAX_YAML_NODES:
            raise YamlRefused(f"more than {MAX_YAML_NODES} nodes once aliases are expanded")
        return total

    return size(root)


def load_front_matter_yaml(text: str) -> Any:
    """`yaml.safe_load` with bounds: size, alias expansion, nesting. Raises YamlRefused or YAMLError."""
    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise YamlRefused(f"front matter larger than {MAX_FRONT_MATTER_CHARS} characters")
    loader = CardLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except RecursionError:
        raise YamlRefused("nesting too deep") from None
    finally:
        loader.dispose()


def split_card(text: str) -> tuple[str | None, str]:
    """(front matter YAML text or None, markdown body), as huggingface_hub splits a card."""
    match = REGEX_YAML_BLOCK.search(text)
    if not match:
        return None, text
    return match.group(2), text[match.end():]


# --- HTML ---------------------------------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
URL_SCHEMES = {"http", "https", "mailto"}


def render_card_html(markdown: str, max_chars: int = InputLimits.card_render_chars) -> str:
    """Card body -> HTML, sanitised by nh3: no scripts, styles, event handlers, or URLs other than
    http(s)/mailto (relative links stay). A body longer than `max_chars` is rendered up to its last
    line break before that, followed by a note saying so: rendering time stays bounded."""
    shown = markdown
    if len(markdown) > max_chars:
        cut = markdown.rfind("\n", 0, max_chars)
        shown = markdown[:cut if cut > 0 else max_chars]
    html = nh3.clean(_MARKDOWN.render(shown), url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)
    if len(shown) < len(markdown):
        html += (f'\n<p class="card-shortened"><em>Card shortened: the first {len(shown):,} of its '
                 f'{len(markdown):,} characters are shown.</em></p>\n')
    return html


# --- evaluation values ----------------------------------------------------------------------------

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NUMERIC = re.compile(
    rf"(?:{_NUMBER}|[+-]?[1-9]\d{{0,2}}(?:,\d{{3}})+(?:\.\d+)?|[+-]?\d+,\d+)\s*%?")
_SPREAD = re.compile(r"^(.+?)\s*(?:±|\+/-|\+-)\s*(.+)$")
_NOT_VALUES = {"-", "--", "—", "–", "n/a", "na", "nan", "none", "null", "tbd", "unknown", "?", "??", "???",
               "inf", "-inf", "infinity"}
_TEMPLATE = re.compile(r"[xX?]+(?:[.,][xX?]+)?\s*%?")
_PLACEHOLDER = re.compile(r"-1(?:\.0*)?")
# as create_macros' visible_text and parse_score read value text: invisible characters removed,
# no-break spaces made spaces, a note in parentheses or brackets after the value set aside
_INVISIBLE = re.compile("[\ufeff\u200b-\u200d\u2060]")
_NO_BREAK_SPACE = re.compile("[\u00a0\u2007\u202f]")
_NOTE = re.compile(r"^(.*?[^\s(\[])\s*(?:\([^()]*\)|\[[^\[\]]*\])[*_\s]*$")


def number_text(value: Any) -> str:
    raw = getattr(value, "raw", None)
    return raw if isinstance(raw, str) else json.dumps(value)


def check_value(value: Any) -> tuple[str | None, str | None]:
    """(value text as written, reason it is not a value or None). Only clearly-not-a-value input is
    refused; formats such as '69.5%', '0,912', '**70.3**', '0.75 ± 0.01' or '88.2 [reported]' (and
    invisible characters in them) are kept for core, which parses them (create_macros' parse_score)."""
    if value is None:
        return None, "empty value"
    if isinstance(value, bool):
        return str(value).lower(), f"not a value: {str(value).lower()}"
    if isinstance(value, (list, tuple, dict)):
        raw = json.dumps(value, default=str)
        return raw, f"list value: {raw[:80]}" if not isinstance(value, dict) else f"not a value: mapping {raw[:80]}"
    if isinstance(value, (int, float)):
        raw = number_text(value)
        if isinstance(value, float) and not math.isfinite(value):
            if _NUMERIC.fullmatch(raw):  # written as a number (1e400) that a double cannot hold
                return raw, f"number out of range: {raw[:80]} is too large for a double"
            return raw, f"not a value: {raw}"
        if isinstance(value, float) and value == 0 and re.match(r"[^eE]*[1-9]", raw):
            return raw, f"number out of range: {raw[:80]} is too small for a double (not zero)"
        if value == -1:
            return raw, f"placeholder value: {raw}"
        return raw, None
    text = str(value)
    s = re.sub(r"^[*_\s]+|[*_\s]+$", "", _NO_BREAK_SPACE.sub(" ", _INVISIBLE.sub("", text)))
    if not s:
        return text, "empty value"
    noted = _NOTE.match(s)
    main = re.sub(r"[*_]", "", noted.group(1) if noted else s).strip()
    if main.lower() in _NOT_VALUES:
        return text, f"not a value: {s!r}"
    if _PLACEHOLDER.fullmatch(main):
        return text, f"placeholder value: {s!r}"
    if _TEMPLATE.fullmatch(main):
        return text, f"placeholder value: {s!r}"
    spread = _SPREAD.match(main)
    main, extra = (spread.group(1), spread.group(2)) if spread else (main, None)
    if _NUMERIC.fullmatch(main.strip()) and (extra is None or _NUMERIC.fullmatch(extra.strip())):
        return text, None
    return text, f"unparsable value: {text[:80]!r}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)
    if isinstance(value, str):
        return value.strip() or None
    return json.dumps(value, default=str)


# --- evaluation results -------------------------------------------------------------------------

EVAL_COLUMNS = ["record_key", "model_id", "format", "task_type", "task_name", "dataset_type", "dataset_name",
                "dataset_config", "dataset_split", "metric_type", "metric_name", "value_raw", "verified",
                "verify_token", "source_name", "source_url", "result_date"]


@dataclass
class EvalParse:
    """Results found for one model: `seen` counts every metric value met (and every unreadable
    block), so seen == len(rows) + len(failures) always."""

    rows: list[dict] = field(default_factory=list)
    failures: list[tuple[str, str, str | None]] = field(default_factory=list)
    seen: int = 0

    def fail(self, key: str, reason: str, payload: str) -> None:
        """Quarantine a metric value (or an unreadable block); `payload`: `failure_payload` text."""
        self.seen += 1
        self.failures.append((key, reason, payload))

    def add(self, row: dict) -> None:
        self.seen += 1
        self.rows.append(row)


def _value_payload(row: dict, file: str | None, **more: object) -> str:
    """The payload of a refused eval value: its model, task, dataset, metric and value as written
    (the fields result_rejects gives a value refused later)."""
    return failure_payload(file=file, **{k: row.get(k) for k in (
        "model_id", "format", "task_type", "task_name", "dataset_type", "dataset_name", "dataset_config",
        "dataset_split", "metric_type", "metric_name")}, value=row.get("value_raw"), **more)


def parse_model_index(model_id: str, model_index: Any, out: EvalParse, file: str | None = None) -> int:
    """Every metric of every result of every model-index entry -> rows or failures (`file`: where
    the model-index was read, for their payloads). Returns the number of metric entries that carry
    a dataset, a task and a metric type (for the cross-check)."""
    base = f"{model_id}/model-index"
    structured = 0

    def block(excerpt: Any) -> str:
        return failure_payload(model_id=model_id, file=file, excerpt=excerpt)

    if not isinstance(model_index, list):
        out.fail(base, f"model-index: not a list but {type(model_index).__name__}", block(model_index))
        return 0
    first_seen: dict[tuple, tuple[str, str | None]] = {}
    for e, entry in enumerate(model_index):
        if not isinstance(entry, dict):
            out.fail(f"{base}/{e}", f"model-index: entry {e} is not a mapping", block(entry))
            continue
        results = entry.get("results")
        if not isinstance(results, list):  # `results: []` (trainer template) is no result, not a bad one
            out.fail(f"{base}/{e}", f"model-index: entry {e} has no results list", block(entry))
            continue
        for r, result in enumerate(results):
            key_r = f"{base}/{e}.{r}"
            if not isinstance(result, dict):
                out.fail(key_r, f"model-index: result {r} is not a mapping", block(result))
                continue
            metrics = result.get("metrics")
            if not isinstance(metrics, list) or not metrics:
                out.fail(key_r, f"model-index: result {r} has no metrics", block(result))
                continue
            task, dataset = result.get("task"), result.get("dataset")
            source = result.get("source") if isinstance(result.get("source"), dict) else {}
            problem = None
            if not isinstance(dataset, dict) or not (_text(dataset.get("type")) or _text(dataset.get("name"))):
                problem = f"model-index: result {r} has no dataset"
            elif not isinstance(task, dict) or not (_text(task.get("type")) or _text(task.get("name"))):
                problem = f"model-index: result {r} has no task"
            for m, metric in enumerate(metrics):
                key = f"{key_r}.{m}"
                if problem:
                    out.fail(key, problem, failure_payload(model_id=model_id, file=file, task=task, dataset=dataset,
                                                           metric=metric))
                    continue
                if not isinstance(metric, dict):
                    out.fail(key, f"model-index: result {r} metric {m} is not a mapping", block(metric))
                    continue
                row = {
                    "record_key": key, "model_id": model_id, "format": "model-index",
                    "task_type": _text(task.get("type")), "task_name": _text(task.get("name")),
                    "dataset_type": _text(dataset.get("type")), "dataset_name": _text(dataset.get("name")),
                    "dataset_config": _text(dataset.get("config")), "dataset_split": _text(dataset.get("split")),
                    "metric_type": _text(metric.get("type")), "metric_name": _text(metric.get("name")),
                    "verified": metric.get("verified") if isinstance(metric.get("verified"), bool) else None,
                    "verify_token": _text(metric.get("verifyToken")),
                    "source_name": _text(source.get("name")), "source_url": _text(source.get("url")),
                    "result_date": None,
                }
                if not (row["metric_type"] or row["metric_name"]):
                    out.fail(key, f"model-index: result {r} metric {m} has no type",
                             _value_payload(row, file, excerpt=metric))
                    continue
                structured += 1
                if "value" not in metric:
                    out.fail(key, f"empty value: result {r} metric {m} has no value", _value_payload(row, file))
                    continue
                row["value_raw"], reason = check_value(metric["value"])
                if reason:
                    out.fail(key, reason, _value_payload(row, file))
                    continue
                identity = (_text(entry.get("name")), row["task_type"], row["task_name"], row["dataset_type"],
                            row["dataset_name"], row["dataset_config"], row["dataset_split"], row["metric_type"],
                            row["metric_name"])
                if identity in first_seen:
                    first_key, first_value = first_seen[identity]
                    same = "same value" if first_value == row["value_raw"] else f"value {first_value} there"
                    out.fail(key, f"duplicate result: same dataset, split and metric as {first_key} ({same})",
                             _value_payload(row, file))
                    continue
                first_seen[identity] = (key, row["value_raw"])
                out.add(row)
    return structured


def parse_eval_results(model_id: str, items: Any, out: EvalParse, file: str | None = None) -> None:
    """`evalResults` of a model info body (the `.eval_results/*.yaml` entries), field for field as
    `huggingface_hub.parse_eval_result_entries` reads them; entries the Hub flagged are refused.
    `file`: the model info file, for the payloads of refused entries."""
    base = f"{model_id}/eval-results"

    def block(excerpt: Any) -> str:
        return failure_payload(model_id=model_id, file=file, excerpt=excerpt)

    if not isinstance(items, list):
        out.fail(base, f"eval-results: not a list but {type(items).__name__}", block(items))
        return
    first_seen: dict[tuple, str] = {}
    for i, item in enumerate(items):
        key = f"{base}/{i}"
        if not isinstance(item, dict):
            out.fail(key, f"eval-results: entry {i} is not a mapping", block(item))
            continue
        if "error" in item:
            out.fail(key, f"eval-results: file {item.get('filename')!r} rejected by the Hub: {item['error']}",
                     block(item))
            continue
        data = item.get("data", item)
        dataset = data.get("dataset") if isinstance(data, dict) else None
        if not isinstance(dataset, dict) or not _text(dataset.get("id")):
            out.fail(key, f"eval-results: entry {i} has no dataset id", block(item))
            continue
        if not _text(dataset.get("task_id")):
            out.fail(key, f"eval-results: entry {i} has no task_id", block(item))
            continue
        named = {"model_id": model_id, "format": "eval-results", "dataset_type": _text(dataset.get("id")),
                 "dataset_config": _text(dataset.get("task_id"))}
        if "value" not in data:
            out.fail(key, f"empty value: eval-results entry {i} has no value", _value_payload(named, file))
            continue
        value_raw, reason = check_value(data["value"])
        if reason:
            out.fail(key, reason, _value_payload({**named, "value_raw": value_raw}, file))
            continue
        source = data.get("source") if isinstance(data.get("source"), dict) else {}
        date = _text(data.get("date"))
        identity = (_text(dataset.get("id")), _text(dataset.get("task_id")), _text(dataset.get("revision")),
                    _text(data.get("notes")))
        if identity in first_seen:
            out.fail(key, f"duplicate result: same dataset, task and notes as {first_seen[identity]}",
                     _value_payload({**named, "value_raw": value_raw}, file, notes=_text(data.get("notes"))))
            continue
        first_seen[identity] = key
        out.add({
            "record_key": key, "model_id": model_id, "format": "eval-results",
            "task_type": None, "task_name": None,
            "dataset_type": _text(dataset.get("id")), "dataset_name": _text(dataset.get("id")),
            "dataset_config": _text(dataset.get("task_id")), "dataset_split": None,
            "metric_type": None, "metric_name": None, "value_raw": value_raw,
            "verified": data.get("verifyToken") is not None, "verify_token": _text(data.get("verifyToken")),
            "source_name": _text(source.get("name") or source.get("org") or source.get("user")),
            "source_url": _text(source.get("url")), "result_date": date[:10] if date else None,
        })


def library_agrees(model_index: Any, structured: int) -> str:
    """Cross-check with huggingface_hub's own (strict) model-index parser."""
    try:
        _, results = model_index_to_eval_results(model_index)
    except Exception as exc:
        return f"library rejects: {type(exc).__name__}"
    return "agrees" if len(results) == structured else f"library counts {len(results)}, we {structured}"


# --- cards ----------------------------------------------------------------------------------------


@dataclass
class CardParse:
    metadata: dict | None
    html: str
    problem: str | None          # why the front matter could not be used


def parse_card(text: str, render_chars: int = InputLimits.card_render_chars) -> CardParse:
    front, body = split_card(text)
    metadata, problem = None, None
    if front is None:
        if front_matter_unclosed(text):
            # a file cut short: its model-index is lost, and its YAML is no card text to render
            problem = "card yaml: front matter not closed or too large"
            body = ""
        metadata = {}
    else:
        try:
            loaded = load_front_matter_yaml(front)
        except YamlRefused as exc:
            problem = f"card yaml: refused: {exc}"
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problem = f"card yaml: does not parse: {first}"
        else:
            if loaded is None:
                metadata = {}
            elif isinstance(loaded, dict):
                metadata = loaded
            else:
                problem = f"card yaml: metadata is not a mapping but {type(loaded).__name__}"
    return CardParse(metadata, render_card_html(body, render_chars), problem)


def metadata_json(metadata: dict | None) -> str | None:
    if metadata is None:
        return None
    try:
        return json.dumps(metadata, default=str, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


def _load_json(data: bytes) -> Any:
    """A model info file's bytes, numbers keeping their JSON text."""
    return json.loads(data.decode("utf-8", errors="replace"),
                      parse_float=lambda s: _raw_number(RawFloat, float(s), s),
                      parse_int=lambda s: _raw_number(RawInt, int(s), s),
                      parse_constant=lambda s: _raw_number(RawFloat, float(s), s))


# What a model's parsed rows depend on besides its sha and files: when this module or a parsing
# library changes, every card is parsed again.
PARSER_VERSION = code_version(__file__, *(version(package) for package in ("huggingface_hub", "markdown-it-py",
                                                                          "nh3", "PyYAML")))
# What a model info file's row depends on besides its size and modification time.
MODEL_FILES_PARSER = code_version(__file__, sql("merge_into_hub_model_files"), sql("create_macros"))


@dataclass
class ModelCardsResult:
    """Parsed cards, eval results, and one row per parsed model for raw.hub_card_parses (its inputs,
    whether it had a card, the library cross-check verdict, eval values met, its failures)."""

    cards: list[dict] = field(default_factory=list)
    evals: EvalParse = field(default_factory=EvalParse)
    models: list[dict] = field(default_factory=list)

    def extend(self, other: ModelCardsResult) -> None:
        self.cards += other.cards
        self.models += other.models
        self.evals.rows += other.evals.rows
        self.evals.failures += other.evals.failures
        self.evals.seen += other.evals.seen


@dataclass(frozen=True)
class CardBounds:
    """What card parsing reads at most (from SnapshotResource): card and model info file bytes,
    and the characters of a card body rendered to HTML."""

    card_bytes: int
    model_info_bytes: int
    render_chars: int

    @classmethod
    def of(cls, snapshot: SnapshotResource) -> "CardBounds":
        return cls(snapshot.max_card_bytes, snapshot.max_model_info_bytes, snapshot.card_render_chars)


def parse_model_cards(root: Path, models: list[tuple[str, str | None, str | None, str | None]],
                      bounds: CardBounds) -> ModelCardsResult:
    """For each (model_id, requested_id, sha, source_file) of raw.hub_models: its card (if any) and
    its eval results, from the card's model-index (or, without a card file, the model info's) and
    from the model info's evalResults. Files are read through the snapshot jail, within `bounds`."""
    out = ModelCardsResult()
    for model_id, requested_id, sha, source_file in models:
        failures: list[tuple[str, str, str | None]] = []
        seen, first_eval_failure = out.evals.seen, len(out.evals.failures)
        info: dict = {}
        if source_file:
            try:
                loaded = _load_json(read_source_file(root, root / source_file, bounds.model_info_bytes,
                                                     "model info file"))
                info = loaded if isinstance(loaded, dict) else {}
            except FileRefused as refused:
                failures.append((model_id, refused.reason, failure_payload(id=model_id, file=source_file)))
            except (OSError, ValueError, RecursionError) as exc:
                failures.append((model_id, f"invalid json: {type(exc).__name__}",
                                 failure_payload(id=model_id, file=source_file)))
        card_file = _card_file(root, model_id, requested_id)
        model_index: Any = None
        index_file = source_file
        if card_file is not None:
            index_file = Path(os.path.relpath(card_file, root)).as_posix()
            card = _read_card(root, card_file, model_id, sha, out, failures, bounds, index_file)
            if card is not None:
                if card.problem:
                    out.evals.fail(f"{model_id}/model-index", card.problem,
                                   failure_payload(id=model_id, file=index_file))
                elif card.metadata and "model-index" in card.metadata:
                    model_index = card.metadata["model-index"]
        else:
            card_data = info.get("cardData") if isinstance(info.get("cardData"), dict) else {}
            model_index = info.get("model-index") or card_data.get("model-index")
        cross_check = None
        if model_index is not None:
            structured = parse_model_index(model_id, model_index, out.evals, index_file)
            cross_check = library_agrees(model_index, structured).split(":")[0]
        if info.get("evalResults") is not None:
            parse_eval_results(model_id, info["evalResults"], out.evals, source_file)
        out.models.append({"model_id": model_id, "sha": sha, "requested_id": requested_id, "source_file": source_file,
                           "without_card": card_file is None, "cross_check": cross_check,
                           "eval_results_seen": out.evals.seen - seen,
                           "failures": failures + out.evals.failures[first_eval_failure:]})
    return out


def parse_model_cards_in_workers(root: Path, models: list[tuple[str, str | None, str | None, str | None]],
                                 bounds: CardBounds, workers: int = CARD_PARSERS,
                                 batch: int = CARDS_PER_BATCH) -> ModelCardsResult:
    """`parse_model_cards` over batches of models in `workers` processes (parsing YAML and Markdown
    holds the GIL, so threads would not help), results in the order of `models`. Fewer models than
    two batches are parsed here."""
    if workers < 2 or len(models) < 2 * batch:
        return parse_model_cards(root, models, bounds)
    out = ModelCardsResult()
    batches = [models[start:start + batch] for start in range(0, len(models), batch)]
    # spawn, not fork: the parent holds DuckDB and Dagster threads that a forked child would inherit mid-state
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for part in pool.map(parse_model_cards, [root] * len(batches), batches, [bounds] * len(batches)):
            out.extend(part)
    return out


def _card_file(root: Path, model_id: str, requested_id: str | None) -> Path | None:
    """The model's card in the snapshot layout (of its id, else of the id asked for): whatever
    entry is there, a link or a FIFO too, for `_read_card` to admit or refuse."""
    for repo_id in (model_id, requested_id):
        if repo_id and not repo_id_problem(repo_id):
            path = root / "hub" / "cards" / repo_id / "README.md"
            if os.path.lexists(path):
                return path
    return None


def _read_card(root: Path, path: Path, model_id: str, sha: str | None, out: ModelCardsResult,
               failures: list[tuple[str, str, str | None]], bounds: CardBounds, relative: str) -> CardParse | None:
    try:
        listed = open_source_file(root, path, bounds.card_bytes, "card")
        text = read_source_file(root, path, bounds.card_bytes, "card").decode("utf-8", errors="replace")
    except FileRefused as refused:
        failures.append((f"{model_id}/README.md", refused.reason, failure_payload(id=model_id, file=relative)))
        return None
    card = parse_card(text, bounds.render_chars)
    fetched = datetime.fromtimestamp(listed.mtime, timezone.utc).replace(tzinfo=None, microsecond=0)
    out.cards.append({"model_id": model_id, "sha": sha, "readme": text, "card_html": card.html,
                      "metadata": metadata_json(card.metadata), "fetched_at": fetched})
    return card


# --- targets --------------------------------------------------------------------------------------


@dataclass
class Targets:
    orgs: list[str]
    models: list[str]
    curated: list[str]
    benchmarks: list[str]


def read_targets(con: duckdb.DuckDBPyConnection) -> Targets:
    def keys(kind: str) -> list[str]:
        return [k for (k,) in con.execute("SELECT key FROM raw.catalog WHERE kind = ? ORDER BY key", [kind]).fetchall()]

    curated = [m for (m,) in con.execute(
        "SELECT DISTINCT trim(model_id) FROM raw.table_results WHERE nullif(trim(model_id), '') IS NOT NULL ORDER BY 1"
    ).fetchall()]
    return Targets(keys("org"), keys("model"), curated, keys("benchmark"))


def snapshot_model_ids(root: Path, targets: Targets, log: IngestLog) -> list[str]:
    """Requested ids whose files a snapshot run loads: everything when the catalog names no org and
    no model; otherwise the catalog's orgs and models and the curated tables' model ids."""
    models_dir = root / "hub" / "models"
    if not targets.orgs and not targets.models:
        files = sorted([*models_dir.glob("*.json"), *models_dir.glob("*/*.json")])
        ids = [str(p.relative_to(models_dir))[: -len(".json")] for p in files]
    else:
        ids = []
        for org in targets.orgs:
            if repo_id_problem(org) or "/" in org:
                log.fail(f"org:{org}", f"invalid org id: {org!r}", failure_payload(org=org))
                continue
            ids += [f"{org}/{p.name[: -len('.json')]}" for p in sorted((models_dir / org).glob("*.json"))]
        for repo_id in targets.models:
            if not repo_id_problem(repo_id) and not os.path.lexists(root / "hub" / "models" / f"{repo_id}.json"):
                log.fail(repo_id, f"missing from snapshot: hub/models/{repo_id}.json",
                         failure_payload(id=repo_id, file=f"hub/models/{repo_id}.json"))
        ids += targets.models + targets.curated
    return list(dict.fromkeys(ids))


def _model_file_stats(root: Path, max_bytes: int) -> dict[str, os.stat_result | str]:
    """Every `hub/models/[org/]<name>.json` under `root`, by requested id: the stat of a plain
    regular file, or why the snapshot jail refuses it (a link leaving the root, a FIFO, a device,
    over `max_bytes`), from one directory listing per folder (a stat per tracked id costs seconds
    at 100,000 models). An entry that is, or sits in, a symbolic link is resolved by the jail."""
    found: dict[str, os.stat_result | str] = {}

    def scan(folder: Path, prefix: str, linked: bool) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if prefix == "" and entry.is_dir():
                scan(Path(entry.path), f"{entry.name}/", linked or entry.is_symlink())
            elif entry.name.endswith(".json"):
                repo_id = prefix + entry.name[: -len(".json")]
                if linked or not entry.is_file(follow_symlinks=False):
                    try:
                        open_source_file(root, Path(entry.path), max_bytes, "model info file")
                    except FileRefused as refused:
                        found[repo_id] = refused.reason
                        continue
                found[repo_id] = entry.stat()

    models_dir = root / "hub" / "models"
    scan(models_dir, "", os.path.realpath(models_dir) != os.path.join(os.path.realpath(root), "hub", "models"))
    return found


def model_files(root: Path, ids: list[str], log: IngestLog, max_bytes: int) -> pd.DataFrame:
    """The model info files of `ids` that exist and that the snapshot jail admits (at most
    `max_bytes`; the others are quarantined): filename (absolute), source_file (relative to
    `root`), requested_id, bytes, mtime_ns."""
    stats = _model_file_stats(root, max_bytes)
    files = []
    for repo_id in ids:
        problem = repo_id_problem(repo_id)
        if problem:
            log.fail(str(repo_id), f"invalid model id: {problem}: {str(repo_id)[:200]!r}",
                     failure_payload(id=str(repo_id)))
            continue
        stat = stats.get(repo_id)
        if stat is None:
            continue
        if isinstance(stat, str):
            log.fail(repo_id, f"hub/models/{repo_id}.json: {stat}",
                     failure_payload(id=repo_id, file=f"hub/models/{repo_id}.json"))
            continue
        if stat.st_size > max_bytes:
            log.fail(repo_id, f"hub/models/{repo_id}.json: model info file too large: {stat.st_size} bytes "
                              f"(limit {max_bytes})",
                     failure_payload(id=repo_id, file=f"hub/models/{repo_id}.json", bytes=stat.st_size))
            continue
        source_file = f"hub/models/{repo_id}.json"
        files.append((str(root / source_file), source_file, repo_id, stat.st_size, stat.st_mtime_ns))
    return pd.DataFrame(files, columns=["filename", "source_file", "requested_id", "bytes", "mtime_ns"]).astype(
        {"filename": "string", "source_file": "string", "requested_id": "string", "bytes": "int64",
         "mtime_ns": "int64"})


def tracked_dataset_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Hub dataset ids of the tracked benchmarks: catalog keys of the form org/name, and the org/name
    aliases (reference/benchmark_aliases.csv) of the others."""
    rows = con.execute(
        """
        WITH tracked AS (SELECT key FROM raw.catalog WHERE kind = 'benchmark'),
        aliases AS (
            SELECT alias, benchmark_id FROM read_csv(getvariable('reference_dir') || '/benchmark_aliases.csv',
                                                      all_varchar = true)
        )
        SELECT key FROM tracked WHERE key LIKE '%/%'
        UNION
        SELECT a.alias FROM aliases AS a JOIN tracked AS t
          ON lower(t.key) IN (lower(a.benchmark_id), lower(a.alias))
        WHERE a.alias LIKE '%/%'
        ORDER BY 1
        """
    ).fetchall()
    return [r for (r,) in rows]


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
    was refused); a file whose size and modification time are unchanged is not read again, and the
    rows of files no longer tracked are dropped. The result is the same as reading every file.

    Files are admitted by the snapshot jail (`pipelines.snapshot_files`, cap `max_model_info_bytes`);
    a count that is not a count (`downloads: NaN`) is left empty and quarantined."""
    log = IngestLog("hub", snapshot.source, lacks=snapshot.lacking("hub/models"))
    root = snapshot.root
    extra: dict[str, Any] = {}
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
        warehouse.run_sql(con, "create_macros")
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
    """Bring raw.hub_model_files up to date with `files` (see `model_files`), reading only the files
    that are new or whose size, modification time or reading code changed, then derive
    raw.hub_models and raw.hub_model_aliases from it, in one transaction. Returns the files read."""
    con.register("listed_model_files", files)
    con.execute("BEGIN")
    to_read = files_to_read(con, "raw.hub_model_files", "listed_model_files", ("bytes", "mtime_ns"),
                            MODEL_FILES_PARSER)
    if len(to_read):
        con.register("model_files_to_read", to_read)
        warehouse.run_sql(con, "merge_into_hub_model_files", model_files=list(to_read["filename"]),
                          parser=MODEL_FILES_PARSER)
        con.unregister("model_files_to_read")
    warehouse.run_sql(con, "hub_models")
    warehouse.replace_rows(con, "raw.hub_models", "model_id", "FROM hub_models_rows")
    warehouse.replace_rows(con, "raw.hub_model_aliases", "alias", "FROM hub_model_aliases_rows")
    con.execute("COMMIT")
    con.unregister("listed_model_files")
    for requested_id, reason, payload in con.execute(
            "SELECT requested_id, reason, payload FROM raw.hub_model_files WHERE reason IS NOT NULL "
            "UNION ALL SELECT requested_id, 'model info field left empty: ' || unnest(field_problems), source_file "
            "FROM raw.hub_model_files ORDER BY 1, 2").fetchall():
        log.fail(requested_id, reason, payload)
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

    Cards and model info files are read through the snapshot jail (`pipelines.snapshot_files`): a
    card that is a link out of the root, a FIFO or over `max_card_bytes` is quarantined and the model
    loads without it; a card body over `card_render_chars` is rendered up to there, with a note."""
    log = IngestLog("hub-cards", snapshot.source, lacks=snapshot.lacking("hub/cards"))
    root = snapshot.root
    with warehouse.connect() as con:
        warehouse.run_sql(con, "create_raw_schema")
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
        save_cards(con, parsed, unchanged)
        log.recall(con, "raw.hub_card_parses")
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


def save_cards(con: duckdb.DuckDBPyConnection, parsed: ModelCardsResult, unchanged: set[str]) -> None:
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
    for table in ("raw.hub_cards", "raw.hub_eval_results", "raw.hub_card_parses"):
        con.execute(f"DELETE FROM {table} WHERE model_id NOT IN (SELECT model_id FROM unchanged_models)")
    con.execute("INSERT INTO raw.hub_cards SELECT model_id, sha, readme, card_html, metadata::JSON, "
                "fetched_at::TIMESTAMP FROM parsed_cards")
    con.execute(f"INSERT INTO raw.hub_eval_results SELECT {', '.join(EVAL_COLUMNS[:-1])}, "
                "try_cast(result_date AS DATE) FROM parsed_eval_results")
    con.execute(f"INSERT INTO raw.hub_card_parses SELECT model_id, sha, requested_id, source_file, ?, without_card, "
                f"cross_check, eval_results_seen, failures::JSON::{FAILURE_TYPE}, ? FROM parsed_models",
                [PARSER_VERSION, utc_now()])


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
        warehouse.run_sql(con, "create_raw_schema")
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
            for key, reason, payload in con.execute("SELECT * FROM hub_leaderboard_errors ORDER BY 1").fetchall():
                log.fail(key, reason, payload)
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
