-- When most rows of raw.table_results go: the rows of the files in table_files_kept
-- (plan_table_files) set aside in kept_table_results, and the table dropped, for create_raw_schema to
-- make it again empty and restore_rows_of_kept_files to put them back (cheaper than deleting most
-- keys from its primary-key index one by one).
CREATE OR REPLACE TEMP TABLE kept_table_results AS
SELECT * FROM raw.table_results WHERE source_file IN (SELECT source_file FROM table_files_kept);

DROP TABLE raw.table_results;
