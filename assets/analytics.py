"""Analytics: leaderboards and ranks, state-of-the-art history, strengths, freshness, conflicts, the
Hub comparison and the model page views, as `warehouse/tables.yaml` declares them (group `analytics`)."""

from assets.registry import group_assets

analytics_assets = group_assets("analytics")
