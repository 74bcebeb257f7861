-- One table file read (or refused whole) into raw.table_files, with what its reading refused
-- (table_file_refusals, create_table_docs): a later run that keeps the file quarantines them again.
INSERT INTO raw.table_files
SELECT getvariable('source_file'), getvariable('bytes'), getvariable('sha256'), getvariable('parser'),
       coalesce((SELECT list({'record_key': record_key, 'reason': reason, 'payload': payload})
                 FROM table_file_refusals), []),
       getvariable('read_at')::TIMESTAMP;
