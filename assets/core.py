"""Core tables: the normalised entities (models, papers, benchmarks, metrics) and results."""

from assets.sql_table import sql_table_asset

HUB = ["hub_models", "hub_cards"]

metrics = sql_table_asset(
    "metrics", group="core", deps=["benchmark_table_rows", *HUB],
    tables=["metrics", "metric_aliases", "metric_names", "unknown_metrics"],
    description="The metric registry: one row per normalised metric (key: metric) with direction "
    "(higher, lower, or NULL = unknown, never ranked) and unit; every raw metric name met maps to one "
    "(metric_names), and unknown ones are counted in unknown_metrics.",
)

benchmarks = sql_table_asset(
    "benchmarks", group="core", deps=["benchmark_table_rows", *HUB, "arxiv_papers"],
    tables=["benchmarks", "benchmark_aliases", "benchmark_refs"],
    description="One row per benchmark (key: benchmark_id), a dataset evaluated for one task, with its "
    "area and task; benchmark_aliases maps every name a source uses (key: alias, benchmark_id).",
)

models = sql_table_asset(
    "models", group="core", deps=[*HUB, "benchmark_table_rows", "metrics"],
    tables=["models", "model_aliases", "model_resolution", "model_facts", "model_ambiguities"],
    description="One row per model (key: model_id, the Hugging Face repo id, or a synthetic "
    "'paper:<paper>/<name>' key for models without a repo), with card facts; model_aliases lists "
    "other names (legacy ids, table names) and model_resolution the evidence for each.",
)

papers = sql_table_asset(
    "papers", group="core", deps=["arxiv_papers"],
    description="One row per arXiv paper (key: arxiv_id without version), latest version, with "
    "withdrawn flag and area; ids referenced but unknown to arXiv have status 'missing'.",
)

results = sql_table_asset(
    "results", group="core", deps=["metrics", "benchmarks", "models", "papers"],
    tables=["results", "result_rejects"],
    description="One row per reported value (key: result_id) of one metric for one model on one "
    "benchmark from one source, normalised to the metric's unit, with verification flags "
    "(hub_verified, paper_confirmed, corroborated, conflict, verified), tier and reasons.",
)

quarantine = sql_table_asset(
    "quarantine", group="core",
    deps=["results", "catalog", "benchmark_table_rows", *HUB, "hub_leaderboards", "arxiv_papers"],
    tables=["quarantine", "table_reconciliation"],
    description="Every record a run could not load (grain: source, record_key, reason), from ingest "
    "and from value parsing; table_reconciliation shows, per table file, cells = results + "
    "quarantined + model facts.",
)
