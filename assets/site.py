"""The static site: model, leaderboard, benchmark and area pages rendered from the published warehouse.

Part of the code location only when SOTABOARD_SITE_DIR is set (pipelines/definitions.py)."""

from pathlib import Path

import dagster as dg

from assets.pages.site import build_site
from warehouse.database import WarehouseResource


class SiteResource(dg.ConfigurableResource):
    """Where the static site of the published warehouse is rendered (SOTABOARD_SITE_DIR)."""

    out_dir: str


@dg.asset(group_name="publish", deps=["published_warehouse"], kinds={"html"})
def static_site(warehouse: WarehouseResource, site: SiteResource) -> dg.MaterializeResult:
    """The static HTML site of the published warehouse in SOTABOARD_SITE_DIR (what `sotaboard site`
    renders), re-rendered after each publish; only pages whose rows changed are rendered again, and only
    files whose content changed are written."""
    report = build_site(warehouse.published_path, Path(site.out_dir))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.out_dir)),
            "pages": dg.MetadataValue.json(report.pages),
            "files_rendered": dg.MetadataValue.int(report.rendered),
            "files_written": dg.MetadataValue.int(len(report.written)),
            "files_unchanged": dg.MetadataValue.int(report.unchanged),
            "files_removed": dg.MetadataValue.int(len(report.removed)),
            "seconds": dg.MetadataValue.float(round(report.seconds, 2)),
        }
    )
