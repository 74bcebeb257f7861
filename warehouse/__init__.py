"""SQL and reference data that build and document the sotaboard warehouse."""

from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
REFERENCE_DIR = Path(__file__).parent / "reference"


def sql(name: str) -> str:
    """Text of `warehouse/sql/<name>.sql`."""
    return (SQL_DIR / f"{name}.sql").read_text()
