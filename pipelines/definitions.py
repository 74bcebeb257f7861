"""The sotaboard code location: assets, checks, the nightly job and its schedule, resources."""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

import dagster as dg

from assets import analytics, arxiv, catalog, core, hub, publish, site, tables
from assets.checks import asset_checks
from assets.site import SiteResource
from assets.sources.arxiv.client import ArxivResource
from assets.sources.hub.client import HubResource
from assets.sources.snapshot import SnapshotResource
from pipelines.settings import Settings
from warehouse import ingest_tables
from warehouse.database import WarehouseResource

# A nightly run that did not happen shows as a failed freshness check on the ingest assets.
FRESHNESS_WINDOW = timedelta(hours=26)


def build_definitions(settings: Settings) -> dg.Definitions:
    modules = [catalog, tables, hub, arxiv, core, analytics, publish]
    optional_resources = {}
    if settings.site_dir:  # the static site is rendered after each publish only when asked for
        modules.append(site)
        optional_resources["site"] = SiteResource(out_dir=str(settings.site_dir))
    all_assets = dg.load_assets_from_modules(modules)
    with warnings.catch_warnings():
        # Freshness checks are superseded by FreshnessPolicy, which open-source Dagster 1.13 evaluates only
        # with the preview setting `freshness: enabled` in dagster.yaml; checks work on any instance.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        freshness_checks = dg.build_last_update_freshness_checks(assets=list(ingest_tables()),
                                                                 lower_bound_delta=FRESHNESS_WINDOW)
        # running by default, like the schedule: the freshness checks are only evaluated by this sensor
        freshness_sensor = dg.build_sensor_for_freshness_checks(freshness_checks=freshness_checks,
                                                                default_status=dg.DefaultSensorStatus.RUNNING)
    nightly = dg.define_asset_job(
        "nightly",
        selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
        description="Ingest every source, rebuild core and analytics tables, run the checks, publish.",
        executor_def=dg.in_process_executor,
    )
    schedule = dg.ScheduleDefinition(
        name="nightly_schedule",
        job=nightly,
        cron_schedule=settings.nightly_cron,
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    token = dg.EnvVar("HF_TOKEN") if os.environ.get("HF_TOKEN") else None
    return dg.Definitions(
        assets=all_assets,
        asset_checks=[*asset_checks, *freshness_checks],
        jobs=[nightly],
        schedules=[schedule],
        sensors=[freshness_sensor],
        executor=dg.in_process_executor,
        resources={
            "warehouse": WarehouseResource(path=settings.warehouse_target, state_dir=str(settings.state_dir),
                                           lake_data=str(settings.lake_data or ""),
                                           publish_anyway=settings.publish_anyway),
            "snapshot": SnapshotResource(source=settings.source, snapshot_dir=str(settings.snapshot_dir),
                                         cache_dir=str(settings.state_dir / "cache"), pwc_archive=settings.pwc_archive,
                                         max_table_file_bytes=settings.limits.table_file_bytes,
                                         max_card_bytes=settings.limits.card_bytes,
                                         max_model_info_bytes=settings.limits.model_info_bytes,
                                         max_feed_bytes=settings.limits.feed_bytes,
                                         max_leaderboard_bytes=settings.limits.leaderboard_bytes,
                                         max_json_depth=settings.limits.json_depth,
                                         card_render_chars=settings.limits.card_render_chars),
            "hub": HubResource(endpoint=settings.hf_endpoint, token=token),
            "arxiv": ArxivResource(query_url=settings.arxiv_url, delay_seconds=settings.arxiv_delay_seconds),
            **optional_resources,
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location of `workspace.yaml` (`dagster dev`, the schedule): built when Dagster loads
    it, from the environment's settings. `sotaboard run` builds its own from the settings it was given."""
    return build_definitions(Settings.from_env())
