-- arxiv_references: every text that refers to an arXiv paper, one row per (source, reference),
-- with one record key that carries it (for the quarantine) and how many records carry it.
-- Sources: Hub model tags (raw.hub_models.arxiv_ids), benchmark table rows whose paper_url or
-- source_url is on arxiv.org (or an arXiv DOI / "arXiv:" reference), papers of the catalog.
-- Normalising and validating the ids is done in Python (assets.sources.arxiv.ids.normalize_arxiv_id).
CREATE OR REPLACE TEMP TABLE arxiv_references AS
WITH refs AS (
    SELECT 'hub' AS source, m.model_id AS record_key, trim(t.ref) AS reference
    FROM raw.hub_models AS m, unnest(coalesce(m.arxiv_ids, []::VARCHAR[])) AS t(ref)
    UNION ALL
    SELECT 'tables', r.record_key, trim(u.url)
    FROM raw.table_results AS r, unnest([r.paper_url, r.source_url]) AS u(url)
    WHERE regexp_matches(u.url, '(?i)^\s*(?:(?:https?://)?(?:[a-z0-9-]+\.)*arxiv\.org/|arxiv\s*:|(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arxiv\.)')
    UNION ALL
    SELECT 'catalog', c.key, trim(c.key) FROM raw.catalog AS c WHERE c.kind = 'paper'
)
SELECT source, reference, min(record_key) AS record_key, count(*) AS records
FROM refs
WHERE reference IS NOT NULL AND reference <> ''
GROUP BY source, reference
ORDER BY source, reference;
