"""Each hash-set format imported from files the tests build: exact entries and refs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from unseen.core.errors import UserError
from unseen.matching import formats
from unseen.matching.library import Library
from unseen.matching.library_schema import entries

from .hashset_files import (
    csv_file,
    icse,
    icse_row,
    md5,
    media,
    nsrl,
    sha1,
    sha256,
    vics_13,
    vics_cases,
    vics_media,
)


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    return Library.open(tmp_path / "library")


def rows(lib: Library, set_id: int) -> list[dict[str, Any]]:
    query = select(entries).where(entries.c.set_id == set_id).order_by(entries.c.id)
    with lib.engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(query)]
    for r in found:
        r["extra"] = json.loads(r["extra"]) if r["extra"] else None
    return found


def test_vics_20_media_us_profile(lib: Library, tmp_path: Path) -> None:
    records = [media(i, i) for i in range(6)]
    records[1]["VictimIdentified"] = "true"
    records[2]["Series"] = "Series Q"
    path = vics_media(tmp_path / "us.json", records, profile="US")
    result = lib.import_file(path, "vic-us")
    info = result.info
    assert (info.format, info.scheme, info.profile, info.entries) == ("vics", "us", "US", 6)
    assert (result.read, result.imported, result.rejected, result.duplicates) == (6, 6, 0, 0)
    got = rows(lib, info.id)
    assert [r["category"] for r in got] == ["CAT-0", "CAT-1", "CAT-2", "CAT-3", "CAT-4", "CAT-5"]
    assert [r["ref"] for r in got] == [f"record {n}" for n in range(1, 7)]
    assert [r["md5"] for r in got] == [md5(i) for i in range(6)]  # upper case stored lower
    assert got[1]["extra"] == {"MediaID": 1, "VictimIdentified": "true"}
    assert got[2]["series"] == "Series Q"
    assert got[0]["sha1"] == sha1(0)


def test_vics_20_cases_uk_profile(lib: Library, tmp_path: Path) -> None:
    file = {"MD5": md5(1), "FileName": "a.jpg", "FilePath": "x/a.jpg"}
    cases = [
        [media(1, 1, MediaFiles=[file, file]), media(2, 2)],
        [media(3, 3), media(4, 0), media(5, None)],
    ]
    path = vics_cases(tmp_path / "uk.json", cases, profile="UK")
    result = lib.import_file(path, "caid-export")
    assert (result.info.scheme, result.info.profile, result.imported) == ("uk", "UK", 5)
    got = rows(lib, result.info.id)
    assert [r["category"] for r in got] == ["A", "B", "C", "U", None]
    assert [r["ref"] for r in got] == [f"record {n}" for n in range(1, 6)]
    assert got[0]["extra"] == {"MediaID": 1, "MediaFiles": 2}


def test_vics_13_reads_alternative_hashes_through_declared_scheme(
    lib: Library, tmp_path: Path
) -> None:
    path = vics_13(tmp_path / "v13.json", [media(1, 1), media(2, 5)])
    with pytest.raises(UserError, match="give --scheme"):
        lib.import_file(path, "legacy")
    result = lib.import_file(path, "legacy", scheme="us")
    assert (result.info.profile, result.info.scheme, result.imported) == (None, "us", 2)
    got = rows(lib, result.info.id)
    assert [(r["sha1"], r["category"]) for r in got] == [(sha1(1), "CAT-1"), (sha1(2), "CAT-5")]
    assert got[0]["extra"] == {"MediaID": 1, "PhotoDNA": "QUJD" * 48}


def test_vics_default_and_custom_profiles_need_a_scheme(lib: Library, tmp_path: Path) -> None:
    path = vics_media(tmp_path / "default.json", [media(1, 1), media(2, 3)], profile="Default")
    with pytest.raises(UserError, match="profile Default"):
        lib.import_file(path, "d")
    result = lib.import_file(path, "d", scheme="uk")
    assert result.info.profile == "Default"
    assert [r["category"] for r in rows(lib, result.info.id)] == ["A", "C"]
    custom = vics_media(tmp_path / "custom.json", [media(1, 2)], profile="CUSTOM")
    with pytest.raises(UserError, match="profile CUSTOM"):
        lib.import_file(custom, "c")
    result = lib.import_file(custom, "c", scheme="custom")
    assert [r["category"] for r in rows(lib, result.info.id)] == ["X2"]


def test_vics_profile_fixes_the_scheme(lib: Library, tmp_path: Path) -> None:
    path = vics_media(tmp_path / "us.json", [media(1, 1)], profile="US")
    with pytest.raises(UserError, match="contradicts"):
        lib.import_file(path, "x", scheme="uk")
    assert lib.sets() == []


def test_vics_bad_records_are_rejected_one_by_one(lib: Library, tmp_path: Path) -> None:
    records: list[Any] = [
        media(1, 1),
        media(2, 6),  # not in the US table
        media(3, "two"),
        {"MediaID": 4, "MD5": "abc", "Category": 1},
        {"MediaID": 5, "MD5": "g" * 32},
        {"MediaID": 6, "Category": 1},
        "not an object",
        media(8, "4"),  # numeric text is a number
        {"MediaID": 9, "MD5": "d41d8cd98f00b204e9800998ecf8427e", "Category": 1},
    ]
    result = lib.import_file(vics_media(tmp_path / "bad.json", records), "bad")
    assert (result.read, result.imported, result.rejected) == (9, 2, 7)
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("record 2", "Category 6 is not defined for VICS profile US (scheme us)"),
        ("record 3", "Category 'two' is not a number"),
        ("record 4", "MD5 'abc' is not 32 hex digits"),
        ("record 5", f"MD5 '{'g' * 32}' is not 32 hex digits"),
        ("record 6", "no hash"),
        ("record 7", "Media record is not a JSON object"),
        ("record 9", "MD5 is the digest of the empty file"),
    ]
    assert [r["category"] for r in rows(lib, result.info.id)] == ["CAT-1", "CAT-4"]


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.99])
def test_truncated_vics_fails_whole_even_when_lenient(
    lib: Library, tmp_path: Path, cut: float
) -> None:
    whole = vics_media(tmp_path / "whole.json", [media(i, 1) for i in range(50)])
    data = whole.read_bytes()
    part = tmp_path / "part.json"
    part.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(UserError, match=r"record \d+: malformed or truncated JSON after record"):
        lib.import_file(part, "cut")
    assert lib.sets(include_removed=True) == []
    with lib.engine.connect() as conn:
        assert conn.execute(select(entries.c.id)).all() == []


def test_malformed_vics_header_fails_cleanly(lib: Library, tmp_path: Path) -> None:
    no_context = tmp_path / "nocontext.json"
    no_context.write_text('{"value": [], "@odata.context": "x/2.0.xml/US/$metadata#Media"}')
    with pytest.raises(UserError, match=r"no @odata\.context or odata\.metadata before 'value'"):
        lib.import_file(no_context, "n", fmt="vics")
    wrong_entity = tmp_path / "entity.json"
    ctx = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Things"
    wrong_entity.write_text(json.dumps({"@odata.context": ctx, "value": []}))
    with pytest.raises(UserError, match="entity set 'Things'"):
        lib.import_file(wrong_entity, "n")
    assert lib.sets() == []


def test_icse_csv(lib: Library, tmp_path: Path) -> None:
    path = icse(tmp_path / "icse.csv", [icse_row(1, "S1"), icse_row(2), "abc;def", icse_row(3)])
    result = lib.import_file(path, "icse")
    assert (result.info.format, result.info.scheme, result.info.known_good) == (
        "icse", "none", False,
    )  # fmt: skip
    assert (result.read, result.imported, result.rejected) == (4, 3, 1)
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("line 4", "2 fields, the header has 12")
    ]
    got = rows(lib, result.info.id)
    assert [(r["ref"], r["md5"], r["sha1"], r["category"]) for r in got] == [
        ("line 2", md5(1), sha1(1), None),
        ("line 3", md5(2), sha1(2), None),
        ("line 5", md5(3), sha1(3), None),
    ]
    assert got[0]["series"] == "S1"
    assert got[0]["extra"]["PhotoDNA"] == "AB" * 144
    assert got[0]["extra"]["Baseline"] == "true"
    assert got[0]["extra"]["Image ID"] == "1001"
    graded = lib.import_file(path, "icse", scheme="us", category="cat-1")
    assert graded.info.version == 2
    assert {r["category"] for r in rows(lib, graded.info.id)} == {"CAT-1"}


def test_nsrl_rdsv3_is_known_good_and_read_only(lib: Library, tmp_path: Path) -> None:
    path = nsrl(tmp_path / "RDS.db", [(1, 10), (2, 10), (1, 11), (3, 12)])
    before = path.read_bytes()
    result = lib.import_file(path, "nsrl")
    info = result.info
    assert (info.format, info.known_good, info.scheme, info.entries) == ("nsrl", True, "none", 3)
    # The same file in two packages is normal in NSRL: counted, not reported.
    assert (result.read, result.duplicates, result.problems) == (4, 1, ())
    got = rows(lib, info.id)
    assert [(r["ref"], r["md5"], r["sha1"], r["sha256"]) for r in got] == [
        ("FILE row 1", md5(1), sha1(1), sha256(1)),
        ("FILE row 2", md5(2), sha1(2), sha256(2)),
        ("FILE row 4", md5(3), sha1(3), sha256(3)),
    ]
    assert got[0]["extra"] == {"file_name": "file1.dll", "file_size": 101, "package_id": 10}
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RDS.db", "library"]


def test_sqlite_that_is_not_nsrl_fails(lib: Library, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(UserError, match="not an NSRL RDSv3 database"):
        lib.import_file(other, "x")


def test_plain_csv_with_header_and_scheme(lib: Library, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "list.csv",
        ["MD5", "SHA-1", "Category", "Series name", "Notes"],
        [
            [md5(1), sha1(1), "a", "S", "first"],
            [md5(2), "", "NI", "", ""],
            [md5(3), "", "D", "", ""],  # not a UK code
            [md5(4), ""],
            [md5(5), sha1(5), "", "", ""],
        ],
    )
    with pytest.raises(UserError, match="give --scheme"):
        lib.import_file(path, "csv")
    result = lib.import_file(path, "csv", scheme="uk")
    assert result.info.format == "csv"
    assert (result.read, result.imported, result.rejected) == (5, 3, 2)
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("line 4", "unknown category 'D' in scheme uk"),
        ("line 5", "2 fields, the header has 5"),
    ]
    got = rows(lib, result.info.id)
    assert [(r["ref"], r["md5"], r["sha1"], r["category"], r["series"]) for r in got] == [
        ("line 2", md5(1), sha1(1), "A", "S"),
        ("line 3", md5(2), None, "NI", None),
        ("line 6", md5(5), sha1(5), None, None),
    ]
    assert got[0]["extra"] == {"Notes": "first"}


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_plain_csv_delimiters(lib: Library, tmp_path: Path, delimiter: str) -> None:
    path = csv_file(
        tmp_path / "list.txt",
        ["sha256", "pdq", "grade"],
        [[sha256(1), "f" * 64, "CAT-2"], [sha256(2), "", "CAT-3"]],
        delimiter,
    )
    result = lib.import_file(path, "d", scheme="us")
    got = rows(lib, result.info.id)
    assert [(r["sha256"], r["pdq"], r["category"]) for r in got] == [
        (sha256(1), "f" * 64, "CAT-2"),
        (sha256(2), None, "CAT-3"),
    ]


def test_md5sum_lists(lib: Library, tmp_path: Path) -> None:
    path = tmp_path / "sums.txt"
    path.write_text(
        "# produced by md5sum\n"
        f"{md5(1)}  photo one.jpg\n"
        "\n"
        f"{sha1(2).upper()} *binary.bin\n"
        f"\\{sha256(3)}  line\\nbreak\\\\x\n"
        f"{md5(4)}\n"
        "12345  short.jpg\n"
        "not a hash line\n"
    )
    result = lib.import_file(path, "sums")
    assert (result.info.format, result.info.scheme) == ("md5list", "none")
    assert (result.read, result.imported, result.rejected) == (6, 4, 2)
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("line 7", "hash '12345' has 5 hex digits (32, 40 or 64)"),
        ("line 8", "not '<hash>  <name>': 'not a hash line'"),
    ]
    got = rows(lib, result.info.id)
    assert [(r["ref"], r["md5"], r["sha1"], r["sha256"]) for r in got] == [
        ("line 2", md5(1), None, None),
        ("line 4", None, sha1(2), None),
        ("line 5", None, None, sha256(3)),
        ("line 6", md5(4), None, None),
    ]
    assert [r["extra"] for r in got] == [
        {"name": "photo one.jpg"}, {"name": "binary.bin"}, {"name": "line\nbreak\\x"}, None,
    ]  # fmt: skip


def test_hostile_text_lines(lib: Library, tmp_path: Path) -> None:
    path = tmp_path / "hostile.txt"
    with path.open("wb") as out:
        out.write(f"{md5(1)}  ok\n".encode())
        out.write(b"f" * (2 << 20) + b"\n")  # a 2 MiB line is skipped, not read whole
        out.write(md5(2).encode()[:30] + b"\xff\xfe  bad-bytes\n")
        out.write(f"{md5(3)}  caf\xc3\xa9 \xff.jpg\n".encode("latin-1"))
    result = lib.import_file(path, "h", fmt="md5list")
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("line 2", "line longer than 1048576 bytes"),
        ("line 3", "not '<hash>  <name>': '" + md5(2)[:30] + "\ufffd\ufffd  bad-bytes'"),
    ]
    got = rows(lib, result.info.id)
    assert [(r["ref"], r["extra"]) for r in got] == [
        ("line 1", {"name": "ok"}),
        ("line 4", {"name": "café \ufffd.jpg"}),
    ]


def test_csv_quote_swallowing_lines_is_reported(lib: Library, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f'md5,category\n{md5(1)},A\n{md5(2)},"B\n{md5(3)},C\n')
    result = lib.import_file(path, "q", scheme="uk")
    assert [(p.ref, p.reason) for p in result.problems] == [
        ("line 3 (to 4)", "unknown category 'B\\n" + md5(3) + ",C' in scheme uk")
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.json", b'{"@odata.context": "x#Media", "value": []}', "vics"),
        ("b.json", b'\xef\xbb\xbf {"odata.metadata": "x"}', "vics"),
        ("c.csv", b"MD5;SHA1;PhotoDNA;Image ID;Is distributed\n", "icse"),
        ("d.csv", b"name,md5,category\nx,abc,A\n", "csv"),
        ("e.txt", ("# c\n" + md5(1) + "  a\n").encode(), "md5list"),
        ("f.db", b"SQLite format 3\x00" + b"\x00" * 100, "nsrl"),
    ],
)
def test_sniffing(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    name = formats.detect(path).NAME
    assert name == expected


def test_unrecognised_file(lib: Library, tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01 nothing here")
    with pytest.raises(UserError, match="format not recognised"):
        lib.import_file(path, "x")
    with pytest.raises(UserError, match="unknown hash-set format 'xml'"):
        lib.import_file(path, "x", fmt="xml")
