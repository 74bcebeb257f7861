-- The tasks of one Parquet file of the Papers with Code archive (one task per row) into
-- table_task_docs (create_table_docs), as a JSON document each, numbered in file order.
INSERT INTO table_task_docs
SELECT getvariable('table_file'), row_number() OVER () - 1, to_json(p)
FROM read_parquet(getvariable('table_file')) AS p;
