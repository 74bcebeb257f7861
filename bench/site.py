"""The static site's cost at scale: `sotaboard site` rendered from published warehouses, one after the
other, into one output directory, in this process.

    python -m bench.site --out bench/out/site1m W_FULL W_FULL W_CHANGED [--json bench/out/site1m.json]

With the warehouse of a bench snapshot, the same warehouse again and the warehouse of the snapshot after
`bench.generate --change`, the three renders are the full render (into an empty directory: pass a fresh
`--out`), the re-render of an unchanged warehouse and the render after a 1% upstream change. Per render:
wall seconds, peak RSS of the process during the render (VmHWM, reset before it), pages by kind, files
rendered (the others' rows hashed as in the last render), written, unchanged and removed (written also
by folder), and the output's files and bytes afterwards,
with the search index's size and the largest page.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.run import _status, reset_peak


def output_size(out: Path) -> dict:
    files = [p for p in out.rglob("*") if p.is_file()]
    largest = max(files, key=lambda p: p.stat().st_size)
    search = out / "search-index.js"
    return {"files": len(files), "mib": round(sum(p.stat().st_size for p in files) / 2**20, 1),
            "search_index_mib": round(search.stat().st_size / 2**20, 2) if search.is_file() else None,
            "largest_file": str(largest.relative_to(out)), "largest_file_kib": round(largest.stat().st_size / 1024)}


def render(warehouse: Path, out: Path) -> dict:
    from assets.pages.site import build_site

    reset_peak()
    report = build_site(warehouse, out)
    by_folder: dict[str, int] = {}
    for path in report.written:
        folder = path.split("/")[0] if "/" in path else path
        by_folder[folder] = by_folder.get(folder, 0) + 1
    figures = {"warehouse": str(warehouse), "seconds": round(report.seconds, 1),
               "peak_rss_mib": round(_status("VmHWM") / 2**20), "pages": report.pages,
               "rendered": report.rendered,
               "written": len(report.written), "unchanged": report.unchanged, "removed": len(report.removed),
               "written_by_folder": by_folder, "output": output_size(out)}
    print(json.dumps(figures), flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.site", description=__doc__.splitlines()[0])
    parser.add_argument("warehouses", type=Path, nargs="+", help="published warehouses, rendered in this order")
    parser.add_argument("--out", type=Path, required=True, help="the site directory every render writes into")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    renders = [render(warehouse.absolute(), args.out.absolute()) for warehouse in args.warehouses]
    if args.json:
        args.json.write_text(json.dumps(renders, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
