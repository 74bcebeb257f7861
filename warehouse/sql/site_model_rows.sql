-- The static site: the rows of every section of every model page (the model page views,
-- warehouse/README.md), computed once and kept as temporary tables by page batch, so that
-- site_model_pages.sql reads one batch of pages at a time. Needs site_paths.sql first.
CREATE OR REPLACE TEMP TABLE site_model_card_rows AS
SELECT mp.batch, c.model_id, c AS card
FROM model_page_card AS c
JOIN site_model_paths AS mp USING (model_id)
ORDER BY mp.batch;

CREATE OR REPLACE TEMP TABLE site_model_benchmark_rows AS
SELECT mp.batch, b.model_id, b.position,
       struct_insert(b, leaderboard_path := lp.path, benchmark_path := bp.path) AS row
FROM model_page_benchmarks AS b
JOIN site_model_paths AS mp USING (model_id)
LEFT JOIN site_leaderboard_paths AS lp
  ON lp.benchmark_id = b.benchmark_id AND lp.metric = b.metric AND lp.split = coalesce(b.split, '')
 AND lp.setting = b.setting
LEFT JOIN site_benchmark_paths AS bp ON bp.benchmark_id = b.benchmark_id
ORDER BY mp.batch;

CREATE OR REPLACE TEMP TABLE site_model_strength_rows AS
SELECT mp.batch, s.model_id, s.avg_rank, s.area, struct_insert(s, area_path := ap.path) AS row
FROM model_page_strengths AS s
JOIN site_model_paths AS mp USING (model_id)
LEFT JOIN site_area_paths AS ap USING (area)
ORDER BY mp.batch;

CREATE OR REPLACE TEMP TABLE site_model_paper_rows AS
SELECT mp.batch, pp.model_id, pp.published, pp.arxiv_id, struct_insert(pp, abs_url := p.abs_url) AS row
FROM model_page_papers AS pp
JOIN site_model_paths AS mp USING (model_id)
LEFT JOIN papers AS p USING (arxiv_id)
ORDER BY mp.batch;

-- at most getvariable('site_related_models') related models a page, those with the most results;
-- `n_related` counts them all
CREATE OR REPLACE TEMP TABLE site_model_related_rows AS
WITH ranked AS (
    SELECT model_id, related_model_id, r AS related,
           row_number() OVER (PARTITION BY model_id
                              ORDER BY n_results DESC, params DESC NULLS LAST, related_model_id) AS position,
           count(*) OVER (PARTITION BY model_id) AS n_related
    FROM model_page_related AS r
    WHERE model_id IN (SELECT model_id FROM site_model_paths)
)
SELECT mp.batch, r.model_id, r.position, r.n_related, struct_insert(r.related, path := rp.path) AS row
FROM ranked AS r
JOIN site_model_paths AS mp USING (model_id)
LEFT JOIN site_model_paths AS rp ON rp.model_id = r.related_model_id
WHERE r.position <= getvariable('site_related_models')
ORDER BY mp.batch;

-- without `last_fetched_at`: it changes with every nightly run, and the index page shows it
CREATE OR REPLACE TEMP TABLE site_model_source_rows AS
SELECT mp.batch, s.model_id, s.n_results, s.source_kind, s.source_label,
       {'source_kind': s.source_kind, 'source_label': s.source_label, 'n_results': s.n_results,
        'n_verified': s.n_verified} AS row
FROM model_page_sources AS s
JOIN site_model_paths AS mp USING (model_id)
ORDER BY mp.batch;
