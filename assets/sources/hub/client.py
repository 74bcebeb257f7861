"""Hugging Face Hub client: the `hub` resource and the live fetches that fill the fetch cache.

Every HTTP request of `huggingface_hub` goes through one `httpx2.Client` that this module installs
with `huggingface_hub.set_client_factory` while a run fetches (built like the library's own, see
`assets.sources.hub.library`). Its transport applies the shared HTTP layer (`assets.sources.http`)
to every request:

- counts requests and retries in `RequestStats` (for `raw.source_runs`);
- retries 429, 5xx, timeouts and cut-off bodies (h11 refuses a body shorter than its
  Content-Length) as `Transient` with the resource's `RetryPolicy`: honouring `Retry-After`, at
  most `max_retries` times per request and `retry_budget_seconds` of waiting per run;
- counts connection-level failures (the name does not resolve, the connection is refused) per host
  in a `CircuitBreaker`: they are retried after at most `CONNECT_RETRY_SECONDS`, and after
  `UNREACHABLE_AFTER` in a row the host is unreachable for the rest of the client's run, its
  requests failing at once (`host unreachable: ...`) instead of each waiting out its retries;
- reads every body eagerly, refusing bodies larger than `max_response_bytes`;
- bounds every request by `timeout_seconds` (the library passes `timeout=None` on some calls).

When retries run out it raises `HubRequestFailed`, which the library does not retry again, so the
run records the failure and goes on. The token is sent by the library as a header and never
appears in a reason, a log line or metadata.

Live fetches write what they get into the fetch cache in the snapshot layout:
`hub/models/<id>.json` (the JSON body of `GET /api/models/<id>` with expand fields),
`hub/cards/<id>/README.md` (via `HfApi.hf_hub_download(local_dir=...)`: HEAD, then GET only when
the ETag changed) and `hub/leaderboards/<id>.json`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import httpx2
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import DatasetLeaderboardEntry, ModelInfo
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.utils import (
    build_hf_headers,
    disable_progress_bars,
    hf_raise_for_status,
)

from assets.sources.files import write_atomic
from assets.sources.http import CircuitBreaker, RequestStats, RetryPolicy, Transient, retry_after, retrying, stable_slot
from assets.sources.hub.library import (
    download_record,
    library_client,
    restore_default_client_factory,
)

# Properties asked of GET /api/models/{id}; the cached body holds exactly these (plus id).
MODEL_EXPAND = [
    "author", "baseModels", "cardData", "createdAt", "disabled", "downloads", "evalResults", "gated",
    "lastModified", "library_name", "likes", "model-index", "pipeline_tag", "private", "safetensors",
    "sha", "tags",
]
LIST_EXPAND = ["sha", "lastModified"]
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
GONE_STATUSES = frozenset({401, 403, 404, 410})
# Hub repo ids: optional namespace, name; word characters, '-' and '.'; no '--' or '..' (as the Hub).
REPO_ID = re.compile(r"(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}", re.ASCII)
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
NO_CARD_MARKER = ".no_card"  # in hub/cards/<id>/: the sha at which the repo had no README


def repo_id_problem(repo_id: object) -> str | None:
    """Why `repo_id` cannot be used as a Hub id and a cache path, or None when it can."""
    if not isinstance(repo_id, str) or not repo_id:
        return "empty or not a string"
    if "\x00" in repo_id or "\\" in repo_id:
        return "contains NUL or a backslash"
    if repo_id.startswith("/") or ".." in repo_id or "--" in repo_id:
        return "absolute path, '..' or '--'"
    if not REPO_ID.fullmatch(repo_id) or repo_id.endswith((".", "-", ".git")):
        return "not of the form [org/]name (letters, digits, '-', '_', '.')"
    return None


class HubRequestFailed(Exception):
    """A request that still failed after the retry policy; the reason starts with its category."""


class _RetryingTransport(httpx2.BaseTransport):
    """Counts, bounds and retries every request sent to the Hub (see the module docstring)."""

    def __init__(self, inner: httpx2.BaseTransport, settings: "HubResource", stats: RequestStats,
                 sleep: Callable[[float], None], breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.settings = settings
        self.policy = settings.retry_policy()
        self.stats = stats
        self.sleep = sleep
        self.breaker = breaker

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        timeout = self.policy.timeout_seconds
        request.extensions = {**request.extensions,
                              "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
        attempts = 0
        try:
            for attempt in retrying(self.policy, self.stats, self.sleep):
                with attempt:
                    attempts += 1
                    return self._once(request)
        except Transient as exc:
            raise HubRequestFailed(
                f"{exc.reason} after {attempts} attempt(s): {request.method} {request.url.path}") from None
        raise AssertionError("unreachable")

    def _once(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.netloc.decode()
        refusal = self.breaker.refusal(host)
        if refusal:
            raise HubRequestFailed(f"{refusal}: {request.method} {request.url.path}")
        self.stats.sent()
        try:
            response = self.inner.handle_request(request)
        except httpx2.ConnectError as exc:
            reason = f"connection error ({type(exc).__name__}: {_first_line(exc)})"
            refusal = self.breaker.connection_failed(host, reason)
            if refusal:
                raise HubRequestFailed(f"{refusal}: {request.method} {request.url.path}") from None
            raise Transient(reason, connection=True) from None
        except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError) as exc:
            kind = "timeout" if isinstance(exc, httpx2.TimeoutException) else "connection error"
            raise Transient(f"{kind} ({type(exc).__name__})") from None
        self.breaker.responded(host)
        if response.status_code in RETRY_STATUSES:
            response.close()
            label = "rate limited (429)" if response.status_code == 429 else f"server error ({response.status_code})"
            raise Transient(label, retry_after(response.headers))
        limit = self.settings.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream:
                size += len(chunk)
                if size > limit:
                    raise HubRequestFailed(
                        f"response too large: more than {limit} bytes from {request.method} {request.url.path}")
                chunks.append(chunk)
        except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError) as exc:
            kind = "timeout" if isinstance(exc, httpx2.TimeoutException) else "truncated body"
            raise Transient(f"{kind} ({type(exc).__name__})") from None
        finally:
            response.close()
        return httpx2.Response(response.status_code, headers=response.headers,
                               stream=httpx2.ByteStream(b"".join(chunks)), extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()


class HubResource(dg.ConfigurableResource):
    """The Hugging Face Hub (`huggingface_hub.HfApi`) with a bounded retry policy.

    `token` is optional (public repos need none); pass `dg.EnvVar("HF_TOKEN")`. It is only ever
    handed to `HfApi`, never logged or put in metadata.
    """

    endpoint: str = "https://huggingface.co"
    token: str | None = None
    max_retries: int = 4
    retry_budget_seconds: float = 120.0
    timeout_seconds: float = 30.0
    max_response_bytes: int = 20_000_000
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_models_per_org: int = 1000
    # A model an org listing shows at the sha already cached is not asked for again, except on its
    # night of a `refresh_days` cycle (downloads, likes and gating change without a commit).
    refresh_days: int = 7

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.max_retries, timeout_seconds=self.timeout_seconds,
                           backoff_seconds=self.backoff_seconds, max_backoff_seconds=self.max_backoff_seconds,
                           retry_budget_seconds=self.retry_budget_seconds)

    @contextmanager
    def open(self) -> Iterator["HubClient"]:
        """A client for one asset run; installs the counting, retrying session meanwhile."""
        client = HubClient(self)
        set_client_factory(client.make_httpx_client)
        disable_progress_bars()
        try:
            yield client
        finally:
            restore_default_client_factory()


class HubClient:
    def __init__(self, settings: HubResource, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.endpoint = settings.endpoint.rstrip("/")
        self.host = httpx2.URL(self.endpoint).netloc.decode()   # the host whose outage is the Hub's
        self._token: str | bool = settings.token or False
        self.api = HfApi(endpoint=self.endpoint, token=self._token, library_name="sotaboard")
        self.stats = RequestStats()
        self.breaker = CircuitBreaker()
        self._sleep = sleep

    def make_httpx_client(self) -> httpx2.Client:
        transport = _RetryingTransport(httpx2.HTTPTransport(), self.settings, self.stats, self._sleep, self.breaker)
        return library_client(transport, self.settings.timeout_seconds)

    # --- calls ---------------------------------------------------------------------------

    def model_json(self, repo_id: str) -> dict:
        """The JSON body of GET /api/models/{repo_id}?expand=...: the same request `HfApi.model_info`
        sends, kept raw so the cache holds what the Hub said. Redirects (renamed repos) are followed:
        the body's `id` is then the new id."""
        from huggingface_hub.utils import get_session

        response = get_session().get(
            f"{self.endpoint}/api/models/{repo_id}", params={"expand": MODEL_EXPAND},
            headers=build_hf_headers(token=self._token, library_name="sotaboard"))
        hf_raise_for_status(response)
        try:
            data = response.json()
        except ValueError as exc:
            raise HubRequestFailed(f"invalid json: GET /api/models/{repo_id}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise HubRequestFailed(f"invalid json: GET /api/models/{repo_id} is not a model object with an id")
        return data

    def list_org(self, author: str) -> dict[str, str | None]:
        """Model ids of `author` with their current sha."""
        models = self.api.list_models(author=author, expand=LIST_EXPAND, limit=self.settings.max_models_per_org)
        return {m.id: m.sha for m in models}

    def download_card(self, repo_id: str, revision: str | None, local_dir: Path, cache_dir: Path) -> Path | None:
        """README.md of `repo_id` at `revision` into `local_dir`; None when the repo has no README.
        `hf_hub_download` sends HEAD (X-Repo-Commit, ETag, Content-Length) and GETs only when the
        ETag differs from the one it recorded for the local copy."""
        try:
            path = self.api.hf_hub_download(repo_id, "README.md", revision=revision or "main",
                                            local_dir=local_dir, cache_dir=cache_dir,
                                            etag_timeout=self.settings.timeout_seconds)
        except RemoteEntryNotFoundError:
            return None
        return Path(path)

    def download_dataset_files(self, repo_id: str, patterns: list[str], local_dir: Path, cache_dir: Path) -> list[Path]:
        """Files of dataset `repo_id` matching `patterns` into `local_dir`, via `snapshot_download`:
        one repo-info and one tree request, then per file a HEAD, and a GET only when the file's ETag
        differs from the one recorded for the local copy. Returns the local files, sorted."""
        root = Path(self.api.snapshot_download(repo_id, repo_type="dataset", allow_patterns=patterns,
                                               local_dir=local_dir, cache_dir=cache_dir, max_workers=1,
                                               etag_timeout=self.settings.timeout_seconds))
        return sorted(p for pattern in patterns for p in root.glob(pattern) if p.is_file())

    def leaderboard_json(self, dataset_id: str) -> list[dict]:
        """`HfApi.get_dataset_leaderboard`, serialised back to the API's JSON shape."""
        entries = self.api.get_dataset_leaderboard(dataset_id, timeout=self.settings.timeout_seconds)
        return [_leaderboard_entry_json(e) for e in entries]

    def describe(self, exc: BaseException) -> str:
        """Reason text for a failed call: a short category, ': ', details. Never includes the token."""
        text = _describe(exc)
        if isinstance(self.settings.token, str) and self.settings.token:
            text = text.replace(self.settings.token, "***")
        return text


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__


def _status(exc: HfHubHTTPError) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HubRequestFailed):
        return str(exc)
    if isinstance(exc, GatedRepoError):  # before RepositoryNotFoundError, its parent
        return f"gated: access requires accepting the repo's conditions (HTTP {_status(exc)})"
    if isinstance(exc, DisabledRepoError):
        return "disabled: access to this repo is disabled"
    if isinstance(exc, RepositoryNotFoundError):
        status = _status(exc)
        if status in (401, 403):
            return f"not accessible: private, gated or missing repo (HTTP {status})"
        return f"not found: repository does not exist (HTTP {status})"
    if isinstance(exc, RevisionNotFoundError):
        return f"not found: revision does not exist (HTTP {_status(exc)})"
    if isinstance(exc, RemoteEntryNotFoundError):
        return f"not found: file does not exist (HTTP {_status(exc)})"
    if isinstance(exc, HfHubHTTPError):
        status = _status(exc)
        if status in (401, 403):
            return f"not accessible: private, gated or missing repo (HTTP {status})"
        if status in (404, 410):
            return f"not found: (HTTP {status})"
        return f"http error {status}: {_first_line(exc)}"
    if isinstance(exc, OfflineModeIsEnabled):
        return "offline: HF_HUB_OFFLINE is set"
    if isinstance(exc, LocalEntryNotFoundError):
        cause = exc.__cause__
        return f"download failed: {_describe(cause) if cause else _first_line(exc)}"
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return f"invalid response: {type(exc).__name__}: {_first_line(exc)}"
    if isinstance(exc, OSError):
        return f"download failed: {_first_line(exc)}"
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _leaderboard_entry_json(entry: DatasetLeaderboardEntry) -> dict:
    author = entry.author
    author_json = {"type": "org" if author.__class__.__name__ == "Organization" else "user",
                   "name": getattr(author, "name", None) or getattr(author, "username", None)}
    return {"rank": entry.rank, "modelId": entry.model_id, "value": entry.value, "verified": entry.verified,
            "source": entry.source, "filename": entry.filename, "author": author_json,
            "pullRequest": entry.pull_request, "notes": entry.notes}


# --- live fetches into the fetch cache ------------------------------------------------------


def cache_path(root: Path, kind: str, repo_id: str, suffix: str = ".json") -> Path:
    """Where `repo_id` lives in the snapshot layout; `repo_id` must have passed `repo_id_problem`."""
    path = (root / "hub" / kind / f"{repo_id}{suffix}").resolve()
    base = (root / "hub" / kind).resolve()
    if base not in path.parents:
        raise ValueError(f"path escapes the cache: {repo_id!r}")
    return path


# Reasons that are the source's answer about an item (it is gone, closed, or never existed), not a
# failure of the source: they do not count towards an outage and do not mark the item stale.
ANSWERS = ("not found", "not accessible", "gated", "disabled")


@dataclass
class FetchOutcome:
    fetched: list[str] = field(default_factory=list)          # requested ids written (or checked) this run
    renamed: dict[str, str] = field(default_factory=dict)      # requested id -> id the Hub answered
    failures: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    library_rejects: list[tuple[str, str]] = field(default_factory=list)  # ModelInfo cross-check
    unchanged: list[str] = field(default_factory=list)         # known unchanged: not fetched
    attempted: int = 0                                         # fetches tried (listings included)
    failed: int = 0                                            # of those, failed by the source (not ANSWERS)
    stale: list[tuple[str, str, str]] = field(default_factory=list)  # (entity, id, reason): last good data kept

    def fetch_failed(self, key: str, reason: str, entity: str | None = None, entity_id: str | None = None) -> None:
        """A fetch that did not succeed: a failure row, and unless the source answered about the
        item (ANSWERS), a failed fetch of `entity` (which keeps its last good data)."""
        self.failures.append((key, reason))
        if not reason.startswith(ANSWERS):
            self.failed += 1
            if entity:
                self.stale.append((entity, entity_id or key, reason))


def _cached_sha(path: Path) -> str | None:
    try:
        sha = json.loads(path.read_bytes()).get("sha")
    except (OSError, ValueError, AttributeError):
        return None
    return sha if isinstance(sha, str) else None


def _cached_org_models(root: Path, org: str) -> list[str]:
    """The models of `org` whose info the cache holds (what its last good listing showed)."""
    return [f"{org}/{p.name[: -len('.json')]}" for p in sorted((root / "hub" / "models" / org).glob("*.json"))]


def fetch_models(client: HubClient, orgs: list[str], model_ids: list[str], root: Path,
                 today: date | None = None) -> tuple[list[str], FetchOutcome]:
    """List the orgs, fetch every model's info into `root`. Returns the requested ids (valid ones,
    in order) and what happened. A model whose fetch fails keeps its previously cached file, except
    a repo that no longer exists or is not accessible, whose cached file is removed. An org whose
    listing fails keeps the models the cache holds for it (each is still asked for). A model an org
    listing shows at the sha of its cached file is not fetched (`outcome.unchanged`) unless tonight
    is its refresh night (`HubResource.refresh_days`)."""
    outcome = FetchOutcome()
    today = today or datetime.now(timezone.utc).date()
    listed: dict[str, str | None] = {}
    for org in orgs:
        if repo_id_problem(org) or "/" in org:
            outcome.failures.append((f"org:{org}", f"invalid org id: {org!r}"))
            continue
        outcome.attempted += 1
        try:
            listed.update(client.list_org(org))
        except Exception as exc:  # one org failing must not stop the run
            outcome.fetch_failed(f"org:{org}", client.describe(exc))
            listed.update(dict.fromkeys(_cached_org_models(root, org)))
    days = max(client.settings.refresh_days, 1)
    requested: list[str] = []
    for repo_id in dict.fromkeys([*listed, *model_ids]):
        problem = repo_id_problem(repo_id)
        if problem:
            outcome.failures.append((str(repo_id), f"invalid model id: {problem}: {str(repo_id)[:200]!r}"))
            continue
        requested.append(repo_id)
        path = cache_path(root, "models", repo_id)
        if (listed.get(repo_id) and listed[repo_id] == _cached_sha(path)
                and stable_slot(repo_id, days) != today.toordinal() % days):
            outcome.unchanged.append(repo_id)
            continue
        outcome.attempted += 1
        try:
            data = client.model_json(repo_id)
        except HfHubHTTPError as exc:
            outcome.fetch_failed(repo_id, client.describe(exc), "model")
            if _status(exc) in GONE_STATUSES or isinstance(exc, (RepositoryNotFoundError, DisabledRepoError)):
                path.unlink(missing_ok=True)  # deleted, made private or disabled: stop loading the old copy
            continue
        except Exception as exc:
            outcome.fetch_failed(repo_id, client.describe(exc), "model")
            continue
        if data["id"] != repo_id:
            outcome.renamed[repo_id] = data["id"]
        try:
            ModelInfo(**json.loads(json.dumps(data)))
        except Exception as exc:  # the library's own parser refuses it: noted, the raw body is kept
            outcome.library_rejects.append((repo_id, f"{type(exc).__name__}: {_first_line(exc)}"))
        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode())
        outcome.fetched.append(repo_id)
    return requested, outcome


def front_matter_unclosed(text: str) -> bool:
    """A card whose YAML front matter opens (`---` first) but never closes, as a file cut short gives."""
    return text.lstrip().startswith("---") and not REGEX_YAML_BLOCK.search(text)


def card_refusal(body: bytes) -> str | None:
    """Why a downloaded card must not be cached, or None: a card whose front matter does not close
    is what a download cut short gives (its model-index would be lost)."""
    if front_matter_unclosed(body.decode("utf-8", errors="replace")):
        return "card refused: yaml front matter not closed (download cut short?)"
    return None


def fetch_cards(client: HubClient, models: list[tuple[str, str | None]], previous: dict[str, str | None],
                root: Path) -> FetchOutcome:
    """Download README.md of each (model_id, sha) whose sha differs from `previous` (the sha its
    card was last loaded at) or whose cached card is missing; the others are `unchanged`. A card
    whose download fails, or that `card_refusal` refuses, is not cached: the previous copy stays
    (`_put_back`) and the next run downloads it again."""
    outcome = FetchOutcome()
    hf_cache = root / ".hf_cache"
    for model_id, sha in models:
        if repo_id_problem(model_id):
            outcome.failures.append((model_id, f"invalid model id: {repo_id_problem(model_id)}"))
            continue
        card = cache_path(root, "cards", model_id, "/README.md")
        no_card = card.parent / NO_CARD_MARKER
        unchanged_card = previous.get(model_id) == sha and card.is_file()
        unchanged_absence = no_card.is_file() and no_card.read_text().strip() == sha
        if sha and (unchanged_card or unchanged_absence):
            outcome.unchanged.append(model_id)
            continue
        revision = sha if sha and COMMIT_SHA.fullmatch(sha) else "main"
        kept = (card.read_bytes(), card.stat()) if card.is_file() else None
        outcome.attempted += 1
        try:
            got = client.download_card(model_id, revision, card.parent, hf_cache)
            refusal = card_refusal(got.read_bytes()) if got is not None else None
        except Exception as exc:
            refusal = client.describe(exc)
        if refusal:
            _put_back(card, kept)
            outcome.fetch_failed(f"{model_id}/README.md", refusal, "card", model_id)
            continue
        if got is None:  # the repo has no README at this sha: remember, so an unchanged rerun asks nothing
            card.unlink(missing_ok=True)
            if sha:
                write_atomic(no_card, sha.encode())
        else:
            no_card.unlink(missing_ok=True)
        outcome.fetched.append(model_id)
    return outcome


def _put_back(card: Path, kept: tuple[bytes, os.stat_result] | None) -> None:
    """After a failed or refused download: the card as it was before (the library may have removed
    it), and no download record of the library, so that the next run downloads it again."""
    download_record(card.parent, "README.md").unlink(missing_ok=True)
    if kept is None:
        card.unlink(missing_ok=True)
    elif not card.is_file() or card.read_bytes() != kept[0]:
        write_atomic(card, kept[0])
        os.utime(card, ns=(kept[1].st_atime_ns, kept[1].st_mtime_ns))


def fetch_leaderboards(client: HubClient, dataset_ids: list[str], root: Path) -> FetchOutcome:
    """Each dataset's leaderboard into `root`; a leaderboard whose fetch fails keeps its cached file."""
    outcome = FetchOutcome()
    for dataset_id in dataset_ids:
        problem = repo_id_problem(dataset_id)
        if problem or "/" not in dataset_id:
            outcome.failures.append((dataset_id, f"invalid dataset id: {problem or 'no org'}"))
            continue
        outcome.attempted += 1
        try:
            body = client.leaderboard_json(dataset_id)
        except Exception as exc:
            outcome.fetch_failed(f"leaderboard:{dataset_id}", client.describe(exc), "leaderboard", dataset_id)
            continue
        write_atomic(cache_path(root, "leaderboards", dataset_id),
                     json.dumps(body, ensure_ascii=False, indent=1).encode())
        outcome.fetched.append(dataset_id)
    return outcome
