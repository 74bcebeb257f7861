-- Raw layer of the working database: what the ingest assets loaded, before normalisation.
-- Each ingest asset replaces its own rows, so reruns are idempotent. Not published.
CREATE SCHEMA IF NOT EXISTS raw;

-- Tracked catalog (catalog.yaml); empty means "track everything in the snapshot".
CREATE TABLE IF NOT EXISTS raw.catalog (
    kind VARCHAR NOT NULL,          -- org | model | paper | benchmark
    key VARCHAR NOT NULL,
    PRIMARY KEY (kind, key)
);

-- One row per file an ingest asset has read (key: read_into, source_file), as it was when read: a
-- listed file whose size, modification time or hash (the ones its ingest compares) and reading code
-- are unchanged is not read again (assets.sources.ingest_log.files_to_read). What the file gave is
-- in the table `read_into`, one row per file, written in the same transaction as this one.
CREATE TABLE IF NOT EXISTS raw.files_read (
    read_into VARCHAR NOT NULL,     -- raw.hub_model_files | raw.arxiv_feed_files | raw.table_files
    source_file VARCHAR NOT NULL,   -- path relative to the snapshot or cache root
    bytes BIGINT NOT NULL,
    mtime_ns BIGINT,                -- compared for model info files and feeds
    sha256 VARCHAR,                 -- compared for table files
    parser VARCHAR NOT NULL,        -- version of the code that read it
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (read_into, source_file)
);

-- One row per Hub model info file read (hub/models/<requested id>.json; raw.files_read): the fields
-- hub_models keeps, or why the file was refused. raw.hub_models is derived from these rows.
CREATE TABLE IF NOT EXISTS raw.hub_model_files (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot or cache root
    requested_id VARCHAR NOT NULL,
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

-- One row per Hub model (key: model_id, the canonical repo id as the Hub returns it), from the model
-- info files read (GET /api/models/{id}, snapshot file or live response) that were not refused: the
-- file fetched under that id wins over one fetched under a legacy or renamed id.
CREATE OR REPLACE VIEW raw.hub_models AS
SELECT model_id,
       requested_id,                -- the id we asked for (differs when the repo was renamed)
       author, sha, last_modified, created_at, private,
       gated,                       -- false | auto | manual
       disabled, downloads, likes, pipeline_tag, library_name, tags, license,
       coalesce(safetensors_params, card_params) AS params,
       CASE WHEN safetensors_params IS NOT NULL THEN 'safetensors'
            WHEN card_params IS NOT NULL THEN 'card' END AS params_source,
       base_models,
       arxiv_ids,                   -- from arxiv:NNNN tags, without version
       card_data, fetched_at, source_file
FROM raw.hub_model_files
WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY requested_id = model_id DESC, fetched_at DESC,
                                                           requested_id) = 1;

-- One row per other id a model info file was fetched under (key: alias): old or legacy ids that
-- resolve to a canonical Hub id (renames, no-org legacy ids), as the newest such file says.
CREATE OR REPLACE VIEW raw.hub_model_aliases AS
SELECT requested_id AS alias, any_value(model_id ORDER BY fetched_at DESC) AS model_id,
       any_value(CASE WHEN lower(requested_id) = lower(model_id) THEN 'same id, other case'
                      WHEN requested_id NOT LIKE '%/%' THEN 'legacy id without org'
                      ELSE 'renamed on the Hub' END ORDER BY fetched_at DESC) AS reason
FROM raw.hub_model_files
WHERE reason IS NULL AND requested_id <> model_id
GROUP BY requested_id;

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

-- One row per arXiv feed file read (arxiv/*.xml, an API response body; raw.files_read): when it
-- was fetched, which ids it asked for and what it refused. raw.arxiv_papers is derived from its entries.
CREATE TABLE IF NOT EXISTS raw.arxiv_feed_files (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot or cache root
    refused BOOLEAN NOT NULL,       -- the whole feed was refused (error feed, not Atom, too large)
    fetched_at TIMESTAMP NOT NULL,  -- the feed's own time, else the file's
    asked VARCHAR[] NOT NULL,       -- the ids it asked for (id_list of its query), without version
    failures STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[] NOT NULL -- its rows in raw.ingest_failures
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

-- One row per benchmark table file read into raw.table_results (raw.files_read): what its reading
-- refused. A changed file keeps the rows of its table rows that did not change until it is read again.
CREATE TABLE IF NOT EXISTS raw.table_files (
    source_file VARCHAR PRIMARY KEY, -- path relative to the snapshot root
    failures STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[] NOT NULL -- what it put in raw.ingest_failures
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

-- (working databases whose file tables kept their own size, time and parser: with raw.files_read
-- empty, every file is read again once)
ALTER TABLE raw.hub_model_files DROP COLUMN IF EXISTS bytes;
ALTER TABLE raw.hub_model_files DROP COLUMN IF EXISTS mtime_ns;
ALTER TABLE raw.hub_model_files DROP COLUMN IF EXISTS parser;
ALTER TABLE raw.arxiv_feed_files DROP COLUMN IF EXISTS bytes;
ALTER TABLE raw.arxiv_feed_files DROP COLUMN IF EXISTS mtime_ns;
ALTER TABLE raw.arxiv_feed_files DROP COLUMN IF EXISTS parser;
ALTER TABLE raw.arxiv_feed_files DROP COLUMN IF EXISTS read_at;
ALTER TABLE raw.table_files DROP COLUMN IF EXISTS bytes;
ALTER TABLE raw.table_files DROP COLUMN IF EXISTS sha256;
ALTER TABLE raw.table_files DROP COLUMN IF EXISTS parser;
ALTER TABLE raw.table_files DROP COLUMN IF EXISTS loaded_at;
