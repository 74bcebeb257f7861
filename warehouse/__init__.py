"""SQL, reference data and the table registry that build and document the sotaboard warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from sqlglot import exp

SQL_DIR = Path(__file__).parent / "sql"
REFERENCE_DIR = Path(__file__).parent / "reference"
REGISTRY = Path(__file__).parent / "tables.yaml"
# a warehouse target that is a DuckLake: `ducklake:<catalog>`
LAKE_PREFIX = "ducklake:"


def sql(name: str) -> str:
    """Text of `warehouse/sql/<name>.sql`."""
    return (SQL_DIR / f"{name}.sql").read_text()


@cache
def reads(name: str) -> frozenset[str]:
    """The tables `warehouse/sql/<name>.sql` reads and does not build itself (`raw.x` qualified, CTEs
    and table functions left out), from DuckDB-dialect parse trees."""
    import sqlglot  # only when the asset graph is built: the CLI's readers do not pay for it
    from sqlglot import exp

    created: set[str] = set()
    read: set[str] = set()
    for statement in sqlglot.parse(sql(name), read="duckdb"):
        if statement is None:
            continue
        ctes = {cte.alias for cte in statement.find_all(exp.CTE)}
        if isinstance(statement, exp.Create) and isinstance(statement.this, (exp.Table, exp.Schema)):
            target = statement.this.find(exp.Table)
            created.add(_qualified(target))
        for table in statement.find_all(exp.Table):
            if table.name and table.name not in ctes:
                read.add(_qualified(table))
    return frozenset(read - created)


def _qualified(table: exp.Table) -> str:
    return f"{table.db}.{table.name}" if table.db else table.name


@dataclass(frozen=True)
class Table:
    """A table (or view) the warehouse builds, as `tables.yaml` declares it."""

    name: str
    key: tuple[str, ...] = ()
    published: bool = False
    view: bool = False


@dataclass(frozen=True)
class SqlAsset:
    """An asset that runs `warehouse/sql/<name>.sql` and builds `tables`."""

    name: str
    group: str
    description: str
    tables: tuple[Table, ...]


@cache
def _registry() -> dict:
    return yaml.safe_load(REGISTRY.read_text())


@cache
def sql_assets() -> tuple[SqlAsset, ...]:
    """The SQL-built assets of `tables.yaml`, in its order."""
    return tuple(
        SqlAsset(name, entry["group"], entry["description"], tuple(
            Table(table, tuple((spec or {}).get("key", ())), bool((spec or {}).get("published")),
                  bool((spec or {}).get("view"))) for table, spec in entry["tables"].items()))
        for name, entry in _registry()["sql"].items())


@cache
def ingest_tables() -> dict[str, tuple[str, ...]]:
    """The raw tables each ingest asset writes (every ingest asset also writes `every_ingest`)."""
    registry = _registry()
    return {asset: (*tables, *registry["every_ingest"]) for asset, tables in registry["ingest"].items()}


def tables() -> list[Table]:
    """Every table the SQL assets build, in registry order."""
    return [table for asset in sql_assets() for table in asset.tables]


def published_tables() -> list[Table]:
    return [table for table in tables() if table.published]
