"""P2P parsers: eMule .met files written byte by byte, bencoded BitTorrent files."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from unseen.internet.bencode import BencodeError, decode

from .builders import (
    bencode,
    known_met,
    met_entry,
    tag_str,
    tag_str_short,
    tag_u32,
    tag_u64,
)
from .helpers import row_dict, run

EMULE = "Users/alex/AppData/Local/eMule/config"
HASH_A = bytes.fromhex("00112233445566778899aabbccddeeff")
HASH_B = bytes.fromhex("ffeeddccbbaa99887766554433221100")
DATE = 1_709_287_200  # 2024-03-01T10:00:00Z


def two_entries() -> list[bytes]:
    first = met_entry(
        DATE,
        HASH_A,
        [
            tag_str(0x01, "holiday-plans.pdf"),  # old-style tags: uint16 name length 1
            tag_u32(0x02, 123_456, short=False),
            tag_u32(0x50, 500_000),  # uploaded, low 32 bits
            tag_u32(0x54, 1),  # uploaded, high 32 bits
            tag_u32(0x51, 7),
            tag_u32(0x52, 5),  # requests, accepted
            tag_u32(0x34, DATE + 86_400),  # last shared
        ],
        parts=2,
    )
    second = met_entry(
        DATE + 60,
        HASH_B,
        [
            tag_str_short(0x01, "song.ogg"),  # STRn short string
            tag_u64(0x02, 5_000_000_000),  # a 64-bit size
            bytes([0x07 | 0x80, 0x99]) + struct.pack("<I", 3) + b"xyz",  # an unknown blob tag
        ],
    )
    return [first, second]


def test_known_met(tmp_path: Path) -> None:
    (tmp_path / EMULE).mkdir(parents=True)
    (tmp_path / EMULE / "known.met").write_bytes(known_met(two_entries()))
    parsed = run("emule_known_met", tmp_path, f"{EMULE}/known.met")
    assert parsed.errors == ()
    assert len(parsed.rows) == 2
    first = row_dict(parsed.rows[0])
    assert first == {
        "type": "p2p.shared_file",
        "parser": "emule_known_met",
        "parser_version": "1",
        "ts_utc": "2024-03-01T10:00:00.000000Z",
        "ts_raw": str(DATE),
        "ts_epoch": "unix_s",
        "record_ref": "entry 0 @ offset 5",
        "data": {
            "client": "eMule",
            "name": "holiday-plans.pdf",
            "size": 123_456,
            "ed2k": HASH_A.hex(),
            "transferred": 500_000 + (1 << 32),
            "requests": 7,
            "accepted": 5,
            "last_shared_utc": "2024-03-02T10:00:00.000000Z",
            "part_hashes": 2,
        },
        "signals": (("ed2k", HASH_A.hex()),),
    }
    second = row_dict(parsed.rows[1])["data"]
    assert (second["name"], second["size"], second["ed2k"]) == (
        "song.ogg",
        5_000_000_000,
        HASH_B.hex(),
    )


def test_truncated_known_met_keeps_whole_entries(tmp_path: Path) -> None:
    (tmp_path / EMULE).mkdir(parents=True)
    data = known_met(two_entries())
    (tmp_path / EMULE / "known.met").write_bytes(data[:-5])
    parsed = run("emule_known_met", tmp_path, f"{EMULE}/known.met")
    assert len(parsed.rows) == 1
    assert parsed.outcome.status == "ok"
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("entry 1 at offset ")


def test_hostile_known_met(tmp_path: Path) -> None:
    (tmp_path / EMULE).mkdir(parents=True)
    target = tmp_path / EMULE / "known.met"
    # Claims four billion entries in a few bytes.
    target.write_bytes(bytes([0x0E]) + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 30)
    parsed = run("emule_known_met", tmp_path, f"{EMULE}/known.met")
    assert parsed.errors[0] == "header claims 4294967295 entries; at most 1 can fit"
    target.write_bytes(b"\x42" + b"\0" * 100)
    assert run("emule_known_met", tmp_path, f"{EMULE}/known.met").errors == (
        "not a known.met file (bad header byte)",
    )


def test_part_met(tmp_path: Path) -> None:
    temp = tmp_path / "Users/alex/AppData/Local/eMule/Temp"
    temp.mkdir(parents=True)
    entry = met_entry(
        DATE,
        HASH_B,
        [
            tag_str(0x01, "big-film.mkv"),
            tag_u32(0x02, 700_000_000),
            tag_str(0x12, "001.part"),
            tag_u32(0x08, 350_000_000),
        ],
    )
    (temp / "001.part.met").write_bytes(bytes([0xE0]) + entry)
    parsed = run("emule_part_met", tmp_path, "Users/alex/AppData/Local/eMule/Temp/001.part.met")
    (row,) = parsed.rows
    assert row_dict(row)["data"] == {
        "client": "eMule",
        "name": "big-film.mkv",
        "size": 700_000_000,
        "ed2k": HASH_B.hex(),
        "part_file": "001.part",
        "downloaded": 350_000_000,
    }
    (temp / "002.part.met").write_bytes(bytes([0xE0]) + entry[:30])
    broken = run("emule_part_met", tmp_path, "Users/alex/AppData/Local/eMule/Temp/002.part.met")
    assert broken.outcome.status == "failed"
    assert broken.errors[0].startswith("truncated or corrupt part.met: data ends at offset 31")


def test_search_strings(tmp_path: Path) -> None:
    (tmp_path / EMULE).mkdir(parents=True)
    text = "\ufeffgarden shed plans\r\nbird box\r\n\r\n"
    (tmp_path / EMULE / "AC_SearchStrings.dat").write_bytes(text.encode("utf-16-le"))
    parsed = run("emule_search_strings", tmp_path, f"{EMULE}/AC_SearchStrings.dat")
    assert [(row_dict(r)["record_ref"], row_dict(r)["data"]["terms"]) for r in parsed.rows] == [
        ("line 1", "garden shed plans"),
        ("line 2", "bird box"),
    ]


# -- BitTorrent ---------------------------------------------------------------------

PIECES = hashlib.sha1(b"piece one").digest() + hashlib.sha1(b"piece two").digest()


def test_torrent_info_hash_is_of_the_raw_info_bytes(tmp_path: Path) -> None:
    # Keys deliberately out of order: re-encoding would reorder them and change the hash.
    files = [{"length": 40_000, "path": ["a.txt"]}, {"length": 100, "path": ["sub", "b.txt"]}]
    info_raw = b"".join(
        [
            b"d",
            bencode("name"),
            bencode("photos-2024"),
            bencode("piece length"),
            bencode(32_768),
            bencode("pieces"),
            bencode(PIECES),
            bencode("files"),
            bencode(files),
            b"e",
        ]
    )
    data = b"".join(
        [
            b"d",
            bencode("announce"),
            bencode("http://tracker.invalid/ann"),
            bencode("creation date"),
            bencode(1_709_287_200),
            bencode("info"),
            info_raw,
            b"e",
        ]
    )
    target = tmp_path / "Users/alex/Downloads/photos.torrent"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    parsed = run("torrent_file", tmp_path, "Users/alex/Downloads/photos.torrent")
    assert parsed.errors == ()
    (row,) = parsed.rows
    record = row_dict(row)
    expected = hashlib.sha1(info_raw).hexdigest()
    assert expected != hashlib.sha1(bencode(decode(info_raw).value)).hexdigest()
    assert record["ts_utc"] is None  # a torrent's creation date is not the user's activity
    assert record["data"] == {
        "client": "torrent file",
        "origin": "torrent_file",
        "name": "photos-2024",
        "info_hash": expected,
        "info_hash_v2": None,
        "save_path": None,
        "completed_utc": None,
        "downloaded": None,
        "uploaded": None,
        "total_size": 40_100,
        "file_count": 2,
        "files": [["a.txt", 40_000], ["sub/b.txt", 100]],
        "piece_length": 32_768,
        "first_piece_sha1": hashlib.sha1(b"piece one").hexdigest(),
        "label": None,
        "trackers": ["http://tracker.invalid/ann"],
        "comment": None,
        "created_by": None,
        "created_utc": "2024-03-01T10:00:00.000000Z",
    }
    assert record["signals"] == (("btih", expected),)


def test_hybrid_v2_torrent_has_both_hashes(tmp_path: Path) -> None:
    info = {
        "name": "notes",
        "piece length": 16384,
        "pieces": PIECES,
        "length": 20_000,
        "meta version": 2,
        "file tree": {"notes": {"": {"length": 20_000, "pieces root": b"\1" * 32}}},
    }
    target = tmp_path / "notes.torrent"
    target.write_bytes(bencode({"info": info}))
    (row,) = run("torrent_file", tmp_path, "notes.torrent").rows
    data = row_dict(row)["data"]
    assert data["info_hash"] == hashlib.sha1(bencode(info)).hexdigest()
    assert data["info_hash_v2"] == hashlib.sha256(bencode(info)).hexdigest()
    assert data["files"] == [["notes", 20_000]]


def test_utorrent_resume_dat(tmp_path: Path) -> None:
    resume = {
        ".fileguard": "ABCDEF",
        "rec": {"x": 1},
        "Ubuntu Docs.torrent": {
            "added_on": 1_709_287_200,
            "completed_on": 1_709_290_800,
            "caption": "Ubuntu Docs",
            "downloaded": 5_000,
            "uploaded": 12_000,
            "path": "C:\\Users\\alex\\Downloads\\Ubuntu Docs",
            "info": bytes(range(20)),
            "label": "docs",
            "trackers": ["udp://tracker.invalid:80"],
        },
    }
    target = tmp_path / "Users/alex/AppData/Roaming/uTorrent/resume.dat"
    target.parent.mkdir(parents=True)
    target.write_bytes(bencode(resume))
    parsed = run("utorrent_resume", tmp_path, "Users/alex/AppData/Roaming/uTorrent/resume.dat")
    (row,) = parsed.rows
    record = row_dict(row)
    assert record["record_ref"] == "key Ubuntu Docs.torrent"
    assert record["ts_utc"] == "2024-03-01T10:00:00.000000Z"
    data = record["data"]
    assert (data["client"], data["name"], data["info_hash"]) == (
        "uTorrent",
        "Ubuntu Docs",
        bytes(range(20)).hex(),
    )
    assert (data["downloaded"], data["uploaded"], data["label"]) == (5_000, 12_000, "docs")
    assert data["completed_utc"] == "2024-03-01T11:00:00.000000Z"
    assert data["save_path"] == "C:\\Users\\alex\\Downloads\\Ubuntu Docs"


def test_qbittorrent_and_deluge_fastresume(tmp_path: Path) -> None:
    resume = {
        "file-format": "libtorrent resume file",
        "info-hash": b"\xaa" * 20,
        "info-hash2": b"\xbb" * 32,
        "qBt-name": "Maps",
        "save_path": "/home/alex/Downloads",
        "added_time": 1_709_287_200,
        "completed_time": 0,
        "total_downloaded": 1,
        "total_uploaded": 2,
        "qBt-category": "maps",
    }
    qbt = "home/alex/.local/share/qBittorrent/BT_backup/" + "aa" * 20 + ".fastresume"
    (tmp_path / qbt).parent.mkdir(parents=True)
    (tmp_path / qbt).write_bytes(bencode(resume))
    (row,) = run("libtorrent_fastresume", tmp_path, qbt).rows
    data = row_dict(row)["data"]
    assert (data["client"], data["name"], data["info_hash"], data["info_hash_v2"]) == (
        "qBittorrent",
        "Maps",
        "aa" * 20,
        "bb" * 32,
    )
    assert (data["save_path"], data["label"], data["completed_utc"]) == (
        "/home/alex/Downloads",
        "maps",
        None,
    )
    deluge = "home/alex/.config/deluge/state/torrents.fastresume"
    (tmp_path / deluge).parent.mkdir(parents=True)
    (tmp_path / deluge).write_bytes(bencode({"aa" * 20: bencode(resume), "cc" * 20: b"junk"}))
    parsed = run("libtorrent_fastresume", tmp_path, deluge)
    assert [row_dict(r)["data"]["client"] for r in parsed.rows] == ["Deluge"]
    assert parsed.outcome.status == "failed"  # the second blob is not bencode
    assert parsed.errors == ("malformed bencode at offset 0: unexpected byte b'j'",)


def test_transmission_resume(tmp_path: Path) -> None:
    path = "home/alex/.config/transmission/resume/" + "ab" * 20 + ".resume"
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_bytes(
        bencode(
            {
                "added-date": 1_709_287_200,
                "done-date": 1_709_287_260,
                "destination": "/home/alex/Videos",
                "name": "Lecture 1",
                "downloaded": 10,
                "uploaded": 20,
            }
        )
    )
    (row,) = run("transmission_resume", tmp_path, path).rows
    data = row_dict(row)["data"]
    assert (data["info_hash"], data["name"], data["save_path"]) == (
        "ab" * 20,
        "Lecture 1",
        "/home/alex/Videos",
    )
    assert data["completed_utc"] == "2024-03-01T10:01:00.000000Z"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"d4:infod",
            "malformed bencode at offset 8: dictionary not terminated before the end of data",
        ),
        (b"d4:info99:abce", "malformed bencode at offset 7: string of 99 bytes runs past the end"),
        (b"di1e1:ae", "malformed bencode at offset 1: dictionary key is not a string"),
        (b"l" * 100 + b"e" * 100, "malformed bencode at offset 65: nested deeper than 64"),
        (b"i12x3e", "malformed bencode at offset 0: bad integer b'12x3'"),
        (b"", "malformed bencode at offset 0: unexpected end of data"),
    ],
)
def test_malformed_bencode_is_recorded(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "bad.torrent").write_bytes(data)
    parsed = run("torrent_file", tmp_path, "bad.torrent")
    assert parsed.outcome.status == "failed"
    assert parsed.errors == (message,)
    with pytest.raises(BencodeError):
        decode(data)


def test_dropbox_accounts(tmp_path: Path) -> None:
    path = "Users/alex/AppData/Local/Dropbox/info.json"
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(
        '{"personal": {"path": "C:\\\\Users\\\\alex\\\\Dropbox", "host": 123, "is_team": false},'
        ' "business": {"path": "C:\\\\Users\\\\alex\\\\Dropbox (Acme)", "team_name": "Acme"}}'
    )
    parsed = run("dropbox_info", tmp_path, path)
    assert [(row_dict(r)["record_ref"], row_dict(r)["data"]) for r in parsed.rows] == [
        ("key personal", {"service": "Dropbox", "account": "personal",
                          "detail": "sync folder C:\\Users\\alex\\Dropbox"}),
        ("key business", {"service": "Dropbox", "account": "business",
                          "detail": "sync folder C:\\Users\\alex\\Dropbox (Acme), team Acme"}),
    ]  # fmt: skip
    (tmp_path / path).write_text("{not json")
    assert run("dropbox_info", tmp_path, path).outcome.status == "failed"
