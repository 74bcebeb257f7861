-- Flattens the evaluation-tables tasks of table_task_docs (from JSON files or archive Parquet
-- rows) into raw.table_results: one row per (file, task path, dataset, table row, metric), walking
-- subtasks and subdatasets to any depth, value text kept as found.

INSERT INTO raw.table_results
WITH RECURSIVE tasks(filename, task_position, task_path, categories, node) AS (
    SELECT filename, task_index::VARCHAR, [task ->> 'task'], task -> 'categories', task
    FROM table_task_docs
    UNION ALL
    SELECT filename, task_position || '.' || s.key, task_path || [s.value ->> 'task'],
           coalesce(s.value -> 'categories', categories), s.value
    FROM tasks, json_each(json_array_of(node -> 'subtasks')) AS s
), datasets AS (
    SELECT filename, task_path, categories, d.value ->> 'dataset' AS dataset,
           NULL::VARCHAR AS subdataset, task_position || ':' || d.key AS position, d.value AS node
    FROM tasks, json_each(json_array_of(node -> 'datasets')) AS d
), all_datasets AS (
    SELECT * FROM datasets
    UNION ALL
    SELECT filename, task_path, categories, dataset,
           coalesce(s.value ->> 'dataset', 'subdataset ' || s.key), position || '.' || s.key, s.value
    FROM datasets, json_each(json_array_of(node -> 'subdatasets')) AS s
), table_rows AS (
    SELECT d.*, r.key::INTEGER AS row_index, r.value AS row_json
    FROM all_datasets AS d, json_each(json_array_of(d.node -> 'sota' -> 'rows')) AS r
)
SELECT concat_ws('|', replace(filename, getvariable('root') || '/', ''), array_to_string(task_path, ' > '),
                 dataset, position, row_index, m.key) AS record_key,
       replace(filename, getvariable('root') || '/', '') AS source_file,
       CASE WHEN filename LIKE '%.parquet' THEN 'pwc-parquet' ELSE 'pwc-json' END AS source_format,
       task_path,
       task_path[-1] AS task,
       json_extract_string(categories, '$[0]') AS area,
       dataset,
       subdataset,
       row_index,
       -- a row without a model name stands for its paper's method: name it by the paper title
       coalesce(nullif(trim(row_json ->> 'model_name'), ''), nullif(trim(row_json ->> 'paper_title'), ''))
           AS model_name,
       NULL AS model_id,
       m.key AS metric_raw,
       CASE json_type(m.value) WHEN 'NULL' THEN NULL ELSE m.value ->> '$' END AS value_raw,
       NULL AS split,
       '' AS setting,
       row_json ->> 'paper_title' AS paper_title,
       nullif(trim(row_json ->> 'paper_url'), '') AS paper_url,
       try_cast(row_json ->> 'paper_date' AS DATE) AS paper_date,
       try_cast(row_json ->> 'paper_date' AS DATE) AS result_date,
       nullif(trim(row_json ->> 'paper_url'), '') AS source_url,
       coalesce(try_cast(row_json ->> 'uses_additional_data' AS BOOLEAN), false) AS uses_additional_data
FROM table_rows, json_each(json_object_of(row_json -> 'metrics')) AS m
-- Parquet gives every row the union of all metric columns: a NULL there is no cell at all
WHERE NOT (filename LIKE '%.parquet' AND json_type(m.value) = 'NULL')
QUALIFY row_number() OVER (PARTITION BY record_key) = 1;
