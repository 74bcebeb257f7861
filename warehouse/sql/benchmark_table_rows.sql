-- Flattens every Papers with Code evaluation-tables file under getvariable('tables_glob') into
-- raw.table_results (one row per table row and metric), walking subtasks and subdatasets to any
-- depth. Files that are not UTF-8, not JSON, or not a list of tasks go to raw.table_file_errors.
CREATE OR REPLACE TEMP TABLE table_files AS
SELECT filename, try(decode(content)) AS text
FROM read_blob(getvariable('tables_glob'));

CREATE OR REPLACE TEMP TABLE table_file_errors AS
SELECT filename,
       CASE WHEN text IS NULL THEN 'not UTF-8 text'
            WHEN NOT json_valid(text) THEN 'not valid JSON'
            ELSE 'not the evaluation-tables shape: top level is ' || json_type(text::JSON) || ', not a list of tasks'
       END AS reason,
       left(coalesce(text, ''), 500) AS payload
FROM table_files
WHERE text IS NULL OR NOT json_valid(text) OR json_type(text::JSON) <> 'ARRAY';

DELETE FROM raw.table_results WHERE source_format = 'pwc-json';

INSERT INTO raw.table_results
WITH RECURSIVE docs AS (
    SELECT filename, text::JSON AS doc
    FROM table_files
    WHERE filename NOT IN (SELECT filename FROM table_file_errors)
), tasks(filename, task_path, categories, node) AS (
    SELECT filename, [t.value ->> 'task'], t.value -> 'categories', t.value
    FROM docs, json_each(doc) AS t
    UNION ALL
    SELECT filename, task_path || [s.value ->> 'task'], coalesce(s.value -> 'categories', categories), s.value
    FROM tasks, json_each(node -> 'subtasks') AS s
), datasets AS (
    SELECT filename, task_path, categories, d.value ->> 'dataset' AS dataset,
           NULL::VARCHAR AS subdataset, d.key AS position, d.value AS node
    FROM tasks, json_each(node -> 'datasets') AS d
), all_datasets AS (
    SELECT * FROM datasets
    UNION ALL
    SELECT filename, task_path, categories, dataset,
           coalesce(s.value ->> 'dataset', 'subdataset ' || s.key), position || '.' || s.key, s.value
    FROM datasets, json_each(node -> 'subdatasets') AS s
), table_rows AS (
    SELECT d.*, r.key::INTEGER AS row_index, r.value AS row_json
    FROM all_datasets AS d, json_each(d.node -> 'sota' -> 'rows') AS r
)
SELECT concat_ws('|', replace(filename, getvariable('root') || '/', ''), array_to_string(task_path, ' > '),
                 dataset, position, row_index, m.key) AS record_key,
       replace(filename, getvariable('root') || '/', '') AS source_file,
       'pwc-json' AS source_format,
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
FROM table_rows, json_each(row_json -> 'metrics') AS m
QUALIFY row_number() OVER (PARTITION BY record_key) = 1;
