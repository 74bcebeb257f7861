"""Model cards and model info files: hardened YAML front matter, sanitised card HTML, evaluation
values and results from model-index and evalResults, parsed in worker processes."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nh3
import yaml
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.repocard_data import model_index_to_eval_results
from markdown_it import MarkdownIt

from assets.sources.files import (
    FileRefused,
    InputLimits,
    open_source_file,
    read_source_file,
)
from assets.sources.hub.client import front_matter_unclosed, repo_id_problem
from assets.sources.ingest_log import code_version, failure_payload
from assets.sources.snapshot import SnapshotResource
from assets.sources.workers import map_batches
from warehouse import sql

MAX_FRONT_MATTER_CHARS = 2_000_000
MAX_YAML_NODES = 1_000_000          # nodes after alias expansion: a "billion laughs" card is refused
CARDS_PER_BATCH = 500


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
                                 bounds: CardBounds, workers: int | None = None,
                                 batch: int = CARDS_PER_BATCH) -> ModelCardsResult:
    """`parse_model_cards` over batches of models in `workers` processes (`map_batches`: parsing
    YAML and Markdown holds the GIL, so threads would not help), results in the order of `models`."""
    out = ModelCardsResult()
    for part in map_batches(partial(parse_model_cards, root, bounds=bounds), models, batch, workers):
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


