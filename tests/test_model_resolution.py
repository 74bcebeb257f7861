"""Table model names resolve to Hub ids only on clear evidence; otherwise they keep their own key."""

from __future__ import annotations

from pipeline_harness import build, query, write_curated

SEED = """
INSERT INTO raw.hub_model_files (source_file, requested_id, model_id, author, tags, arxiv_ids, gated, private,
                                 license, fetched_at)
VALUES ('hub/models/lab-a/tiny-net.json', 'lab-a/tiny-net', 'lab-a/tiny-net', 'lab-a', ['arxiv:2001.00001'], ['2001.00001'], 'false', false, 'mit', now()),
       ('hub/models/lab-b/tiny-net.json', 'lab-b/tiny-net', 'lab-b/tiny-net', 'lab-b', [], [], 'false', false, 'mit', now()),
       ('hub/models/lab-c/only-one.json', 'lab-c/only-one', 'lab-c/only-one', 'lab-c', [], [], 'false', false, 'mit', now());
"""
ROW = {"benchmark": "Toy", "task": "Text Classification", "metric": "accuracy", "result_date": "2020-05-01"}


def test_names_resolve_by_paper_citation_or_unique_name_and_never_by_guess(tmp_path):
    write_curated(tmp_path / "snap", [
        # two repos are called tiny-net; only lab-a's card cites this row's paper
        {**ROW, "model_name": "Tiny-Net", "value": "80", "paper_url": "https://arxiv.org/abs/2001.00001v2"},
        # the same name under another paper: no evidence which repo it is
        {**ROW, "model_name": "Tiny-Net", "value": "70", "paper_url": "https://arxiv.org/abs/2002.00002"},
        # a name exactly one repo carries
        {**ROW, "model_name": "Only-One", "value": "60"},
        # a near name is not merged
        {**ROW, "model_name": "Only-One-Large", "value": "65"},
    ])
    result, warehouse = build(tmp_path / "snap", tmp_path / "state", SEED)
    assert result.success
    rows = dict(query(warehouse, "SELECT raw_value, model_id FROM results"))
    assert rows == {"80": "lab-a/tiny-net", "70": "paper:2002.00002/tiny-net", "60": "lab-c/only-one",
                    "65": "paper:unknown/only-one-large"}
    evidence = dict(query(warehouse, "SELECT paper_key, evidence FROM model_resolution WHERE model_name = 'Tiny-Net'"))
    assert evidence == {"2001.00001": "card cites the paper", "2002.00002": "synthetic"}
