-- Hub dataset ids of the tracked benchmarks: catalog keys of the form org/name, and the org/name
-- aliases (reference/benchmark_aliases.csv) of the others.
WITH tracked AS (SELECT key FROM raw.catalog WHERE kind = 'benchmark'),
aliases AS (
    SELECT alias, benchmark_id FROM read_csv(getvariable('reference_dir') || '/benchmark_aliases.csv',
                                              all_varchar = true)
)
SELECT key FROM tracked WHERE key LIKE '%/%'
UNION
SELECT a.alias FROM aliases AS a JOIN tracked AS t
  ON lower(t.key) IN (lower(a.benchmark_id), lower(a.alias))
WHERE a.alias LIKE '%/%'
ORDER BY 1;
