-- benchmark_refs: every way a source names a benchmark -> benchmark_id. A benchmark is a dataset
-- (with subdataset) evaluated for one task; a known alias (reference/benchmark_aliases.csv) gives
-- its canonical id, otherwise the id is slug(dataset[ subdataset]) || '.' || slug(task), the task
-- first mapped to its canonical name by reference/task_synonyms.csv ("Entity recognition" is
-- "Named entity recognition").
CREATE OR REPLACE TABLE benchmark_refs AS
WITH synonyms AS (
    -- a synonym shared by two tasks ("Language Model") names neither
    SELECT name_key(synonym) AS synonym_key, any_value(task) AS task
    FROM read_csv(getvariable('reference_dir') || '/task_synonyms.csv', all_varchar = true)
    GROUP BY 1 HAVING count(DISTINCT task) = 1
), aliases AS (
    SELECT name_key(alias) AS alias_key, benchmark_id, name, task
    FROM read_csv(getvariable('reference_dir') || '/benchmark_aliases.csv', all_varchar = true)
), table_refs AS (
    -- the papers of a way of naming are gathered in a list: a few thousand names, not one row per paper
    SELECT 'tables' AS source, dataset, dataset AS alias_dataset, subdataset, task, task_path, area_hint,
           list_sort(list_distinct(list(arxiv_id_of(paper_url)))) AS arxiv_ids   -- NULLs dropped
    FROM (SELECT DISTINCT dataset, subdataset, task, task_path, area AS area_hint, paper_url
          FROM raw.table_results WHERE dataset IS NOT NULL)
    GROUP BY ALL
), hub_refs AS (
    SELECT DISTINCT 'hub', hub_dataset(dataset_type, dataset_name, dataset_config), coalesce(dataset_type, dataset_name),
           dataset_config, coalesce(task_name, task_type),
           [coalesce(task_name, task_type)], NULL, []::VARCHAR[]
    FROM raw.hub_eval_results WHERE coalesce(dataset_type, dataset_name) IS NOT NULL
), refs AS (
    SELECT r.* REPLACE (coalesce(s.task, r.task) AS task), r.task AS raw_task
    FROM (SELECT * FROM table_refs UNION ALL SELECT * FROM hub_refs) AS r
    LEFT JOIN synonyms AS s ON s.synonym_key = name_key(r.task)
)
SELECT r.source, r.dataset, r.subdataset, r.raw_task AS task, r.task AS canonical_task, r.task_path,
       r.area_hint, r.arxiv_ids,
       coalesce(a.benchmark_id,
                slug(r.dataset || coalesce(' ' || r.subdataset, '')) || '.' || coalesce(slug(r.task), 'unknown-task'))
           AS benchmark_id,
       coalesce(a.name, r.dataset || coalesce(' (' || r.subdataset || ')', '')) AS benchmark_name,
       coalesce(a.task, r.task) AS benchmark_task
FROM refs AS r
LEFT JOIN aliases AS a
  ON a.alias_key = name_key(r.alias_dataset) AND (r.subdataset IS NULL OR r.source = 'hub');

CREATE OR REPLACE TABLE benchmarks AS
WITH task_areas AS (
    SELECT name_key(task) AS task_key, area
    FROM read_csv(getvariable('reference_dir') || '/task_areas.csv', all_varchar = true)
), category_areas AS (
    SELECT category, area
    FROM read_csv(getvariable('reference_dir') || '/arxiv_category_areas.csv', all_varchar = true)
), table_areas AS (
    SELECT b.*,
           coalesce(
               (SELECT t.area FROM task_areas AS t WHERE t.task_key = name_key(b.benchmark_task)),
               (SELECT t.area FROM task_areas AS t, unnest(b.task_path) AS p(step)
                 WHERE t.task_key = name_key(p.step) LIMIT 1),
               (SELECT t.area FROM task_areas AS t WHERE t.task_key = name_key(b.area_hint))
           ) AS table_area
    FROM benchmark_refs AS b
), paper_areas AS (
    -- one row per (way of naming, cited paper) with the area of the paper's arXiv category
    SELECT b.benchmark_id, c.area AS paper_area
    FROM benchmark_refs AS b, unnest(b.arxiv_ids) AS u(arxiv_id)
    JOIN raw.arxiv_papers AS p ON p.arxiv_id = u.arxiv_id
    JOIN category_areas AS c ON c.category = p.primary_category
), by_paper AS (
    -- the area most of its papers have (a tie goes to the first area by name: mode() picks any)
    SELECT benchmark_id, paper_area FROM paper_areas GROUP BY benchmark_id, paper_area
    QUALIFY row_number() OVER (PARTITION BY benchmark_id ORDER BY count(*) DESC, paper_area) = 1
)
SELECT benchmark_id,
       any_value(benchmark_name ORDER BY source DESC, benchmark_name) AS name,
       coalesce(min(table_area), any_value(p.paper_area), 'Other') AS area,
       any_value(benchmark_task ORDER BY source DESC, benchmark_task) AS task,
       CASE WHEN min(table_area) IS NOT NULL THEN 'task'
            WHEN any_value(p.paper_area) IS NOT NULL THEN 'arxiv category'
            ELSE 'none' END AS area_source,
       list(DISTINCT source ORDER BY source) AS sources
FROM table_areas
LEFT JOIN by_paper AS p USING (benchmark_id)
GROUP BY benchmark_id;

CREATE OR REPLACE TABLE benchmark_aliases AS
SELECT DISTINCT alias, benchmark_id, source FROM (
    SELECT dataset || coalesce(' (' || subdataset || ')', '') AS alias, benchmark_id, source FROM benchmark_refs
    UNION ALL
    SELECT alias, benchmark_id, 'reference'
    FROM read_csv(getvariable('reference_dir') || '/benchmark_aliases.csv', all_varchar = true)
    WHERE benchmark_id IN (SELECT benchmark_id FROM benchmark_refs)
);
