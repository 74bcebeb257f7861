-- The static site (`sotaboard site`): the file of every page, as temporary tables of the rendering
-- connection (the published warehouse is opened read-only). A path is the slug of the page's key; keys
-- whose slugs collide each get the first 8 hex digits of the key's md5 appended. `batch` numbers the
-- pages of a kind in path order, getvariable('site_batch_rows') to a batch: the page queries read one
-- batch at a time.

CREATE OR REPLACE TEMP MACRO site_batch(path) AS
    (row_number() OVER (ORDER BY path) - 1) // getvariable('site_batch_rows');

CREATE OR REPLACE TEMP MACRO site_slug(text) AS
    coalesce(nullif(trim(regexp_replace(lower(text), '[^a-z0-9]+', '-', 'g'), '-'), ''), 'page');

CREATE OR REPLACE TEMP MACRO site_path(folder, slug, key, n_same_slug) AS
    folder || '/' || slug || CASE WHEN n_same_slug > 1 THEN '-' || left(md5(key), 8) ELSE '' END || '.html';

-- one page per model with results
CREATE OR REPLACE TEMP TABLE site_model_paths AS
WITH slugs AS (
    SELECT model_id, site_slug(model_id) AS slug
    FROM models WHERE model_id IN (SELECT model_id FROM results)
), paths AS (
    SELECT model_id, site_path('models', slug, model_id, count(*) OVER (PARTITION BY slug)) AS path FROM slugs
)
SELECT *, site_batch(path) AS batch FROM paths;

-- one page per leaderboard (benchmark, metric, split, setting)
CREATE OR REPLACE TEMP TABLE site_leaderboard_paths AS
WITH boards AS (
    SELECT DISTINCT benchmark_id, metric, split, setting FROM leaderboard
), slugs AS (
    SELECT *, concat_ws(' ', benchmark_id, metric, split, setting) AS key, site_slug(key) AS slug FROM boards
), paths AS (
    SELECT benchmark_id, metric, split, setting,
           site_path('leaderboards', slug, key, count(*) OVER (PARTITION BY slug)) AS path
    FROM slugs
)
SELECT *, site_batch(path) AS batch FROM paths;

-- one page per benchmark, one per area
CREATE OR REPLACE TEMP TABLE site_benchmark_paths AS
WITH slugs AS (SELECT benchmark_id, site_slug(benchmark_id) AS slug FROM benchmarks), paths AS (
    SELECT benchmark_id, site_path('benchmarks', slug, benchmark_id, count(*) OVER (PARTITION BY slug)) AS path
    FROM slugs
)
SELECT *, site_batch(path) AS batch FROM paths;

CREATE OR REPLACE TEMP TABLE site_area_paths AS
WITH slugs AS (SELECT DISTINCT area, site_slug(area) AS slug FROM benchmarks), paths AS (SELECT area, site_path('areas', slug, area, count(*) OVER (PARTITION BY slug)) AS path FROM slugs)
SELECT *, site_batch(path) AS batch FROM paths;
