"""Every setting of sotaboard, read from the environment in one place.

| variable | flag | default |
| --- | --- | --- |
| SOTABOARD_SOURCE | --source | snapshot (`live` asks the Hugging Face Hub and arXiv) |
| SOTABOARD_SNAPSHOT | --snapshot | the snapshot bundled in `pipelines/snapshot` |
| SOTABOARD_WAREHOUSE | --warehouse | warehouse/sotaboard.duckdb (relative to the working directory); `ducklake:<catalog>` publishes into a DuckLake instead |
| SOTABOARD_LAKE_DATA | --lake-data | `lake_data/` beside the state directory: the lake's Parquet files (lake target only) |
| SOTABOARD_STATE_DIR | | `.state/` beside the published warehouse (a lake target: in the working directory): working database and fetch cache |
| SOTABOARD_PUBLISH_ANYWAY | --publish-anyway | off; `1`/`true`/`yes` publishes although a source failed wholesale (its last known data, marked stale) |
| SOTABOARD_NIGHTLY_CRON | | `0 2 * * *` |
| SOTABOARD_TIMEZONE | | UTC |
| SOTABOARD_ARXIV_URL | | the arXiv API (`https://export.arxiv.org/api/query?{}`) |
| SOTABOARD_ARXIV_DELAY | | 3 seconds between arXiv requests in live mode |
| SOTABOARD_PWC_ARCHIVE | | none; a Hub dataset id (`pwc-archive/evaluation-tables`) whose Parquet files live mode adds to the benchmark tables |
| SOTABOARD_SITE_DIR | | none; when set, the `site` asset renders the static site there after each publish |
| HF_ENDPOINT | | https://huggingface.co (huggingface_hub's own variable) |
| HF_TOKEN | | none; used when set, never printed |
| SOTABOARD_MAX_TABLE_BYTES | | 512000000: a larger benchmark table file is refused unread |
| SOTABOARD_MAX_CARD_BYTES | | 10000000: a larger model card is refused unread |
| SOTABOARD_MAX_MODEL_INFO_BYTES | | 5000000: a larger model info file is refused unread |
| SOTABOARD_MAX_FEED_BYTES | | 50000000: a larger arXiv feed file is refused unread |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from assets.sources.files import InputLimits
from warehouse import LAKE_PREFIX

BUNDLED_SNAPSHOT = Path(__file__).parent / "snapshot"
SOURCES = ("snapshot", "live")


def lake_catalog(target: str) -> str | None:
    """The catalog of a `ducklake:<catalog>` warehouse target, as DuckLake's ATTACH takes it after
    `ducklake:` (`postgres:dbname=… host=…`, or a local catalog file, made absolute); None for a file."""
    if not target.startswith(LAKE_PREFIX):
        return None
    catalog = target.removeprefix(LAKE_PREFIX).strip()
    if not catalog:
        raise ValueError("SOTABOARD_WAREHOUSE ducklake: needs a catalog (ducklake:postgres:dbname=… host=…, "
                         "or ducklake:<catalog file>)")
    if catalog.startswith("postgres:"):
        return catalog
    return str(Path(catalog).expanduser().absolute())


@dataclass(frozen=True)
class Settings:
    source: str
    snapshot_dir: Path
    warehouse_path: Path | None  # the published file; None when the target is a lake
    state_dir: Path
    nightly_cron: str
    timezone: str
    hf_endpoint: str
    arxiv_url: str
    arxiv_delay_seconds: float
    pwc_archive: str
    site_dir: Path | None = None
    limits: InputLimits = field(default_factory=InputLimits)
    publish_anyway: bool = False
    lake_catalog: str | None = None  # the DuckLake catalog published into, instead of a file
    lake_data: Path | None = None  # the lake's data files

    @property
    def warehouse_target(self) -> str:
        """Where publish writes: the file's path, or `ducklake:<catalog>`."""
        return f"{LAKE_PREFIX}{self.lake_catalog}" if self.lake_catalog else str(self.warehouse_path)

    @classmethod
    def from_env(cls, env: os._Environ | dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        source = env.get("SOTABOARD_SOURCE", "snapshot").strip().lower()
        if source not in SOURCES:
            raise ValueError(f"SOTABOARD_SOURCE must be one of {', '.join(SOURCES)}, not {source!r}")
        target = env.get("SOTABOARD_WAREHOUSE", "warehouse/sotaboard.duckdb")
        catalog = lake_catalog(target)
        warehouse = None if catalog else Path(target).expanduser().absolute()
        state_env = env.get("SOTABOARD_STATE_DIR")
        if state_env:
            state = Path(state_env).expanduser().absolute()
        else:
            state = (warehouse.parent if warehouse else Path.cwd()) / ".state"
        lake_data = env.get("SOTABOARD_LAKE_DATA", "").strip()
        site = env.get("SOTABOARD_SITE_DIR", "").strip()
        if catalog and site:
            raise ValueError("SOTABOARD_SITE_DIR renders the site from a published file: it needs a file "
                             "warehouse target, not ducklake:")
        return cls(
            source=source,
            snapshot_dir=Path(env.get("SOTABOARD_SNAPSHOT", BUNDLED_SNAPSHOT)).expanduser().absolute(),
            warehouse_path=warehouse,
            state_dir=state,
            nightly_cron=env.get("SOTABOARD_NIGHTLY_CRON", "0 2 * * *"),
            timezone=env.get("SOTABOARD_TIMEZONE", "UTC"),
            hf_endpoint=env.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/"),
            arxiv_url=env.get("SOTABOARD_ARXIV_URL", "https://export.arxiv.org/api/query?{}"),
            arxiv_delay_seconds=float(env.get("SOTABOARD_ARXIV_DELAY", "3")),
            pwc_archive=env.get("SOTABOARD_PWC_ARCHIVE", "").strip(),
            site_dir=Path(site).expanduser().absolute() if site else None,
            limits=InputLimits.from_env(env),
            publish_anyway=env.get("SOTABOARD_PUBLISH_ANYWAY", "").strip().lower() in ("1", "true", "yes"),
            lake_catalog=catalog,
            lake_data=(Path(lake_data).expanduser().absolute() if lake_data else state.parent / "lake_data")
            if catalog else None,
        )
