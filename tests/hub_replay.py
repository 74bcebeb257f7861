"""Hub routes for `tests.replay.ReplayServer`, served from a directory in the snapshot layout.

- GET /api/models/<id>: body of hub/models/<id>.json (org/name or legacy no-org ids); renamed ids
  answer 307 to the new id, as the Hub does.
- GET /api/models?author=<org>: listing of hub/models/<org>/*.json, `page_size` per page, paged
  with a `Link: <...>; rel="next"` header.
- HEAD/GET /<id>/resolve/<rev>/README.md: hub/cards/<id>/README.md with X-Repo-Commit (the model's
  sha), ETag (hash of the body) and Content-Length; gated ids answer 403 GatedRepo.
- GET /api/datasets/<org>/<name>/leaderboard: body of hub/leaderboards/<org>/<name>.json.
- Dataset repos given as `datasets={repo_id: directory}`: GET /api/datasets/<id>/revision/<rev>
  (repo info, sha = hash of the files), GET /api/datasets/<id>/tree/<rev> (recursive listing) and
  HEAD/GET /datasets/<id>/resolve/<rev>/<path> (the file, with ETag and X-Repo-Commit).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlencode

from replay import ReplayServer, Request, Response

REPO = r"(?P<repo>[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?)"
JSON = {"Content-Type": "application/json"}


def _not_found(code: str = "RepoNotFound") -> Response:
    return Response(404, b'{"error":"Repository not found"}', {**JSON, "X-Error-Code": code})


def card_sha(root: Path, repo_id: str) -> str | None:
    path = root / "hub" / "models" / f"{repo_id}.json"
    if path.is_file():
        sha = json.loads(path.read_text()).get("sha")
        if sha:
            return sha
    return None


def hub_routes(server: ReplayServer, snapshot_root: Path, *, renames: dict[str, str] | None = None,
               gated: set[str] | frozenset[str] = frozenset(), private: set[str] | frozenset[str] = frozenset(),
               page_size: int = 2, datasets: dict[str, Path] | None = None) -> None:
    root = Path(snapshot_root)
    renames = dict(renames or {})

    def model(request: Request, match: re.Match) -> Response:
        repo = match["repo"]
        if repo in renames:
            query = urlencode(request.query, doseq=True)
            return Response(307, b"", {"Location": f"/api/models/{renames[repo]}" + (f"?{query}" if query else "")})
        if repo in private:
            return Response(401, b'{"error":"Invalid username or password."}', JSON)
        path = root / "hub" / "models" / f"{repo}.json"
        if not path.is_file():
            return _not_found()
        return Response(200, path.read_bytes(), JSON)

    def listing(request: Request, match: re.Match) -> Response:
        author = (request.query.get("author") or [""])[0]
        cursor = int((request.query.get("cursor") or ["0"])[0])
        files = sorted((root / "hub" / "models" / author).glob("*.json")) if author else []
        page = files[cursor: cursor + page_size]
        body = []
        for path in page:
            data = json.loads(path.read_text())
            body.append({"id": data.get("id", f"{author}/{path.stem}"), "_id": data.get("_id"),
                         "sha": data.get("sha"), "lastModified": data.get("lastModified")})
        headers = dict(JSON)
        if cursor + page_size < len(files):
            query = urlencode({"author": author, "cursor": cursor + page_size, "expand": ["sha", "lastModified"]},
                              doseq=True)
            headers["Link"] = f'<{server.url}/api/models?{query}>; rel="next"'
        return Response(200, json.dumps(body).encode(), headers)

    def card(request: Request, match: re.Match) -> Response:
        repo = match["repo"]
        if repo in gated:
            return Response(403, b'{"error":"Access to this model is restricted"}',
                            {**JSON, "X-Error-Code": "GatedRepo"})
        if repo in private:
            return Response(401, b'{"error":"Invalid username or password."}', JSON)
        path = root / "hub" / "cards" / repo / "README.md"
        sha = card_sha(root, repo) or match["rev"]
        if not path.is_file():
            if (root / "hub" / "models" / f"{repo}.json").is_file():
                return Response(404, b'{"error":"Entry not found"}',
                                {**JSON, "X-Error-Code": "EntryNotFound", "X-Repo-Commit": sha})
            return _not_found()
        body = path.read_bytes()
        etag = hashlib.sha1(body).hexdigest()
        return Response(200, body, {"Content-Type": "text/plain; charset=utf-8", "X-Repo-Commit": sha,
                                    "ETag": f'"{etag}"'})

    def leaderboard(request: Request, match: re.Match) -> Response:
        path = root / "hub" / "leaderboards" / f"{match['repo']}.json"
        if not path.is_file():
            return _not_found()
        return Response(200, path.read_bytes(), JSON)

    def dataset_files(repo: str) -> dict[str, bytes]:
        folder = Path((datasets or {})[repo])
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    def dataset_sha(files: dict[str, bytes]) -> str:
        return hashlib.sha1(b"".join(hashlib.sha1(body).digest() for body in files.values())).hexdigest()

    def dataset_info(request: Request, match: re.Match) -> Response:
        if match["repo"] not in (datasets or {}):
            return _not_found()
        files = dataset_files(match["repo"])
        body = {"id": match["repo"], "sha": dataset_sha(files), "private": False, "gated": False,
                "siblings": [{"rfilename": name} for name in files]}
        return Response(200, json.dumps(body).encode(), JSON)

    def dataset_tree(request: Request, match: re.Match) -> Response:
        if match["repo"] not in (datasets or {}):
            return _not_found()
        body = [{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                for name, data in dataset_files(match["repo"]).items()]
        return Response(200, json.dumps(body).encode(), JSON)

    def dataset_file(request: Request, match: re.Match) -> Response:
        if match["repo"] not in (datasets or {}):
            return _not_found()
        files = dataset_files(match["repo"])
        if match["path"] not in files:
            return Response(404, b'{"error":"Entry not found"}', {**JSON, "X-Error-Code": "EntryNotFound"})
        body = files[match["path"]]
        return Response(200, body, {"Content-Type": "application/octet-stream", "X-Repo-Commit": dataset_sha(files),
                                    "ETag": f'"{hashlib.sha1(body).hexdigest()}"'})

    server.route("GET", rf"/api/datasets/{REPO}/revision/(?P<rev>[^/]+)", dataset_info)
    server.route("GET", rf"/api/datasets/{REPO}/tree/(?P<rev>[^/]+)(?:/.*)?", dataset_tree)
    server.route("GET", rf"/datasets/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", dataset_file)
    server.route("GET", r"/api/models", listing)
    server.route("GET", rf"/api/models/{REPO}", model)
    server.route("GET", rf"/api/datasets/{REPO}/leaderboard", leaderboard)
    server.route("GET", rf"/{REPO}/resolve/(?P<rev>[^/]+)/README\.md", card)


def card_file_name(repo_id: str) -> str:
    """Name of a card in tests/data/shared/hub/cards: the first '_' separates org and name."""
    return repo_id.replace("/", "_", 1) + ".md"


def build_snapshot(real_hub: Path, target: Path, model_ids: list[str]) -> Path:
    """A snapshot directory holding the given models' real API bodies and cards (when the real data has them)."""
    for repo_id in model_ids:
        api = real_hub / "api" / f"hfhub_cassette__{repo_id.replace('/', '__')}.json"
        dest = target / "hub" / "models" / f"{repo_id}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(api.read_bytes())
        for folder in ("cards", "cards_without_results"):
            card = real_hub / folder / card_file_name(repo_id)
            if card.is_file():
                out = target / "hub" / "cards" / repo_id / "README.md"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(card.read_bytes())
                break
    return target
