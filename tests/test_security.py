"""Security of a whole run: the Hub token never lands anywhere but the Authorization header, and
hostile HTML in a model card is inert in the published warehouse.

- A canary HF_TOKEN: `sotaboard run --source live` against replays of the Hub and arXiv, with a
  private repo (401), a gated card (403) and a request that exhausts its retries, so the error
  paths run too. The server must receive the token as `Authorization: Bearer <token>`; the token
  must appear nowhere else: not in the CLI's stdout or stderr, not in any file of DAGSTER_HOME
  (run storage, event logs, SQLite databases, byte for byte), not in the published warehouse nor the
  working database (their bytes, and every VARCHAR value of every table), not in the fetch cache.
- An XSS corpus in a card of a snapshot, through the whole nightly job: `models.card_html` of the
  published warehouse holds no script, no event handler, no style, no javascript:/data:/vbscript:
  URL, no SVG or MathML payload.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import duckdb
import pytest
from arxiv_replay import arxiv_routes, entries_of
from conftest import offline_env, sotaboard, varchar_values
from hub_replay import hub_routes
from replay import Fault, ReplayServer

from pipelines.definitions import build_definitions
from pipelines.settings import BUNDLED_SNAPSHOT, Settings

pytestmark = pytest.mark.slow

CANARY = "hf_CanaryT0kenNeverStored9f8e7d6c5b4a"
PRIVATE = "google/flan-t5-xxl"
GATED = "HuggingFaceH4/zephyr-7b-beta"
EXHAUSTED = "google/vit-base-patch16-224"


def forms_of(secret: str) -> list[bytes]:
    """The secret as it could be written down: raw, URL-quoted, base64, UTF-16."""
    return [secret.encode(), quote(secret).encode(), base64.b64encode(secret.encode()),
            base64.b64encode(f"Bearer {secret}".encode()), secret.encode("utf-16-le")]


def files_holding(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(str(path.relative_to(root)))
    return found


def test_canary_token_reaches_the_hub_and_nothing_else(tmp_path, record_property):
    hub = ReplayServer().start()
    hub_routes(hub, BUNDLED_SNAPSHOT, private={PRIVATE}, gated={GATED})
    hub.inject(rf"^/api/models/{EXHAUSTED}$", *[Fault(status=429, retry_after=0)] * 5)
    arxiv = ReplayServer().start()
    arxiv_routes(arxiv, entries_of(sorted((BUNDLED_SNAPSHOT / "arxiv").glob("*.xml"))))
    env = offline_env(tmp_path, events_in_memory=False, HF_TOKEN=CANARY, SOTABOARD_SOURCE="live", HF_ENDPOINT=hub.url,
                      SOTABOARD_ARXIV_URL=arxiv.url + "/api/query?{}", SOTABOARD_ARXIV_DELAY="0")
    env.pop("HF_HUB_OFFLINE")
    warehouse = tmp_path / "out" / "sotaboard.duckdb"
    try:
        run = sotaboard("run", "--warehouse", str(warehouse), env=env, cwd=tmp_path, timeout=300)
    finally:
        hub.stop()
        arxiv.stop()
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]

    # the Hub got it, on every request, as a bearer token, and only there
    auth = [value for r in hub.requests for key, value in r.headers.items() if key.lower() == "authorization"]
    assert len(auth) == len(hub.requests) > 100 and set(auth) == {f"Bearer {CANARY}"}
    assert not any(CANARY in r.path or CANARY in json.dumps(r.query) for r in hub.requests)
    assert not any(CANARY in json.dumps(r.headers) or CANARY in r.path for r in arxiv.requests)

    # the error paths ran: a 401, a 403 and a request out of retries are quarantined
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        reasons = dict(con.execute("SELECT record_key, reason FROM quarantine").fetchall())
    finally:
        con.close()
    assert reasons[PRIVATE].startswith("not accessible") and "401" in reasons[PRIVATE]
    assert reasons[f"{GATED}/README.md"].startswith("gated:")
    assert reasons[EXHAUSTED].startswith("rate limited (429) after 5 attempt(s)")

    needles = forms_of(CANARY)
    assert not any(n.decode("latin-1") in run.stdout + run.stderr for n in needles)
    dagster_home = tmp_path / "dagster_home"
    assert list(dagster_home.rglob("*.db")), "the run history is in DAGSTER_HOME"
    state = warehouse.parent / ".state"
    assert (state / "cache" / "hub" / "models").is_dir()
    leaks = {"dagster_home": files_holding(dagster_home, needles), "state (work.duckdb, cache)": files_holding(
        state, needles), "published": files_holding(warehouse.parent, needles), "hf_home": files_holding(
        tmp_path / "hf_home", needles) if (tmp_path / "hf_home").exists() else []}
    assert leaks == {k: [] for k in leaks}
    for database in (warehouse, state / "work.duckdb"):
        assert CANARY not in varchar_values(database)
        assert "Bearer" not in varchar_values(database)
    record_property("canary_checked", {"requests_with_token": len(auth),
                                       "files_grepped": sum(1 for p in tmp_path.rglob("*") if p.is_file())})


# --- XSS in a card ---------------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    '<div onmouseover="alert(1)" style="position:fixed;width:100%;height:100%">x</div>',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="JaVaScRiPt:alert(1)">js</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entities</a>',
    '<a href="&#x6A;avascript&#x3A;alert(1)">hex</a>',
    '<a href="java\tscript:alert(1)">tab</a>',
    '<a href=" javascript:alert(1)">space</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">go</button><input></form>',
    '<base href="javascript:alert(1)//">',
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<style>@import 'javascript:alert(1)'; body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
    '<svg><set attributeName="href" to="javascript:alert(1)"/></svg>',
    '<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<math href="javascript:alert(1)">m</math>',
    "<title><img src=x onerror=alert(1)></title>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "<![CDATA[<script>alert(1)</script>]]>",
    '<template><img src=x onerror=alert(1)></template>',
    '<a href="https://ok.example" onclick="alert(1)" target="_blank">ok link, bad handler</a>',
    "[md link](javascript:alert(1))",
    "[md entity](&#106;avascript:alert(1))",
    "![md image](javascript:alert(1))",
    "![md data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "`<script>in code</script>` and\n\n    <script>indented code</script>",
]
FORBIDDEN_ELEMENTS = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
                      "button", "textarea", "select", "meta", "link", "base", "svg", "math", "template", "noscript",
                      "title", "body", "html", "head", "animate", "set", "foreignobject"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcset", "background", "poster",
                  "cite", "longdesc", "usemap", "dynsrc", "lowsrc", "srcdoc"}
SAFE_SCHEMES = {"http", "https", "mailto"}


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag.lower() in FORBIDDEN_ELEMENTS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on") or name == "style" or name == "srcdoc":
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                # what a browser would resolve: entities decoded (the parser did), controls and spaces dropped
                url = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(value)).lower()
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", url)
                self.links.append(url)
                if scheme and scheme[1] not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def test_xss_corpus_in_a_card_is_inert_in_the_published_warehouse(tmp_path):
    snap = tmp_path / "snap"
    model_id = "xss-org/xss-model"
    (snap / "hub" / "models" / "xss-org").mkdir(parents=True)
    (snap / "hub" / "models" / f"{model_id}.json").write_text(json.dumps({"id": model_id, "sha": "0" * 40}))
    card = snap / "hub" / "cards" / model_id / "README.md"
    card.parent.mkdir(parents=True)
    body = "\n\n".join(f"Payload {i}:\n\n{payload}" for i, payload in enumerate(XSS))
    card.write_text("---\nlicense: mit\n---\n\n# Hostile card\n\n" + body + "\n\n[a safe link](https://example.org)\n")
    warehouse = tmp_path / "out" / "sotaboard.duckdb"
    job = build_definitions(Settings.from_env({"SOTABOARD_SOURCE": "snapshot", "SOTABOARD_SNAPSHOT": str(snap),
                                               "SOTABOARD_WAREHOUSE": str(warehouse)})).resolve_job_def("nightly")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (card_html,) = con.execute("SELECT card_html FROM models WHERE model_id = ?", [model_id]).fetchone()
        (page_html,) = con.execute("SELECT card_html FROM model_page_card WHERE model_id = ?", [model_id]).fetchone()
    finally:
        con.close()
    assert page_html == card_html
    for i in range(len(XSS)):
        assert f"Payload {i}:" in card_html                      # every payload reached the renderer
    assert "https://example.org" in card_html                    # and safe links survive
    inspector = Inspector()
    inspector.feed(card_html)
    inspector.close()
    assert inspector.problems == []
    lowered = card_html.lower()
    assert "<script" not in lowered and "<svg" not in lowered and "<iframe" not in lowered
    assert not re.search(r"""(href|src|action|formaction)\s*=\s*["']?\s*(javascript|vbscript|data):""", lowered)
    assert all(not link.startswith(("javascript:", "vbscript:", "data:")) for link in inspector.links)


def test_loading_the_pipeline_turns_the_hub_librarys_phoning_home_off():
    """huggingface_hub asks huggingface.co for an "agent harness" registry on a process's first
    request unless telemetry is off when it reads its constants: loading the code location, in
    whichever order its modules import the library, turns it off first."""
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_TELEMETRY"}
    probe = ("import pipelines.definitions\nimport huggingface_hub.constants as constants\n"
             "print(constants.HF_HUB_DISABLE_TELEMETRY)")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
