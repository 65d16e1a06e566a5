"""Hash-set import benchmark: time and peak memory of a large VICS import vs a floor.

Writes a synthetic VICS 2.0 ``#Media`` hash set of N entries (default 10 million;
streamed out record by record, never built in memory; 0.1 % of the entries repeat an
earlier one, so duplicate removal has work to do), then, each in its own fresh
Python process so that peak RSS is its own:

* floor: stream-parse the same file with ijson (C backend if installed), discarding
  every record - the least any importer must do;
* import: ``Library.open(tmp).import_file(file, ...)`` into an empty library (the
  normal path: indexes dropped and rebuilt around the bulk insert);
* with ``--live``: the same import with the entry indexes kept live during the
  insert, to show why the loader rebuilds them instead.

Prints seconds, entries/s and peak RSS (``ru_maxrss``) for each, and the ratios
import/floor. Goal: import peak RSS under 500 MB whatever N is. Always exits 0: a
benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/hashset_import.py [--entries N] [--live]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RSS_GOAL_MB = 500
CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
DUPLICATE_EVERY = 1000  # one entry in this many repeats an earlier one


def write_vics(path: Path, entries: int) -> int:
    """Stream a VICS 2.0 hash set of ``entries`` records to ``path``; return its size."""
    with path.open("w", buffering=1 << 20) as out:
        out.write('{"@odata.context": "' + CONTEXT + '", "value": [\n')
        for i in range(entries):
            n = i // 2 if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 else i
            key = n.to_bytes(8, "little")
            record = {
                "MediaID": i + 1,
                "Category": n % 6,
                "MD5": hashlib.md5(key).hexdigest(),
                "SHA1": hashlib.sha1(key).hexdigest(),
                "MediaSize": 1000 + n % 5_000_000,
                "DateUpdated": "2023-06-07T02:31:49.8300Z",
                "IsPrecategorized": "true",
                "VictimIdentified": "false",
                "OffenderIdentified": "false",
                "IsDistributed": "true" if n % 3 == 0 else "false",
            }
            out.write(("," if i else "") + json.dumps(record) + "\n")
        out.write("]}\n")
    return path.stat().st_size


def child_floor(path: Path) -> dict[str, float]:
    import ijson

    start = time.perf_counter()
    count = 0
    with path.open("rb") as stream:
        for _record in ijson.items(stream, "value.item", use_float=True):
            count += 1
    return {"seconds": time.perf_counter() - start, "records": count, "backend": ijson.backend}


def child_import(path: Path, library: Path, live: bool) -> dict[str, float]:
    from unseen.matching.formats import loader
    from unseen.matching.library import Library

    logging.basicConfig(level=logging.INFO, format="    %(message)s")  # the load phases
    if live:  # keep the indexes during the insert (the path the loader avoids)
        loader.Loader.prepare = lambda self, file_size: None  # type: ignore[method-assign]
    lib = Library.open(library)
    start = time.perf_counter()
    result = lib.import_file(path, "bench")
    return {
        "seconds": time.perf_counter() - start,
        "records": result.read,
        "imported": result.imported,
        "duplicates": result.duplicates,
        "db_mb": (library / "library.db").stat().st_size / 1e6,
    }


def run_child(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    print(f"{args[0]}:\n{done.stderr}", end="")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--live", action="store_true", help="also import with live indexes")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "floor":
            out = child_floor(Path(rest[0]))
        else:
            out = child_import(Path(rest[0]), Path(rest[1]), kind == "live")
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        path = work / "vics.json"
        start = time.perf_counter()
        size = write_vics(path, args.entries)
        print(f"wrote {args.entries:,} entries ({size / 1e6:,.0f} MB) in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        floor = run_child("floor", str(path))
        runs = {"import": run_child("import", str(path), str(work / "lib"))}
        if args.live:
            runs["live"] = run_child("live", str(path), str(work / "lib-live"))
        report(args.entries, floor, runs)
        for name in os.listdir(work):
            print(f"  {name}: {_size(work / name) / 1e6:,.0f} MB")


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def report(entries: int, floor: dict[str, float], runs: dict[str, dict[str, float]]) -> None:
    print(
        f"floor (ijson {floor['backend']}): {floor['seconds']:.1f} s, "
        f"{entries / floor['seconds']:,.0f} entries/s, peak RSS {floor['rss_mb']:.0f} MB"
    )
    for name, run in runs.items():
        print(
            f"{name}: {run['seconds']:.1f} s, {entries / run['seconds']:,.0f} entries/s, "
            f"peak RSS {run['rss_mb']:.0f} MB; imported {run['imported']:,.0f}, "
            f"duplicates {run['duplicates']:,.0f}, library.db {run['db_mb']:,.0f} MB"
        )
        print(
            f"  {name}/floor: time x{run['seconds'] / floor['seconds']:.2f}, "
            f"RSS x{run['rss_mb'] / floor['rss_mb']:.2f}; RSS goal < {RSS_GOAL_MB} MB: "
            + ("met" if run["rss_mb"] < RSS_GOAL_MB else "MISSED")
        )


if __name__ == "__main__":
    main()
