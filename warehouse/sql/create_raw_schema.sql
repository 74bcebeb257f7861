-- Raw layer of the working database: what the ingest assets loaded, before normalisation.
-- Each ingest asset replaces its own rows, so reruns are idempotent. Not published.
CREATE SCHEMA IF NOT EXISTS raw;

-- Tracked catalog (catalog.yaml); empty means "track everything in the snapshot".
CREATE TABLE IF NOT EXISTS raw.catalog (
    kind VARCHAR NOT NULL,          -- org | model | paper | benchmark
    key VARCHAR NOT NULL,
    PRIMARY KEY (kind, key)
);

-- One row per Hub model, from GET /api/models/{id} (snapshot file or live response).
CREATE TABLE IF NOT EXISTS raw.hub_models (
    model_id VARCHAR PRIMARY KEY,   -- canonical repo id as the Hub returns it
    requested_id VARCHAR,           -- the id we asked for (differs when the repo was renamed)
    author VARCHAR,
    sha VARCHAR,
    last_modified TIMESTAMP,
    created_at TIMESTAMP,
    private BOOLEAN,
    gated VARCHAR,                  -- false | auto | manual
    disabled BOOLEAN,
    downloads BIGINT,
    likes BIGINT,
    pipeline_tag VARCHAR,
    library_name VARCHAR,
    tags VARCHAR[],
    license VARCHAR,
    params BIGINT,
    params_source VARCHAR,          -- safetensors | card
    base_models VARCHAR[],
    arxiv_ids VARCHAR[],            -- from arxiv:NNNN tags, without version
    card_data JSON,
    fetched_at TIMESTAMP,
    source_file VARCHAR
);

-- One row per Hub model info file read (hub/models/<requested id>.json): the fields hub_models
-- keeps, or why the file was refused. A file whose size and modification time (and the code that
-- reads it) are unchanged is not read again; raw.hub_models is derived from these rows.
CREATE TABLE IF NOT EXISTS raw.hub_model_files (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot or cache root
    requested_id VARCHAR NOT NULL,
    bytes BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    parser VARCHAR NOT NULL,        -- version of the code that read it (hub_models)
    reason VARCHAR,                 -- why the file was refused (NULL: read)
    payload VARCHAR,                -- a refused file: JSON text (file, id, excerpt of its start)
    model_id VARCHAR,
    author VARCHAR,
    sha VARCHAR,
    last_modified TIMESTAMP,
    created_at TIMESTAMP,
    private BOOLEAN,
    gated VARCHAR,
    disabled BOOLEAN,
    downloads BIGINT,
    likes BIGINT,
    pipeline_tag VARCHAR,
    library_name VARCHAR,
    tags VARCHAR[],
    license VARCHAR,
    safetensors_params BIGINT,
    card_params BIGINT,
    base_models VARCHAR[],
    arxiv_ids VARCHAR[],
    card_data JSON,
    fetched_at TIMESTAMP            -- the file's modification time
);
-- fields of a read file left empty because their value was not of their type ("downloads: not a count: NaN")
ALTER TABLE raw.hub_model_files ADD COLUMN IF NOT EXISTS field_problems VARCHAR[];

-- One row per model card README (kept for the sha it was fetched at).
CREATE TABLE IF NOT EXISTS raw.hub_cards (
    model_id VARCHAR PRIMARY KEY,
    sha VARCHAR,
    readme VARCHAR,
    card_html VARCHAR,              -- rendered from markdown and sanitised
    metadata JSON,                  -- YAML front matter, NULL if it did not parse
    fetched_at TIMESTAMP
);

-- One row per tracked Hub model whose card and eval results hub_cards parsed: what it parsed them
-- from and what it refused, so that a rerun parses again only models whose sha changed.
CREATE TABLE IF NOT EXISTS raw.hub_card_parses (
    model_id VARCHAR PRIMARY KEY,
    sha VARCHAR,                    -- the sha it was parsed at (NULL: parsed again on every run)
    requested_id VARCHAR,
    source_file VARCHAR,            -- its model info file
    parser VARCHAR NOT NULL,        -- version of the code that parsed it (hub_cards)
    without_card BOOLEAN NOT NULL,  -- no README file: eval results from the model info only
    cross_check VARCHAR,            -- huggingface_hub's verdict on its model-index (NULL: none)
    eval_results_seen INTEGER NOT NULL, -- metric values met: its rows in raw.hub_eval_results + refused ones
    failures STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[] NOT NULL, -- its rows in raw.ingest_failures
    parsed_at TIMESTAMP NOT NULL
);

-- One row per evaluation result found on the Hub (model-index in card metadata, or evalResults).
CREATE TABLE IF NOT EXISTS raw.hub_eval_results (
    record_key VARCHAR PRIMARY KEY, -- model_id/format/position: stable across reruns
    model_id VARCHAR NOT NULL,
    format VARCHAR NOT NULL,        -- model-index | eval-results
    task_type VARCHAR,
    task_name VARCHAR,
    dataset_type VARCHAR,           -- Hub dataset id or type (squad_v2, facebook/xnli)
    dataset_name VARCHAR,
    dataset_config VARCHAR,
    dataset_split VARCHAR,
    metric_type VARCHAR,
    metric_name VARCHAR,
    value_raw VARCHAR,              -- as written
    verified BOOLEAN,
    verify_token VARCHAR,
    source_name VARCHAR,
    source_url VARCHAR,
    result_date DATE
);

-- One row per entry of a Hub dataset leaderboard (GET /api/datasets/{id}/leaderboard).
CREATE TABLE IF NOT EXISTS raw.hub_leaderboard_entries (
    dataset_id VARCHAR NOT NULL,
    rank INTEGER,
    model_id VARCHAR NOT NULL,
    value DOUBLE,
    verified BOOLEAN,
    source_name VARCHAR,
    source_url VARCHAR,
    filename VARCHAR,
    fetched_at TIMESTAMP,
    PRIMARY KEY (dataset_id, model_id, filename)
);

-- Old or legacy ids that resolve to a canonical Hub id (renames, no-org legacy ids).
CREATE TABLE IF NOT EXISTS raw.hub_model_aliases (
    alias VARCHAR PRIMARY KEY,
    model_id VARCHAR NOT NULL,
    reason VARCHAR
);

-- One row per arXiv paper, latest version.
CREATE TABLE IF NOT EXISTS raw.arxiv_papers (
    arxiv_id VARCHAR PRIMARY KEY,   -- without version: 1911.02116, hep-th/9901001
    version INTEGER,
    title VARCHAR,
    authors VARCHAR[],
    summary VARCHAR,
    published TIMESTAMP,
    updated TIMESTAMP,
    primary_category VARCHAR,
    categories VARCHAR[],
    doi VARCHAR,
    journal_ref VARCHAR,
    comment VARCHAR,
    links VARCHAR[],
    withdrawn BOOLEAN,
    fetched_at TIMESTAMP
);

-- One row per arXiv feed file read (arxiv/*.xml, an API response body): when it was fetched, which
-- ids it asked for and what it refused. A feed whose size and modification time (and the code that
-- reads it) are unchanged is not parsed again; raw.arxiv_papers is derived from its entries.
CREATE TABLE IF NOT EXISTS raw.arxiv_feed_files (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot or cache root
    bytes BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    parser VARCHAR NOT NULL,        -- version of the code that parsed it (arxiv_papers)
    refused BOOLEAN NOT NULL,       -- the whole feed was refused (error feed, not Atom, too large)
    fetched_at TIMESTAMP NOT NULL,  -- the feed's own time, else the file's
    asked VARCHAR[] NOT NULL,       -- the ids it asked for (id_list of its query), without version
    failures STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[] NOT NULL, -- its rows in raw.ingest_failures
    read_at TIMESTAMP NOT NULL
);

-- One row per paper entry of a feed in raw.arxiv_feed_files (key: source_file, position, the
-- entry's place in its feed), with the columns of raw.arxiv_papers: a paper in several feeds has several.
CREATE TABLE IF NOT EXISTS raw.arxiv_feed_entries AS
SELECT NULL::VARCHAR AS source_file, NULL::INTEGER AS position, * FROM raw.arxiv_papers WITH NO DATA;

-- arXiv ids referenced by a source that the API does not know.
CREATE TABLE IF NOT EXISTS raw.arxiv_missing (
    arxiv_id VARCHAR PRIMARY KEY,
    reason VARCHAR,
    seen_at TIMESTAMP
);

-- One row per (table row, metric) of a benchmark table file (PwC JSON or curated CSV).
CREATE TABLE IF NOT EXISTS raw.table_results (
    record_key VARCHAR PRIMARY KEY, -- file/task path/dataset/row/metric: stable across reruns
    source_file VARCHAR NOT NULL,   -- path relative to the snapshot root
    source_format VARCHAR NOT NULL, -- pwc-json | curated-csv
    task_path VARCHAR[],
    task VARCHAR,
    area VARCHAR,                   -- from the table (categories, or area column of a curated row)
    dataset VARCHAR,
    subdataset VARCHAR,
    row_index INTEGER,
    model_name VARCHAR,
    model_id VARCHAR,               -- given by curated rows only
    metric_raw VARCHAR,
    value_raw VARCHAR,
    split VARCHAR,
    setting VARCHAR,
    paper_title VARCHAR,
    paper_url VARCHAR,
    paper_date DATE,
    result_date DATE,
    source_url VARCHAR,
    uses_additional_data BOOLEAN,
    row_hash UHUGEINT               -- MD5 of the table row's place and JSON (NULL for curated rows): a
                                    -- changed file keeps the cells of the rows it still holds as they were
);
-- (working databases made before row_hash existed)
ALTER TABLE raw.table_results ADD COLUMN IF NOT EXISTS row_hash UHUGEINT;

-- One row per benchmark table file in raw.table_results, as it was when read: a rerun reads again
-- only files whose size or hash changed (or that the code reading them changed since).
CREATE TABLE IF NOT EXISTS raw.table_files (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot root
    bytes BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    parser VARCHAR NOT NULL,        -- version of the code that read it (benchmark_table_rows)
    failures STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[] NOT NULL, -- what it put in raw.ingest_failures
    loaded_at TIMESTAMP NOT NULL
);

-- One row per table file of the snapshot left unread (replaced each run): a link that leaves the
-- root, a FIFO, device or other non-regular file, a file over its size cap (status refused), or an
-- empty file (status empty). Its reason is in raw.ingest_failures too.
CREATE TABLE IF NOT EXISTS raw.table_files_refused (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot root, as listed
    bytes BIGINT,                   -- NULL when it was not looked at (not a regular file, outside the root)
    status VARCHAR NOT NULL,        -- refused | empty
    reason VARCHAR NOT NULL,
    seen_at TIMESTAMP NOT NULL
);

-- Anything an ingest asset could not load, with its reason. Feeds the published `quarantine`.
CREATE TABLE IF NOT EXISTS raw.ingest_failures (
    source VARCHAR NOT NULL,        -- hub | arxiv | tables | catalog
    record_key VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    payload VARCHAR,                -- JSON text identifying the record (file, id, names, a bounded excerpt)
    seen_at TIMESTAMP NOT NULL
);

-- One row per ingest asset execution: the basis of source_freshness.
CREATE TABLE IF NOT EXISTS raw.source_runs (
    source VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    mode VARCHAR NOT NULL,          -- snapshot | live
    records BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    requests BIGINT NOT NULL,       -- HTTP requests made (0 in snapshot mode)
    retries BIGINT NOT NULL
);
-- (working databases made before these columns existed)
ALTER TABLE raw.source_runs ADD COLUMN IF NOT EXISTS fetches BIGINT DEFAULT 0;        -- live fetches attempted
ALTER TABLE raw.source_runs ADD COLUMN IF NOT EXISTS fetch_failures BIGINT DEFAULT 0; -- of those, failed
ALTER TABLE raw.source_runs ADD COLUMN IF NOT EXISTS outage VARCHAR; -- why the source failed wholesale, else NULL

-- One row per fetched entity (model info, card, leaderboard, paper) whose last failed fetch is
-- remembered: the entity keeps its last good data and entity_freshness marks it stale until a
-- fetch succeeds again. Rows of entities no longer tracked are dropped.
CREATE TABLE IF NOT EXISTS raw.entity_fetch_failures (
    entity VARCHAR NOT NULL,        -- model | card | leaderboard | paper
    entity_id VARCHAR NOT NULL,     -- the id asked for (requested model id, dataset id, arXiv id)
    failed_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL,
    PRIMARY KEY (entity, entity_id)
);

-- The entry of each paper that counts among the feeds read: the newest version, then the newest
-- `updated`, then the newest fetch and feed file.
CREATE OR REPLACE VIEW raw.arxiv_latest_entries AS
SELECT * FROM raw.arxiv_feed_entries
QUALIFY row_number() OVER (PARTITION BY arxiv_id ORDER BY coalesce(version, 0) DESC,
                           coalesce(updated, TIMESTAMP '0001-01-01') DESC, fetched_at DESC, source_file DESC,
                           position) = 1;
