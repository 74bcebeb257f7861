-- The entries of feeds no longer in raw.arxiv_feed_files (their file is gone, or is to be read again)
-- removed from raw.arxiv_feed_entries.
DELETE FROM raw.arxiv_feed_entries WHERE source_file NOT IN (SELECT source_file FROM raw.arxiv_feed_files);
