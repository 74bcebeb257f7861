-- Views that feed the model page, one per section; each is filtered by model_id:
--   SELECT * FROM model_page_benchmarks WHERE model_id = ? ORDER BY position;

CREATE OR REPLACE VIEW related_models AS
-- other models of the same org (grain: model_id, related_model_id)
WITH counts AS (SELECT model_id, count(*) AS n_results FROM results GROUP BY model_id)
SELECT m.model_id, o.model_id AS related_model_id, o.display_name AS related_display_name, o.org,
       o.params, coalesce(c.n_results, 0) AS n_results
FROM models AS m
JOIN models AS o ON o.org = m.org AND o.model_id <> m.model_id
LEFT JOIN counts AS c ON c.model_id = o.model_id;

CREATE OR REPLACE VIEW model_page_card AS
SELECT m.model_id, m.display_name, m.org, m.org_display_name, m.open_weights, m.params, m.family,
       m.license, m.card_html, m.hf_url, m.last_modified,
       (SELECT count(*) FROM results AS r WHERE r.model_id = m.model_id) AS n_results,
       (SELECT count(DISTINCT r.benchmark_id) FROM results AS r WHERE r.model_id = m.model_id) AS n_benchmarks,
       p.arxiv_id AS paper_arxiv_id, p.title AS paper_title, p.journal_ref AS paper_journal_ref
FROM models AS m
LEFT JOIN papers AS p ON p.arxiv_id = m.arxiv_ids[1];

CREATE OR REPLACE VIEW model_page_benchmarks AS
SELECT r.model_id,
       row_number() OVER (PARTITION BY r.model_id
                          ORDER BY l.rank ASC NULLS LAST, r.result_date DESC NULLS LAST, r.result_id) AS position,
       b.benchmark_id, b.name AS benchmark, b.area, b.task, r.metric, r.split, r.setting, r.value, r.unit,
       r.raw_value, l.rank, l.n_models,
       CASE WHEN l.rank IS NOT NULL THEN '#' || l.rank || '/' || l.n_models END AS rank_display,
       coalesce(l.is_sota, false) AS is_sota, coalesce(l.thin, false) AS thin, l.verified_rank,
       l.result_id = r.result_id AS is_best, r.result_date, r.source, r.source_kind, r.source_url,
       r.verified, r.verification_tier, r.verification_reasons
FROM results AS r
JOIN benchmarks AS b USING (benchmark_id)
LEFT JOIN leaderboard AS l
  ON l.benchmark_id = r.benchmark_id AND l.metric = r.metric AND l.split = coalesce(r.split, '')
 AND l.setting = r.setting AND l.model_id = r.model_id;

CREATE OR REPLACE VIEW model_page_strengths AS
SELECT model_id, area, n_benchmarks, avg_rank, n_sota FROM model_strengths;

CREATE OR REPLACE VIEW model_page_papers AS
SELECT r.model_id, p.arxiv_id, p.published::DATE AS published, coalesce(p.area, any_value(b.area)) AS area,
       p.title, p.status, p.withdrawn, count(*) AS n_results
FROM results AS r
JOIN papers AS p ON p.arxiv_id = r.arxiv_id
JOIN benchmarks AS b USING (benchmark_id)
GROUP BY r.model_id, p.arxiv_id, p.published, p.area, p.title, p.status, p.withdrawn;

CREATE OR REPLACE VIEW model_page_related AS
SELECT model_id, related_model_id, related_display_name, params, n_results FROM related_models;

CREATE OR REPLACE VIEW model_page_sources AS
SELECT r.model_id, r.source_kind, count(*) AS n_results, count(*) FILTER (WHERE r.verified) AS n_verified,
       max(f.last_success_at) AS last_fetched_at
FROM results AS r
LEFT JOIN source_freshness AS f
  ON f.source = CASE WHEN r.source LIKE 'hub-%' THEN 'hub' ELSE 'tables' END
GROUP BY r.model_id, r.source_kind;
