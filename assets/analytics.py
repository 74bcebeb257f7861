"""Analytics: leaderboards and ranks, state-of-the-art history, strengths, freshness, page views."""

from assets.sql_table import sql_table_asset

leaderboard = sql_table_asset(
    "leaderboard", group="analytics", deps=["results"],
    description="One row per (benchmark_id, metric, split, setting, model_id): the model's best result, "
    "its standard competition rank ('1, 2, 2, 4') among n_models, is_sota, thin (SOTA in a field of "
    "three or fewer), the rank among verified results only and the rank without extra training data.",
)

sota_history = sql_table_asset(
    "sota_history", group="analytics", deps=["results"],
    description="One row per record-setting result of a leaderboard: who held rank 1 from held_from "
    "to held_until (NULL while current).",
)

model_strengths = sql_table_asset(
    "model_strengths", group="analytics", deps=["leaderboard", "benchmarks"],
    description="One row per (model_id, area): benchmarks on which the model is ranked and its average rank.",
)

source_freshness = sql_table_asset(
    "source_freshness", group="analytics",
    deps=["leaderboard", "catalog", "benchmark_table_rows", "hub_models", "hub_cards", "hub_leaderboards",
          "arxiv_papers"],
    tables=["source_freshness", "entity_freshness", "leaderboard_freshness"],
    description="One row per source (key: source): last successful fetch, records, failures by reason, fetch "
    "failures and outage; entity_freshness per fetched model, card, leaderboard and paper (stale when upstream "
    "changed after our fetch or a later fetch failed); "
    "leaderboard_freshness per leaderboard (newest result, SOTA age).",
)

model_page = sql_table_asset(
    "model_page", group="analytics",
    deps=["models", "papers", "results", "leaderboard", "model_strengths", "source_freshness"],
    tables=["model_page_card", "model_page_benchmarks", "model_page_strengths", "model_page_papers",
            "model_page_related", "model_page_sources", "related_models", "result_sources"],
    description="Views that answer each section of a model page in one query, filtered by model_id "
    "(warehouse/README.md lists them).",
)

result_conflicts = sql_table_asset(
    "result_conflicts", group="analytics", deps=["results"],
    description="One row per pair of results (result_id, other_result_id) from different sources that "
    "disagree beyond the tolerance on the same model, benchmark, metric, split and setting, with which "
    "side takes precedence: the review list behind the `conflict` flag.",
)

hub_rank_comparison = sql_table_asset(
    "hub_rank_comparison", group="analytics", deps=["leaderboard", "benchmarks", "hub_leaderboards"],
    description="One row per (dataset_id, model_id, metric) of a Hub dataset leaderboard that we also rank: "
    "the Hub's rank and value beside ours among the same models; rank_agrees flags disagreements.",
)
