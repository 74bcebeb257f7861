-- The pieces of one table file that benchmark_table_rows walks, empty before the file is read.
-- table_task_docs: top-level tasks as JSON (read_table_files, archive Parquet rows);
-- table_subtask_docs, table_subdataset_docs and table_row_docs: tasks, datasets and table rows
-- below a task that read_table_json_by_shape already took apart, with their place in the file;
-- table_file_refusals: what reading the file refused (record_key, reason, payload), recorded with
-- the file in raw.table_files.
CREATE OR REPLACE TEMP TABLE table_task_docs (filename VARCHAR, task_index INTEGER, task JSON);
CREATE OR REPLACE TEMP TABLE table_subtask_docs (
    filename VARCHAR, task_position VARCHAR, task_path VARCHAR[], categories JSON, node JSON);
CREATE OR REPLACE TEMP TABLE table_subdataset_docs (
    filename VARCHAR, task_path VARCHAR[], categories JSON, dataset VARCHAR, subdataset VARCHAR,
    position VARCHAR, node JSON);
CREATE OR REPLACE TEMP TABLE table_row_docs (
    filename VARCHAR, task_path VARCHAR[], categories JSON, dataset VARCHAR, subdataset VARCHAR,
    position VARCHAR, row_index BIGINT, row_json JSON);
CREATE OR REPLACE TEMP TABLE table_file_refusals (record_key VARCHAR, reason VARCHAR, payload VARCHAR);
