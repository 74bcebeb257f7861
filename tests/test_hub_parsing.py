"""Hub parsing without the network: card front matter, model-index and evalResults, values, HTML
sanitising, id validation; every real card of tests/data/shared/hub (and ../shared, when beside) parses and reconciles."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import real_files

from assets.sources.hub.cards import (
    CardBounds,
    EvalParse,
    YamlRefused,
    check_value,
    library_agrees,
    load_front_matter_yaml,
    parse_card,
    parse_eval_results,
    parse_model_cards,
    parse_model_cards_in_workers,
    parse_model_index,
    render_card_html,
)
from assets.sources.hub.client import cache_path, repo_id_problem
from pipelines.settings import BUNDLED_SNAPSHOT


def _model_index_of(path: Path) -> list:
    card = parse_card(path.read_text(encoding="utf-8", errors="replace"))
    assert card.problem is None, card.problem
    return card.metadata["model-index"]


def _parse(model_id: str, model_index: object) -> EvalParse:
    out = EvalParse()
    parse_model_index(model_id, model_index, out)
    assert out.seen == len(out.rows) + len(out.failures)
    return out


def _reasons(out: EvalParse) -> list[str]:
    return [reason for _, reason, _ in out.failures]


# by number of cards: cards with a model-index, and their metric entries (each one loaded or
# quarantined); 13 are copied into tests/data/shared, the collection in ../shared has 214
CARD_FIGURES = {13: (13, 6_555), 214: (210, 39_976)}


def test_every_real_card_parses_and_reconciles():
    cards = real_files("hub/cards", "*.md")
    with_model_index, entries = CARD_FIGURES[len(cards)]
    totals = {"seen": 0, "loaded": 0, "quarantined": 0, "yaml_problems": 0, "with_model_index": 0}
    for path in cards:
        card = parse_card(path.read_text(encoding="utf-8", errors="replace"))
        assert "<script" not in card.html.lower()
        if card.problem:
            totals["yaml_problems"] += 1
            continue
        model_index = (card.metadata or {}).get("model-index")
        if model_index is None:
            continue
        totals["with_model_index"] += 1
        out = _parse(path.stem.replace("_", "/", 1), model_index)
        totals["seen"] += out.seen
        totals["loaded"] += len(out.rows)
        totals["quarantined"] += len(out.failures)
    assert totals["seen"] == totals["loaded"] + totals["quarantined"]
    assert totals["with_model_index"] >= with_model_index and totals["loaded"] > 0.97 * entries
    # an independent count of metric entries: every one is either loaded or quarantined
    assert totals["seen"] >= entries


def test_cards_without_results_and_fixtures_do_not_crash():
    for folder in ("cards_without_results", "fixtures"):
        for path in real_files(f"hub/{folder}", "*.md"):
            card = parse_card(path.read_text(encoding="utf-8", errors="replace"))
            if card.metadata and "model-index" in card.metadata:
                _parse("x/y", card.metadata["model-index"])


def test_real_card_values_kept_as_written(real_data):
    cards = real_data / "hub" / "cards"
    phind = _parse("Phind/Phind-CodeLlama-34B-Python-v1",
                   _model_index_of(cards / "Phind_Phind-CodeLlama-34B-Python-v1.md"))
    assert "69.5%" in {r["value_raw"] for r in phind.rows}          # kept; normalised later in core
    comma = _parse("m/m", _model_index_of(cards / "MoritzLaurer_DeBERTa-v3-large-mnli-fever-anli-ling-wanli.md"))
    assert "0,912" in {r["value_raw"] for r in comma.rows}
    squad = _parse("deepset/roberta-base-squad2", _model_index_of(cards / "deepset_roberta-base-squad2.md"))
    exact = next(r for r in squad.rows if r["metric_type"] == "exact_match")
    assert exact["value_raw"] == "79.9309" and exact["verified"] is True and exact["verify_token"]
    assert exact["dataset_type"] == "squad_v2" and exact["dataset_split"] == "validation"
    assert exact["task_type"] == "question-answering"


@pytest.mark.parametrize("card, reason", [
    ("Lajavaness_bilingual-embedding-large.md", "list value: ["),
    ("dunzhang_stella_en_400M_v5.md", "not a value: .nan"),
    ("dangvantuan_sentence-camembert-base.md", "placeholder value: 'xx.xx'"),
    ("airesearch_wav2vec2-large-xlsr-53-th.md", "empty value"),
    ("AdamCodd_vit-base-nsfw-detector.md", "model-index: result 0 has no dataset"),
    ("anthracite-org_magnum-v1-72b.md", "duplicate result: same dataset, split and metric as"),
])
def test_real_bad_values_are_quarantined_with_reason(real_data, card, reason):
    out = _parse("org/model", _model_index_of(real_data / "hub" / "cards" / card))
    assert any(r.startswith(reason) for r in _reasons(out)), _reasons(out)[:5]


def test_rouge_for_two_splits_is_not_a_duplicate(real_data):
    out = _parse("facebook/bart-large-xsum", _model_index_of(real_data / "hub" / "cards" / "facebook_bart-large-xsum.md"))
    assert not [r for r in _reasons(out) if r.startswith("duplicate")]


def test_placeholder_minus_one_and_not_values():
    model_index = [{"name": "m", "results": [{
        "task": {"type": "text-classification"}, "dataset": {"type": "glue", "name": "GLUE", "config": "sst2"},
        "metrics": [{"type": "accuracy", "value": -1}, {"type": "f1", "value": "N/A"}, {"type": "precision", "value": ""},
                    {"type": "recall", "value": "-1"}, {"type": "loss", "value": "abc"}, {"type": "auc", "value": "0.93"},
                    {"type": "mcc", "value": -0.12}, {"type": "acc", "value": "85.1 ± 0.3"}, {"type": "bleu"}],
    }]}]
    out = _parse("org/m", model_index)
    assert [r["metric_type"] for r in out.rows] == ["auc", "mcc", "acc"]
    assert _reasons(out) == ["placeholder value: -1", "not a value: 'N/A'", "empty value", "placeholder value: '-1'",
                             "unparsable value: 'abc'", "empty value: result 0 metric 8 has no value"]


def test_model_index_structure_problems():
    out = _parse("org/m", [
        "not a mapping",
        {"name": "no results list"},
        {"name": "empty", "results": []},
        {"name": "m", "results": [{"task": {"type": "t"}, "dataset": {"type": "d"}},
                                  {"dataset": {"type": "d"}, "metrics": [{"type": "acc", "value": 1}]},
                                  {"task": {"type": "t"}, "dataset": {"type": "d"}, "metrics": [{"value": 2}]}]},
    ])
    assert _reasons(out) == ["model-index: entry 0 is not a mapping", "model-index: entry 1 has no results list",
                             "model-index: result 0 has no metrics", "model-index: result 1 has no task",
                             "model-index: result 2 metric 0 has no type"]
    assert _parse("org/m", {"not": "a list"}).failures[0][1].startswith("model-index: not a list")


def test_fixture_invalid_model_index_and_card_data(real_data):
    fixtures = real_data / "hub" / "fixtures"
    out = _parse("fixture/m", _model_index_of(fixtures / "sample_invalid_model_index.md"))
    assert _reasons(out) == ["model-index: result 0 has no dataset"]
    assert library_agrees(_model_index_of(fixtures / "sample_invalid_model_index.md"), 0).startswith("library rejects")
    bad = parse_card((fixtures / "sample_invalid_card_data.md").read_text())
    assert bad.problem == "card yaml: metadata is not a mapping but list"
    none = parse_card((fixtures / "sample_no_metadata.md").read_text())
    assert none.problem is None and none.metadata == {}
    crlf = parse_card((fixtures / "sample_windows_line_breaks.md").read_text())
    assert crlf.problem is None and crlf.metadata["license"] == "mit"
    good = _parse("fixture/m", _model_index_of(fixtures / "sample_simple_model_index.md"))
    assert len(good.rows) == 2 and library_agrees(_model_index_of(fixtures / "sample_simple_model_index.md"), 2) == "agrees"


def test_yaml_that_does_not_parse(real_data):
    text = (real_data / "hub" / "cards" / "deepset_roberta-base-squad2.md").read_text()
    broken = text.replace("model-index:", "model-index: [unclosed", 1)
    card = parse_card(broken)
    assert card.problem.startswith("card yaml: does not parse")
    assert card.metadata is None and card.html  # the body still renders


def test_alias_bomb_and_recursion_refused():
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for name, prev in zip("bcdefghi", "abcdefgh"):
        lol += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
    with pytest.raises(YamlRefused):
        load_front_matter_yaml(lol)
    assert parse_card(f"---\n{lol}---\n# x").problem.startswith("card yaml: refused")
    with pytest.raises(YamlRefused):
        load_front_matter_yaml("a: &a [*a]")
    with pytest.raises(YamlRefused):
        load_front_matter_yaml("a: '" + "x" * 2_100_000 + "'")


def test_yaml_refuses_python_tags():
    import yaml
    with pytest.raises(yaml.YAMLError):
        load_front_matter_yaml("a: !!python/object/apply:os.system ['echo hi']")


def test_eval_results_entries():
    items = [
        {"filename": ".eval_results/gpqa.yaml", "data": {"dataset": {"id": "Idavidrein/gpqa", "task_id": "gpqa_diamond",
                                                                     "revision": "abc"},
                                                         "value": 0.412, "verifyToken": "tok", "date": "2025-01-15T10:30:00Z",
                                                         "source": {"url": "https://x", "name": "Eval Logs"}}},
        {"dataset": {"id": "cais/hle", "task_id": "default"}, "value": 20.90, "source": {"url": "u", "org": "cais"}},
        {"filename": ".eval_results/bad.yaml", "error": "Invalid dataset id"},
        {"dataset": {"task_id": "x"}, "value": 1},
        {"dataset": {"id": "cais/hle", "task_id": "default"}, "value": "N/A"},
        {"dataset": {"id": "cais/hle", "task_id": "default"}, "value": 21.0},
    ]
    out = EvalParse()
    parse_eval_results("org/m", json.loads(json.dumps(items)), out)
    assert out.seen == 6 == len(out.rows) + len(out.failures)
    first, second = out.rows
    assert (first["dataset_type"], first["dataset_config"], first["value_raw"], first["verified"],
            first["verify_token"], first["result_date"], first["source_name"]) == (
        "Idavidrein/gpqa", "gpqa_diamond", "0.412", True, "tok", "2025-01-15", "Eval Logs")
    assert second["verified"] is False and second["source_name"] == "cais"
    assert [r.split(":")[0] for r in _reasons(out)] == ["eval-results", "eval-results", "not a value",
                                                        "duplicate result"]


@pytest.mark.parametrize("value, reason", [
    (83.6, None), ("83.6%", None), ("**70.3**", None), ("0,912", None), ("1,234.5", None), ("0.7482 ± 0.0015", None),
    ("0.00 +/- 0.00", None), ("1e-3", None), (-0.5, None), (float("nan"), "not a value"), ("nan", "not a value"),
    ("-", "not a value"), (None, "empty value"), ("  ", "empty value"), ([1, 2], "list value"), (True, "not a value"),
    (-1, "placeholder value"), ("-1.0", "placeholder value"), ("XX.X", "placeholder value"),
    ("see paper", "unparsable value"), ({"a": 1}, "not a value"),
])
def test_check_value(value, reason):
    raw, got = check_value(value)
    assert (got.split(":")[0] if got else None) == reason


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload=alert(1)><circle/></svg>',
    '<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<body onload=alert(1)>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name=q></form>',
    "[click](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2Zz4=)",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<details open ontoggle=alert(1)>',
    "<scr<script>ipt>alert(1)</script>",
    '<a href="vbscript:msgbox(1)">x</a>',
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
]


@pytest.mark.parametrize("payload", XSS)
def test_sanitiser_strips_xss(payload):
    html = render_card_html(f"# Card\n\n{payload}\n\ntext").lower()
    for bad in ("<script", "<iframe", "<object", "<embed", "<form", "<style", "<meta", "<svg", "<body"):
        assert bad not in html, (bad, html)
    assert not re.search(r"<[^>]*\son\w+\s*=", html), html             # no event handler attribute
    assert not re.search(r"<[^>]*\sstyle\s*=", html), html
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*(javascript|vbscript|data):""", html), html


def test_sanitiser_keeps_markdown():
    html = render_card_html("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[link](https://arxiv.org/abs/1911.02116) "
                            "![i](images/x.png) **bold**")
    assert "<h1>Title</h1>" in html and "<table>" in html and "<strong>bold</strong>" in html
    assert 'href="https://arxiv.org/abs/1911.02116"' in html and 'src="images/x.png"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize("repo_id", ["../etc/passwd", "/abs/path", "a/../../b", "a\\b", "a\x00b", "a/b/c", "", "a--b",
                                     ".hidden", "org/name.git", "a b/c", None, 42])
def test_invalid_repo_ids_refused(repo_id, tmp_path):
    assert repo_id_problem(repo_id) is not None


@pytest.mark.parametrize("repo_id", ["gpt2", "FacebookAI/xlm-roberta-large", "152334H/miqu-1-70b-sf",
                                     "dunzhang/stella_en_1.5B_v5", "Qwen/Qwen2.5-14B-Instruct"])
def test_valid_repo_ids(repo_id, tmp_path):
    assert repo_id_problem(repo_id) is None
    assert tmp_path / "hub" / "models" in cache_path(tmp_path, "models", repo_id).parents


def test_cards_parse_the_same_in_worker_processes(tmp_path):
    """A first run parses cards in batches across processes: same rows, failures and order as one process."""
    root = tmp_path / "snapshot"
    shutil.copytree(BUNDLED_SNAPSHOT / "hub", root / "hub")
    broken = root / "hub" / "models" / "broken"
    broken.mkdir()
    (broken / "truncated-info.json").write_text('{"id": "broken/truncated-info", "evalRes')
    (broken / "bad-yaml.json").write_text('{"id": "broken/bad-yaml"}')
    (root / "hub" / "cards" / "broken" / "bad-yaml").mkdir(parents=True)
    (root / "hub" / "cards" / "broken" / "bad-yaml" / "README.md").write_text("---\nmodel-index: [unclosed\n---\nbody\n")
    models = [(str(p.relative_to(root / "hub" / "models"))[: -len(".json")], None, None, str(p.relative_to(root)))
              for p in sorted((root / "hub" / "models").rglob("*.json"))]
    bounds = CardBounds(card_bytes=10_000_000, model_info_bytes=5_000_000, render_chars=100_000)
    serial = parse_model_cards(root, models, bounds)
    in_workers = parse_model_cards_in_workers(root, models, bounds, workers=2, batch=10)
    assert len(models) > 20 and serial.cards and serial.evals.rows and serial.evals.failures
    assert any(m["failures"] for m in serial.models if m["model_id"] == "broken/truncated-info")
    assert [m["model_id"] for m in in_workers.models] == [m for m, *_ in models]
    assert in_workers == serial


def test_a_card_cut_inside_its_front_matter_is_a_problem_not_card_text(real_data):
    """A real card cut short inside its YAML (as a download or a copy cut short gives): its
    model-index is reported lost, and none of its YAML is rendered as the card's text."""
    text = (real_data / "hub" / "cards" / "deepset_roberta-base-squad2.md").read_text()
    cut = text[: text.index("model-index") + 200]
    card = parse_card(cut)
    assert card.problem == "card yaml: front matter not closed or too large"
    assert card.html == "" and "model-index" not in card.html
    whole = parse_card(text)
    assert whole.problem is None and "model-index" in whole.metadata
