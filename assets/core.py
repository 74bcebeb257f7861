"""Core tables: the normalised entities (models, papers, benchmarks, metrics), results and the
quarantine, as `warehouse/tables.yaml` declares them (group `core`)."""

from assets.registry import group_assets

core_assets = group_assets("core")
