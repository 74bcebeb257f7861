"""The asset graph as a whole, against its snapshot (`tests/data/asset_graph.json`): keys, groups,
dependencies and checks, so a rename or a lost dependency cannot pass unnoticed; and the table
registry (`warehouse/tables.yaml`) against the SQL and the data dictionary."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import sqlglot
from sqlglot import exp

from pipelines.definitions import build_definitions
from pipelines.settings import Settings
from warehouse import ingest_tables, published_tables, sql, sql_assets

SNAPSHOT = Path(__file__).parent / "data" / "asset_graph.json"
PROJECT = Path(__file__).resolve().parent.parent


def asset_graph(tmp_path: Path) -> dict:
    settings = replace(Settings.from_env({"SOTABOARD_WAREHOUSE": str(tmp_path / "w.duckdb")}), site_dir=tmp_path / "site")
    graph = build_definitions(settings).resolve_asset_graph()
    checks: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        blocking = graph.get_check_spec(check_key).blocking
        checks.setdefault(check_key.asset_key.to_user_string(), []).append(
            f"{check_key.name}{' (blocking)' if blocking else ''}")
    return {
        key.to_user_string(): {
            "group": graph.get(key).group_name,
            "deps": sorted(parent.to_user_string() for parent in graph.get(key).parent_keys),
            "checks": sorted(checks.get(key.to_user_string(), [])),
        }
        for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string())
    }


def test_the_asset_graph_matches_its_snapshot(tmp_path):
    actual = asset_graph(tmp_path)
    if os.environ.get("SOTABOARD_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(actual, indent=1) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    changed = {key: {"expected": expected.get(key), "actual": actual.get(key)}
               for key in sorted(set(expected) | set(actual)) if expected.get(key) != actual.get(key)}
    assert not changed, ("the asset graph changed; if that is meant, rerun with SOTABOARD_UPDATE_SNAPSHOTS=1 and "
                         f"commit tests/data/asset_graph.json:\n{json.dumps(changed, indent=1)}")


def test_every_raw_table_is_written_by_a_declared_ingest_asset():
    created = {kind: {f"{t.db}.{t.name}" for statement in sqlglot.parse(sql("create_raw_schema"), read="duckdb")
                      if isinstance(statement, exp.Create) and statement.kind == kind
                      and (t := statement.this.find(exp.Table)) is not None and t.db and t.name}
               for kind in ("TABLE", "VIEW")}
    declared = {table for tables in ingest_tables().values() for table in tables}
    # every table, and the views of what an ingest asset writes that SQL reads (raw.hub_models)
    assert created["TABLE"] <= declared <= created["TABLE"] | created["VIEW"]
    assert {"raw.hub_models", "raw.hub_model_aliases"} <= declared & created["VIEW"]


def test_every_published_relation_is_documented_with_its_key():
    text = (PROJECT / "warehouse" / "README.md").read_text()
    headings = re.findall(r"^### (.+)$", text, re.MULTILINE)
    documented = {name for heading in headings for name in re.findall(r"`?([a-z_]+)`?", heading.split(" — ")[0])}
    views = "\n".join(text.split("### Views for the model page")[1:])
    for table in published_tables():
        assert table.name in documented or (table.view and f"`{table.name}`" in views), table.name
        if table.key:
            heading = next(h for h in headings if table.name in h.split(" — ")[0])
            assert all(f"`{column}`" in heading for column in table.key), heading


def test_each_sql_asset_names_its_file():
    for asset in sql_assets():
        assert (PROJECT / "warehouse" / "sql" / f"{asset.name}.sql").is_file(), asset.name
