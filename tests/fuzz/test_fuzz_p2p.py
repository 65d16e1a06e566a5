"""Bencode, torrent and resume files, and eMule .met files: only their recorded errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unseen import plugins
from unseen.core.errors import EvidenceError
from unseen.internet.bencode import BencodeError, decode
from unseen.internet.parsers.emule import MetError

from .common import fuzz_settings, hostile, only
from .parsers import parse_bytes

plugins.load()


def bencode(value: object) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    assert isinstance(value, dict)
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"


values = st.recursive(
    st.integers(-(10**30), 10**30) | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.binary(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
TORRENT = bencode(
    {
        b"announce": b"http://tracker.invalid/announce",
        b"info": {
            b"name": b"holiday.jpg",
            b"length": 1234,
            b"piece length": 16384,
            b"pieces": b"\x01" * 20,
        },
    }
)


@fuzz_settings()
@given(values)
def test_bencode_round_trip(value: object) -> None:
    data = bencode(value)
    decoded = decode(data)
    assert (decoded.value, decoded.end) == (value, len(data))


@fuzz_settings(150)
@given(hostile(TORRENT, b"d4:infod6:lengthi1eee", b"l" * 100 + b"e" * 100))
def test_bencode_raises_only_bencode_error(data: bytes) -> None:
    only((BencodeError,), lambda: decode(data))


def _tag_str(name_id: int, value: bytes) -> bytes:
    return b"\x02\x01\x00" + bytes([name_id]) + len(value).to_bytes(2, "little") + value


def _entry() -> bytes:
    tags = [_tag_str(0x01, b"holiday.jpg"), b"\x03\x01\x00\x02" + (1234).to_bytes(4, "little")]
    return (
        (1_700_000_000).to_bytes(4, "little")
        + b"\xab" * 16
        + (0).to_bytes(2, "little")
        + len(tags).to_bytes(4, "little")
        + b"".join(tags)
    )


KNOWN_MET = b"\x0e" + (2).to_bytes(4, "little") + _entry() * 2
PART_MET = b"\xe0" + _entry()


@pytest.mark.parametrize(
    ("parser", "rel", "seed"),
    [
        ("emule_known_met", "eMule/config/known.met", KNOWN_MET),
        ("emule_part_met", "eMule/Temp/001.part.met", PART_MET),
        ("emule_search_strings", "eMule/config/AC_SearchStrings.dat", b"\xff\xfeh\x00i\x00"),
        ("torrent_file", "Downloads/a.torrent", TORRENT),
        ("utorrent_resume", "AppData/Roaming/uTorrent/resume.dat", bencode({b"a.torrent": {}})),
        ("libtorrent_fastresume", "BT_backup/abc.fastresume", bencode({b"info-hash": b"1" * 20})),
        ("transmission_resume", "transmission/resume/a.resume", bencode({b"name": b"a"})),
    ],
)
@fuzz_settings(60)
@given(data=st.data())
def test_p2p_parsers_raise_only_recorded_errors(
    parser: str, rel: str, seed: bytes, data: st.DataObject, tmp_path: Path
) -> None:
    payload = data.draw(hostile(seed))
    only((EvidenceError, MetError), lambda: parse_bytes(parser, tmp_path, rel, payload))
