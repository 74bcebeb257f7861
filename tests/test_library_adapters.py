"""The names the source clients use that their libraries do not make public, each used in one
adapter module (assets/sources/hub/library.py, assets/sources/arxiv/library.py), and the feed
reader that replaced arxiv's private parser: what each is relied on to do, against recorded
responses served on 127.0.0.1. A library upgrade that changes any of it fails here."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import arxiv  # noqa: E402
import huggingface_hub.constants  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from arxiv_replay import FIXTURES, HEADER, RECORDED  # noqa: E402
from hub_replay import build_snapshot, hub_routes  # noqa: E402
from huggingface_hub import get_session  # noqa: E402
from huggingface_hub.utils import build_hf_headers  # noqa: E402
from replay import Fault, ReplayServer, Response  # noqa: E402

from assets.sources.arxiv.feeds import read_feed  # noqa: E402
from assets.sources.arxiv.library import use_session  # noqa: E402
from assets.sources.hub.client import HubResource  # noqa: E402
from assets.sources.hub.library import download_record  # noqa: E402

ZEPHYR = "HuggingFaceH4/zephyr-7b-beta"
FEEDS = sorted(RECORDED.glob("*.xml")) + sorted(FIXTURES.glob("*.xml"))


# --- huggingface_hub ----------------------------------------------------------------------------


@pytest.fixture()
def hub(server, tmp_path, real_data):
    hub_routes(server, build_snapshot(real_data / "hub", tmp_path / "snap", [ZEPHYR]))
    return HubResource(endpoint=server.url, max_retries=0, timeout_seconds=10)


def test_the_installed_client_sends_what_the_library_default_client_sends(server, hub):
    with hub.open() as client:
        client.model_json(ZEPHYR)
    assert client.stats.requests == 1
    # the library's default factory is back: this request is not ours (not counted)
    get_session().get(f"{server.url}/api/models/{ZEPHYR}", headers=build_hf_headers(token=False))
    assert client.stats.requests == 1 and server.count("GET", "^/api/models/") == 2
    ours, library = ({name.lower() for name in r.headers} for r in server.requests)
    assert "x-amzn-trace-id" in ours    # the library's request hook ran on the installed client
    assert ours == library


def test_the_installed_client_refuses_requests_in_offline_mode(server, hub, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with hub.open() as client:
        with pytest.raises(Exception) as failure:
            client.model_json(ZEPHYR)
    assert client.describe(failure.value) == "offline: HF_HUB_OFFLINE is set"
    assert server.requests == []


def test_removing_the_download_record_makes_the_next_download_get_the_card_again(server, hub, tmp_path):
    local, cache = tmp_path / "cards" / ZEPHYR, tmp_path / "hf_cache"
    with hub.open() as client:
        card = client.download_card(ZEPHYR, "main", local, cache)
        assert card.read_bytes() and download_record(local, "README.md").is_file()
        client.download_card(ZEPHYR, "main", local, cache)
        assert server.count("GET", "/resolve/") == 1        # recorded: the second asked HEAD only
        download_record(local, "README.md").unlink()
        client.download_card(ZEPHYR, "main", local, cache)
        assert server.count("GET", "/resolve/") == 2


# --- arxiv --------------------------------------------------------------------------------------


class TimedSession(requests.Session):
    """A session with a timeout on every request, keeping the URLs it sent."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.sent: list[str] = []

    def request(self, method, url, **kwargs):  # type: ignore[override]
        self.sent.append(url)
        return super().request(method, url, timeout=self.timeout, **kwargs)


def library_client(server: ReplayServer, session: requests.Session) -> arxiv.Client:
    client = arxiv.Client(delay_seconds=0, num_retries=0)
    client.query_url_format = server.url + "/api/query?{}"
    use_session(client, session)
    return client


def serve_one_page(server: ReplayServer, body: bytes) -> None:
    """The recorded body as the first page; an empty page after it (a recording holds one page)."""
    empty = HEADER.format(digest="0", ids="", start=1, size=0, updated="2026-01-01T00:00:00Z", total=0) + "</feed>\n"

    def handler(request, match):
        first = request.query.get("start", ["0"]) == ["0"]
        return Response(200, body if first else empty.encode(), {"Content-Type": "application/atom+xml"})

    server.route("GET", r"/api/query", handler)


def client_results(server: ReplayServer, body: bytes) -> list[arxiv.Result]:
    """What `arxiv.Client.results` yields for a response `body` (through a session of ours)."""
    serve_one_page(server, body)
    session = TimedSession(10)
    got = []
    try:
        for result in library_client(server, session).results(arxiv.Search(id_list=["0704.0001"], max_results=None)):
            got.append(result)
    except arxiv.UnexpectedEmptyPageError:
        pass   # the recording is the first page of a longer result set
    assert session.sent and len(session.sent) == server.count("GET", "/api/query")  # every request via our session
    return got


def full(result: arxiv.Result) -> str:
    return f"{result!r} pdf_url={result.pdf_url!r}"   # the repr holds every field, authors and links whole


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: p.name)
def test_read_feed_gives_the_results_arxiv_client_gives(server, path, real_data):
    body = path.read_bytes()
    info = read_feed(body)
    if info.problem:   # arXiv's error feed: the client has no such notion (it would parse the error entry)
        assert info.problem.startswith("arXiv error feed: ")
        return
    assert [full(r) for r in info.results] == [full(r) for r in client_results(server, body)]


def test_an_entry_the_client_skips_is_reported_and_the_rest_read_alike(server):
    body = (RECORDED / "q_testing_s0_m10_bc5a6c384fe9.xml").read_bytes()
    start = body.index(b"<published>")
    body = body[:start] + body[body.index(b"</published>", start) + len(b"</published>"):]
    body = body.replace(b"</title>", b"\n    (long title)\n  </title>")    # titles broken over lines, as arXiv's are
    info = read_feed(body)
    assert len(info.results) == 9 and [reason for _, reason in info.entry_problems] == ["entry without <published>"]
    assert [full(r) for r in info.results] == [full(r) for r in client_results(server, body)]


def test_every_request_of_the_client_goes_through_the_given_session(server):
    serve_one_page(server, (FIXTURES / "withdrawn.xml").read_bytes())
    server.inject("/api/query", Fault(delay=3))
    session = TimedSession(0.3)
    with pytest.raises(requests.Timeout):
        list(library_client(server, session).results(arxiv.Search(id_list=["0704.0001"], max_results=None)))
    assert len(session.sent) == 1
