"""Hash-set files built by the tests: VICS, ICSE, NSRL RDSv3, CSV and md5sum lists.

All hashes are digests of short synthetic strings (``entry 7``); nothing refers to
real material.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

CONTEXT_20 = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{profile}/$metadata#{entity}"
)
CONTEXT_13 = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"


def md5(i: int) -> str:
    return hashlib.md5(f"entry {i}".encode()).hexdigest()


def sha1(i: int) -> str:
    return hashlib.sha1(f"entry {i}".encode()).hexdigest()


def sha256(i: int) -> str:
    return hashlib.sha256(f"entry {i}".encode()).hexdigest()


def media(i: int, category: int | None, **more: Any) -> dict[str, Any]:
    """A VICS 2.0 Media record for synthetic entry ``i``."""
    record: dict[str, Any] = {"MediaID": i, "MD5": md5(i).upper(), "SHA1": sha1(i)}
    if category is not None:
        record["Category"] = category
    record.update(more)
    return record


def vics_media(path: Path, records: list[Any], profile: str = "US") -> Path:
    """A VICS 2.0 hash set (``#Media``)."""
    doc = {"@odata.context": CONTEXT_20.format(profile=profile, entity="Media"), "value": records}
    path.write_text(json.dumps(doc, indent=1))
    return path


def vics_cases(path: Path, cases: list[list[dict[str, Any]]], profile: str = "UK") -> Path:
    """A VICS 2.0 case export (``#Cases``): one case per list of Media."""
    doc = {
        "@odata.context": CONTEXT_20.format(profile=profile, entity="Cases"),
        "value": [
            {"CaseID": f"{{case-{n}}}", "CaseNumber": f"OP-{n}", "Media": items}
            for n, items in enumerate(cases, 1)
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def vics_13(path: Path, records: list[dict[str, Any]]) -> Path:
    """A legacy VICS 1.3 hash set: ``odata.metadata``, SHA-1 in AlternativeHashes."""
    converted = []
    for r in records:
        item = {k: v for k, v in r.items() if k != "SHA1"}
        item["odata.id"] = f'Media("{r["MD5"]}")'
        link = f'Media("{r["MD5"]}")/AlternativeHashes'
        item["AlternativeHashes@odata.navigationLinkUrl"] = link
        item["AlternativeHashes"] = [
            {"HashName": "SHA1", "HashValue": r["SHA1"], "MD5": r["MD5"]},
            {"HashName": "PhotoDNA", "HashValue": "QUJD" * 48, "MD5": r["MD5"]},
        ]
        converted.append(item)
    path.write_text(json.dumps({"odata.metadata": CONTEXT_13, "value": converted}))
    return path


ICSE_HEADER = (
    "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;"
    "Series name;Number of submissions;File Available;Media Type;Baseline"
)


def icse(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([ICSE_HEADER, *rows]) + "\n")
    return path


def icse_row(i: int, series: str = "", baseline: str = "true") -> str:
    flags = f"true;false;false;{series};3;true;Image;{baseline}"
    return f"{md5(i)};{sha1(i)};{'AB' * 144};{1000 + i};{flags}"


NSRL_SCHEMA = """
CREATE TABLE VERSION (version VARCHAR UNIQUE NOT NULL, build_set VARCHAR NOT NULL,
    build_date TIMESTAMP NOT NULL, release_date TIMESTAMP NOT NULL, description VARCHAR NOT NULL);
CREATE TABLE MFG (manufacturer_id INTEGER NOT NULL, name VARCHAR NOT NULL);
CREATE TABLE OS (operating_system_id INTEGER NOT NULL, name VARCHAR NOT NULL,
    version VARCHAR NOT NULL, manufacturer_id INTEGER NOT NULL);
CREATE TABLE PKG (package_id INTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR NOT NULL,
    operating_system_id INTEGER NOT NULL, manufacturer_id INTEGER NOT NULL,
    language VARCHAR NOT NULL, application_type VARCHAR NOT NULL);
CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
    crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
    package_id INTEGER NOT NULL);
"""


def nsrl(path: Path, files: list[tuple[int, int]]) -> Path:
    """An RDSv3-like database; ``files`` lists (entry number, package id). Hashes are
    upper case, as NIST writes them."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(NSRL_SCHEMA)
        conn.execute(
            "INSERT INTO VERSION VALUES ('2024.03.1', 'Modern', '2024-03-01', '2024-03-01', 't')"
        )
        conn.execute("INSERT INTO MFG VALUES (1, 'Example Soft')")
        conn.execute("INSERT INTO OS VALUES (1, 'ExampleOS', '1', 1)")
        for package in sorted({p for _i, p in files}):
            conn.execute("INSERT INTO PKG VALUES (?, ?, '1.0', 1, 1, 'English', 'Utility')",
                         (package, f"pkg{package}"))  # fmt: skip
        conn.executemany(
            "INSERT INTO FILE VALUES (?, ?, ?, '00000000', ?, ?, ?)",
            [(sha256(i).upper(), sha1(i).upper(), md5(i).upper(), f"file{i}.dll", 100 + i, p)
             for i, p in files],
        )  # fmt: skip
        conn.commit()
    return path


def csv_file(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
