-- One row of raw.source_runs: what a source's ingest did in this run (its variables, by column).
INSERT INTO raw.source_runs (source, started_at, finished_at, mode, records, failures, requests, retries, fetches,
                             fetch_failures, outage)
VALUES (getvariable('source'), getvariable('started_at'), getvariable('finished_at'), getvariable('mode'),
        getvariable('records'), getvariable('failures'), getvariable('requests'), getvariable('retries'),
        getvariable('fetches'), getvariable('fetch_failures'), getvariable('outage'));
