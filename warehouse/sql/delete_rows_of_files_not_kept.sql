-- The rows of raw.table_results whose file is not in table_files_kept (plan_table_files) removed,
-- when they are the fewer: each deleted key leaves the primary-key index one by one.
DELETE FROM raw.table_results WHERE source_file NOT IN (SELECT source_file FROM table_files_kept);
