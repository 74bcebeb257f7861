-- The static site: one row per model page of batch getvariable('site_batch'), every section of
-- `sotaboard model` as nested rows, ordered as the terminal page orders them. Needs site_paths.sql
-- and site_model_rows.sql first.
-- `input_hash` is the md5 of the page's row: a page whose rows hash the same is not rendered again.
SELECT *, md5(CAST(page AS VARCHAR)) AS input_hash
FROM (
    WITH benchmarks AS (
        SELECT model_id, list(row ORDER BY position) AS rows
        FROM site_model_benchmark_rows WHERE batch = getvariable('site_batch')
        GROUP BY model_id
    ), strengths AS (
        SELECT model_id, list(row ORDER BY avg_rank, area) AS rows
        FROM site_model_strength_rows WHERE batch = getvariable('site_batch')
        GROUP BY model_id
    ), papers AS (
        SELECT model_id, list(row ORDER BY published DESC NULLS LAST, arxiv_id) AS rows
        FROM site_model_paper_rows WHERE batch = getvariable('site_batch')
        GROUP BY model_id
    ), related AS (
        SELECT model_id, list(row ORDER BY position) AS rows, any_value(n_related) AS n_related
        FROM site_model_related_rows WHERE batch = getvariable('site_batch')
        GROUP BY model_id
    ), sources AS (
        SELECT model_id, list(row ORDER BY n_results DESC, source_kind, source_label) AS rows
        FROM site_model_source_rows WHERE batch = getvariable('site_batch')
        GROUP BY model_id
    )
    SELECT mp.model_id, mp.path, c.card,
           coalesce(b.rows, []) AS benchmarks, coalesce(st.rows, []) AS strengths, coalesce(p.rows, []) AS papers,
           coalesce(r.rows, []) AS related,
           coalesce(r.n_related, 0) AS n_related, coalesce(so.rows, []) AS sources
    FROM site_model_paths AS mp
    JOIN site_model_card_rows AS c USING (model_id)
    LEFT JOIN benchmarks AS b USING (model_id)
    LEFT JOIN strengths AS st USING (model_id)
    LEFT JOIN papers AS p USING (model_id)
    LEFT JOIN related AS r USING (model_id)
    LEFT JOIN sources AS so USING (model_id)
    WHERE mp.batch = getvariable('site_batch') AND c.batch = getvariable('site_batch')
) AS page
ORDER BY path;
