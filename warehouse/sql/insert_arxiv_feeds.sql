-- The feeds read tonight (read_feed_files, one row per feed file) and their entries
-- (read_feed_entries, one row per entry) into raw.arxiv_feed_files and raw.arxiv_feed_entries, and
-- into raw.files_read with the parsing code's version (getvariable('parser')) and the time they were
-- read (getvariable('read_at')).
INSERT INTO raw.arxiv_feed_files
SELECT source_file, refused, fetched_at::TIMESTAMP, asked::JSON::VARCHAR[],
       failures::JSON::STRUCT(record_key VARCHAR, reason VARCHAR, payload VARCHAR)[]
FROM read_feed_files;

INSERT INTO raw.files_read BY NAME
SELECT 'raw.arxiv_feed_files' AS read_into, source_file, bytes, mtime_ns, getvariable('parser') AS parser,
       getvariable('read_at')::TIMESTAMP AS read_at
FROM read_feed_files;

INSERT INTO raw.arxiv_feed_entries
SELECT source_file, position, arxiv_id, version::INTEGER, title, authors::VARCHAR[], summary,
       published::TIMESTAMP, updated::TIMESTAMP, primary_category, categories::VARCHAR[], doi, journal_ref,
       comment, links::VARCHAR[], withdrawn::BOOLEAN, fetched_at::TIMESTAMP
FROM read_feed_entries;
