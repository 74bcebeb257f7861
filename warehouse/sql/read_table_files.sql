-- Reads the Papers with Code evaluation-tables JSON files under getvariable('tables_glob'):
-- one row per top-level task in table_task_docs (filename, task JSON). Files that are not UTF-8,
-- not JSON, or not a list of tasks go to table_file_errors with their reason.
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

CREATE OR REPLACE TEMP TABLE table_task_docs AS
SELECT filename, t.key::INTEGER AS task_index, t.value AS task
FROM table_files, json_each(text::JSON) AS t
WHERE filename NOT IN (SELECT filename FROM table_file_errors);
