"""The snapshot resource: where ingest reads source files, within which limits."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.sources.files import InputLimits


class SnapshotResource(dg.ConfigurableResource):
    """Where ingest reads source files: the snapshot directory, or in live mode the fetch cache
    that the live clients fill in the same layout (so both modes parse the same files)."""

    source: str
    snapshot_dir: str
    cache_dir: str
    pwc_archive: str = ""  # Hub dataset id of the archived Papers with Code tables (live mode), "" for none
    # Bounds checked before a file is read (`assets.sources.files`): a file over its cap is
    # quarantined unread. What each means: `assets.sources.files.InputLimits`.
    max_table_file_bytes: int = InputLimits.table_file_bytes
    max_card_bytes: int = InputLimits.card_bytes
    max_model_info_bytes: int = InputLimits.model_info_bytes
    max_feed_bytes: int = InputLimits.feed_bytes
    max_leaderboard_bytes: int = InputLimits.leaderboard_bytes
    max_json_depth: int = InputLimits.json_depth
    card_render_chars: int = InputLimits.card_render_chars

    @property
    def live(self) -> bool:
        return self.source == "live"

    @property
    def root(self) -> Path:
        return Path(self.cache_dir if self.live else self.snapshot_dir)

    def lacking(self, *parts: str) -> list[str]:
        """The parts of the snapshot layout (`hub/models`, `tables`, ...) absent from a snapshot; in
        live mode nothing is lacking (the clients fill the cache)."""
        return [] if self.live else [f"{part}/" for part in parts if not (self.root / part).is_dir()]

    @property
    def catalog_path(self) -> Path:
        """The tracked catalog always comes from the configured snapshot, in both modes."""
        return Path(self.snapshot_dir) / "catalog.yaml"
