-- Reads one Papers with Code evaluation-tables JSON file, getvariable('table_file') (its path) with
-- getvariable('table_bytes') (its content), whatever its shape: one row per top-level task appended
-- to table_task_docs (filename, task_index, task JSON), the list unnested once in the projection. A
-- file that is not UTF-8, not JSON, or not a list of tasks goes to table_file_errors with its reason
-- (and an excerpt of its start) instead, and is refused (table_file_refusals). A leading byte order mark is ignored (as DuckDB's JSON reader does).
CREATE OR REPLACE TEMP TABLE table_file AS
SELECT getvariable('table_file') AS filename, ltrim(try(decode(getvariable('table_bytes'))), chr(65279)) AS text;
RESET VARIABLE table_bytes;

CREATE OR REPLACE TEMP TABLE table_file_errors AS
SELECT filename,
       CASE WHEN text IS NULL THEN 'not UTF-8 text'
            WHEN NOT json_valid(text) THEN 'not valid JSON'
            ELSE 'not the evaluation-tables shape: top level is ' || json_type(text::JSON) || ', not a list of tasks'
       END AS reason,
       left(coalesce(text, ''), 500) AS excerpt
FROM table_file
WHERE text IS NULL OR NOT json_valid(text) OR json_type(text::JSON) <> 'ARRAY';

INSERT INTO table_file_refusals
SELECT replace(filename, getvariable('root') || '/', ''), reason,
       json_object('file', replace(filename, getvariable('root') || '/', ''), 'excerpt', excerpt)::VARCHAR
FROM table_file_errors;

INSERT INTO table_task_docs
SELECT filename, generate_subscripts(tasks, 1) - 1, unnest(tasks)
FROM (SELECT filename, json_extract(text, '$[*]') AS tasks FROM table_file
      WHERE filename NOT IN (SELECT filename FROM table_file_errors));

DROP TABLE table_file;
