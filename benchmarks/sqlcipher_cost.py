"""Encrypted case store benchmark: ingest throughput on SQLCipher against plain SQLite.

Whether an optional encrypted case database is worth offering depends on what it costs
the ingest (the acceptance bar: under 15 %). This builds one synthetic, benign evidence
folder (generated JPEGs and text files), then processes it into fresh cases on plain
SQLite and on SQLCipher (``sqlite+pysqlcipher`` through the ``sqlcipher3`` module, e.g.
``pip install sqlcipher3-binary``), alternating the two and repeating, and prints the
median seconds of each and the ratio. A second, database-only part inserts the same
synthetic item rows into both, to show the cost where the database is all there is.

Always exits 0: a benchmark, not a test. Skips (with a note) when ``sqlcipher3`` is
not importable.

Usage: ``.venv/bin/python benchmarks/sqlcipher_cost.py [--files N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

PASSPHRASE = "benchmark-only-passphrase"


def build_evidence(folder: Path, files: int) -> None:
    """Benign synthetic media: coloured gradients with noise, and short text files."""
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for n in range(files):
        if n % 4 == 3:
            (folder / f"note_{n:05d}.txt").write_text(f"synthetic note {n}\n" * 20)
            continue
        image = Image.effect_noise((320, 240), 40 + n % 60).convert("RGB")
        tint = Image.new("RGB", image.size, (rng.randrange(256), rng.randrange(256), 90))
        Image.blend(image, tint, 0.5).save(folder / f"img_{n:05d}.jpg", quality=85)


def ingest_seconds(evidence: Path, work: Path, url: str | None) -> float:
    from unseen.engine.runner import process_case
    from unseen.store import repo
    from unseen.store.case import Case

    work.mkdir()  # SQLCipher's file is opened (to check it is unused) before Case.create
    case = Case.create(work, name="bench", database_url=url)
    repo.add_source(case, "folder", str(evidence), "EV", "bench")
    start = time.perf_counter()
    process_case(case, workers=0)
    elapsed = time.perf_counter() - start
    case.close()
    if url is not None:  # prove the file really is encrypted: plain SQLite cannot read it
        try:
            sqlite3.connect(work / "case.db").execute("SELECT count(*) FROM items").fetchall()
        except sqlite3.DatabaseError as exc:
            assert "not a database" in str(exc), exc
        else:
            raise AssertionError("the SQLCipher case is readable without its key")
    return elapsed


def insert_seconds(connect: Any, path: Path, rows: int) -> float:
    """Database only: item-like rows in batched transactions, WAL, synchronous=NORMAL."""
    db = connect(str(path))
    if connect is not sqlite3.connect:
        db.execute(f"PRAGMA key = '{PASSPHRASE}'")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, path TEXT, size INTEGER, md5 TEXT, "
        "sha1 TEXT, sha256 TEXT, mime TEXT, pdq TEXT, status TEXT)"
    )
    db.execute("CREATE INDEX items_md5 ON items (md5)")
    db.execute("CREATE INDEX items_sha256 ON items (sha256)")
    start = time.perf_counter()
    batch = []
    for n in range(rows):
        h = f"{n:064x}"
        batch.append((f"/ev/{n}.jpg", n, h[:32], h[:40], h, "image/jpeg", h, "done"))
        if len(batch) == 1000:
            with db:
                db.executemany("INSERT INTO items VALUES (NULL,?,?,?,?,?,?,?,?)", batch)
            batch = []
    with db:
        db.executemany("INSERT INTO items VALUES (NULL,?,?,?,?,?,?,?,?)", batch)
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    try:
        import sqlcipher3  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("sqlcipher3 is not installed (pip install sqlcipher3-binary): nothing measured")
        return
    os.environ.setdefault("UNSEEN_LOAD_PLUGINS", "0")
    with tempfile.TemporaryDirectory(prefix="unseen-sqlcipher-") as tmp:
        base = Path(tmp)
        os.environ["UNSEEN_HOME"] = str(base / "library")  # never the examiner's library
        build_evidence(base / "evidence", args.files)
        times: dict[str, list[float]] = {"sqlite": [], "sqlcipher": []}
        for r in range(args.rounds):
            for name in ("sqlite", "sqlcipher"):
                work = base / f"{name}-{r}"
                url = (
                    None
                    if name == "sqlite"
                    else f"sqlite+pysqlcipher://:{PASSPHRASE}@/{work / 'case.db'}"
                )
                times[name].append(ingest_seconds(base / "evidence", work, url))
        plain, enc = (statistics.median(times[k]) for k in ("sqlite", "sqlcipher"))
        print(f"ingest of {args.files} files, median of {args.rounds} (workers=0):")
        print(f"  sqlite    {plain:7.2f} s   runs {[round(t, 2) for t in times['sqlite']]}")
        print(f"  sqlcipher {enc:7.2f} s   runs {[round(t, 2) for t in times['sqlcipher']]}")
        print(f"  ratio sqlcipher/sqlite = {enc / plain:.3f} (bar: <= 1.15)")
        ins = {
            "sqlite": insert_seconds(sqlite3.connect, base / "plain.db", args.rows),
            "sqlcipher": insert_seconds(sqlcipher3.connect, base / "enc.db", args.rows),
        }
        print(f"database only, {args.rows} item rows in 1000-row transactions:")
        print(
            f"  sqlite {ins['sqlite']:.2f} s, sqlcipher {ins['sqlcipher']:.2f} s, "
            f"ratio {ins['sqlcipher'] / ins['sqlite']:.3f}"
        )


if __name__ == "__main__":
    main()
