"""The sources, below the assets that load them: one package per upstream source (its client,
parser, cache and fetch plan in one place), and what every source shares: the HTTP layer
(`http`), the snapshot jail and input limits (`files`), the ingest log and quarantine (`ingest_log`),
parsing in worker processes (`workers`).
Nothing here imports an asset module or the wiring in `pipelines/`."""
