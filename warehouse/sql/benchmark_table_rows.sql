-- Flattens the evaluation-tables tasks of one file, getvariable('source_file'), into
-- raw.table_results: one row per (file, task path, dataset, table row, metric), walking subtasks and
-- subdatasets to any depth, value text kept as found. It starts from the pieces create_table_docs
-- holds: whole tasks (a JSON file read by read_table_files, archive Parquet rows), or the rows,
-- subtasks and subdatasets of a file that read_table_json_by_shape took apart. Each level unnests
-- its lists once, in the projection, and passes on only its items, never the node they came from
-- (lateral json_each over whole nodes copied a node per item: quadratic in leaderboard size).
-- A changed file read before by this code (getvariable('reuse_rows')) keeps the cells of every table
-- row still in it as it was (same place, same JSON: same row_hash); only new and changed rows are
-- flattened, and the cells of the others are deleted.

CREATE OR REPLACE TEMP TABLE table_rows AS
WITH RECURSIVE tasks(filename, task_position, task_path, categories, node) AS (
    SELECT * FROM (SELECT filename, task_index::VARCHAR, [task ->> 'task'], task -> 'categories', task
                   FROM table_task_docs
                   UNION ALL
                   SELECT * FROM table_subtask_docs)
    UNION ALL
    SELECT filename, task_position || '.' || s.i, task_path || [s.item ->> 'task'],
           coalesce(s.item -> 'categories', categories), s.item
    FROM (SELECT * EXCLUDE (node), unnest(json_items(node, '$.subtasks')) AS s FROM tasks)
), datasets AS (
    SELECT filename, task_path, categories, d.item ->> 'dataset' AS dataset, NULL::VARCHAR AS subdataset,
           task_position || ':' || d.i AS position, d.item AS node
    FROM (SELECT * EXCLUDE (node), unnest(json_items(node, '$.datasets')) AS d FROM tasks)
), all_datasets(filename, task_path, categories, dataset, subdataset, position, node) AS (
    -- subdatasets to any depth; a nested one is named by its path ("2019 > test")
    SELECT * FROM (SELECT * FROM datasets UNION ALL SELECT * FROM table_subdataset_docs)
    UNION ALL
    SELECT filename, task_path, categories, dataset,
           concat_ws(' > ', subdataset, coalesce(s.item ->> 'dataset', 'subdataset ' || s.i)),
           position || '.' || s.i, s.item
    FROM (SELECT * EXCLUDE (node), unnest(json_items(node, '$.subdatasets')) AS s FROM all_datasets)
), walked_rows AS (
    SELECT * EXCLUDE (r), r.i AS row_index, r.item AS row_json
    FROM (SELECT * EXCLUDE (node), unnest(json_items(node, '$.sota.rows')) AS r FROM all_datasets)
    UNION ALL
    SELECT * FROM table_row_docs
)
SELECT *, md5_number(to_json({task_path: task_path, categories: categories, dataset: dataset, subdataset: subdataset,
                       position: position, row_index: row_index, row: row_json})::VARCHAR) AS row_hash
FROM walked_rows;

CREATE OR REPLACE TEMP TABLE table_rows_kept AS
SELECT DISTINCT row_hash FROM raw.table_results
WHERE getvariable('reuse_rows') AND source_file = getvariable('source_file')
  AND row_hash IN (SELECT row_hash FROM table_rows);

DELETE FROM raw.table_results
WHERE getvariable('reuse_rows') AND source_file = getvariable('source_file')
  AND (row_hash IS NULL OR row_hash NOT IN (SELECT row_hash FROM table_rows_kept));

CREATE OR REPLACE TEMP TABLE table_row_counts AS
SELECT (SELECT count(*) FROM table_rows) AS rows_read, (SELECT count(*) FROM table_rows_kept) AS rows_kept;

DELETE FROM table_rows WHERE row_hash IN (SELECT row_hash FROM table_rows_kept);

INSERT INTO raw.table_results
WITH cells AS (
    -- a row's metric names and their values, unnested side by side (both in the object's order),
    -- with the row's other fields read in one parse of the row
    SELECT concat_ws('|', replace(filename, getvariable('root') || '/', ''), array_to_string(task_path, ' > '),
                     dataset, position, row_index, metric) AS record_key,
           *
    FROM (SELECT * EXCLUDE (metrics, fields), unnest(json_keys(metrics)) AS metric,
                 unnest(json_extract(metrics, '$.*')) AS value,
                 fields[1] AS model_name, fields[2] AS paper_title, fields[3] AS paper_url, fields[4] AS paper_date,
                 fields[5] AS uses_additional_data
          FROM (SELECT *, json_object_of(row_json -> 'metrics') AS metrics,
                       json_extract_string(row_json, ['$.model_name', '$.paper_title', '$.paper_url',
                                                      '$.paper_date', '$.uses_additional_data']) AS fields
                FROM table_rows))
    -- Parquet gives every row the union of all metric columns: a NULL there is no cell at all
    WHERE NOT (filename LIKE '%.parquet' AND json_type(value) = 'NULL')
), repeated_keys AS (
    SELECT record_key FROM cells GROUP BY record_key HAVING count(*) > 1
), one_cell_per_key AS (
    SELECT * FROM cells WHERE record_key NOT IN (SELECT record_key FROM repeated_keys)
    UNION ALL
    -- a key given twice (a metric named twice in one row) is one cell: its lowest value text
    SELECT * FROM cells WHERE record_key IN (SELECT record_key FROM repeated_keys)
    QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY value ->> '$') = 1
)
SELECT record_key,
       replace(filename, getvariable('root') || '/', '') AS source_file,
       CASE WHEN filename LIKE '%.parquet' THEN 'pwc-parquet' ELSE 'pwc-json' END AS source_format,
       task_path,
       task_path[-1] AS task,
       json_extract_string(categories, '$[0]') AS area,
       dataset,
       subdataset,
       row_index,
       -- a row without a model name stands for its paper's method: name it by the paper title
       coalesce(nullif(trim(model_name), ''), nullif(trim(paper_title), '')) AS model_name,
       NULL AS model_id,
       metric AS metric_raw,
       CASE json_type(value) WHEN 'NULL' THEN NULL ELSE value ->> '$' END AS value_raw,
       NULL AS split,
       '' AS setting,
       paper_title,
       nullif(trim(paper_url), '') AS paper_url,
       try_cast(paper_date AS DATE) AS paper_date,
       try_cast(paper_date AS DATE) AS result_date,
       nullif(trim(paper_url), '') AS source_url,
       coalesce(try_cast(uses_additional_data AS BOOLEAN), false) AS uses_additional_data,
       row_hash
FROM one_cell_per_key;

-- Rows that cannot give a cell although they hold something: not an object, or metrics of another shape.
-- (Such a row has no cells, so no row_hash was kept for it: it is among the rows just flattened.)
CREATE OR REPLACE TEMP TABLE table_row_errors AS
SELECT concat_ws('|', replace(filename, getvariable('root') || '/', ''), array_to_string(task_path, ' > '),
                 dataset, position, row_index) AS record_key,
       CASE WHEN json_type(row_json) <> 'OBJECT' THEN 'table row is not an object: ' || json_type(row_json)
            ELSE 'metrics is not an object: ' || json_type(row_json -> 'metrics') END AS reason,
       json_object('file', replace(filename, getvariable('root') || '/', ''), 'task', array_to_string(task_path, ' > '),
                   'dataset', dataset, 'row', row_index, 'excerpt', left(row_json::VARCHAR, 500))::VARCHAR AS payload
FROM table_rows
WHERE json_type(row_json) <> 'OBJECT'
   OR (json_type(row_json -> 'metrics') NOT IN ('NULL', 'OBJECT') AND json_object_of(row_json -> 'metrics') IS NULL);
INSERT INTO table_file_refusals SELECT record_key, reason, payload FROM table_row_errors;
DROP TABLE table_rows;
DROP TABLE table_rows_kept;
DROP TABLE table_task_docs;
DROP TABLE table_subtask_docs;
DROP TABLE table_subdataset_docs;
DROP TABLE table_row_docs;
