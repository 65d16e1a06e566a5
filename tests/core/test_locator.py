"""Typed locators: every hop kind reads back to the same bytes, and a case keeps the
bytes the untyped chain wrote (so cases made before open and export the same)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from unseen import plugins
from unseen.core.locator import (
    MEMBERS,
    Address,
    ArchiveMember,
    Carved,
    Decrypted,
    DiskAddress,
    FsEntry,
    Hop,
    InLogical,
    InSnapshot,
    LibyalEntry,
    Locator,
    LocatorError,
    Root,
    TarMember,
    Unallocated,
    Unlisted,
    Volume,
    address_of,
    escape,
    unescape,
)
from unseen.core.models import Entry
from unseen.engine.runner import process_case
from unseen.sources import verify
from unseen.sources.base import detect_kind
from unseen.sources.containers import ReaderCache, located
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

HOSTILE = "na\x00me\x01odd\x0130 \udcff\udcfe/../x"  # NUL, 0x01, an escape look-alike, non-UTF-8

ADDRESSES: list[tuple[str, Address, bytes]] = [
    ("zip", ArchiveMember(3, "photos/x.jpg"), b"3:photos/x.jpg"),
    ("7z", ArchiveMember(0, ""), b"0:"),
    ("rar", ArchiveMember(12, "a:b:c"), b"12:a:b:c"),
    ("zip", ArchiveMember(1, HOSTILE), b"1:na\x00me\x01odd\x0130 \xff\xfe/../x"),
    ("tar", TarMember(1536, "dir/y.png"), b"1536:dir/y.png"),
    ("disk", FsEntry(1048576, 12), b"f1048576:i12"),
    ("disk", FsEntry(0, 64, (128, 4)), b"f0:i64:a128-4"),
    ("ewf", FsEntry(0, 64, (128, 4), 3), b"f0:i64:a128-4:n3"),
    ("vdisk", FsEntry(512, 7, None, 2), b"f512:i7:n2"),
    ("disk", Carved(2097152, 4096), b"c2097152:4096"),
    ("disk", Volume(1048576), b"v1048576"),
    ("disk", Unallocated(1048576), b"v1048576:u"),
    ("disk", Unlisted("p1/Users/jo"), b"dp1/Users/jo"),
    ("disk", Unlisted("p1/a:n9", 2), b"dp1/a:n9:n2"),
    ("disk", Unlisted("."), b"d."),
    ("disk", Decrypted(1048576, FsEntry(0, 5)), b"e1048576/f0:i5"),
    ("disk", Decrypted(1, Decrypted(2, Carved(3, 4))), b"e1/e2/c3:4"),
    ("disk", InLogical(1048576, 0, FsEntry(0, 5)), b"m1048576:0/f0:i5"),
    ("vdisk", InSnapshot(1048576, 2, FsEntry(0, 64, (128, 4))), b"s1048576:2/f0:i64:a128-4"),
    ("disk", InSnapshot(0, 0, Volume(0)), b"s0:0/v0"),
    (
        "ewf",
        Decrypted(1, InLogical(2, 3, InSnapshot(4, 5, LibyalEntry(6, 0, 7)))),
        b"e1/m2:3/s4:5/y6:v0:i7",
    ),
    ("disk", LibyalEntry(1048576, 0, 42), b"y1048576:v0:i42"),
    ("disk", LibyalEntry(0, 2, 7, None, 2), b"y0:v2:i7:n2"),
    ("disk", LibyalEntry(0, 1, 0, "p1/apfs2/Users"), b"y0:v1:i0:dp1/apfs2/Users"),
]


@pytest.mark.parametrize(("fmt", "address", "raw"), ADDRESSES)
def test_every_address_kind_writes_and_reads_its_bytes(
    fmt: str, address: Address, raw: bytes
) -> None:
    assert address.encode() == raw
    assert address_of(fmt, raw) == address
    inner = Locator.parse(b"Users/jo/a\x01b.zip").child("zip", b"0:inner")
    hop = inner.child(fmt, address)
    stored = b"Users/jo/a\x01b.zip\x00zip:0:inner\x00" + fmt.encode() + b":" + escape(raw)
    assert hop.to_bytes() == stored
    assert Locator.parse(stored) == hop
    assert (hop.depth, hop.parent, hop.fmt, hop.member) == (2, inner, fmt, address)
    assert hop.root == Root(b"Users/jo/a\x01b.zip")
    assert [h.fmt for h in hop.hops()] == ["zip", fmt]
    assert b"\x00" not in Root.around(address).raw
    assert Root.around(address).member(fmt) == address


def test_the_registry_names_every_container_reader() -> None:
    from unseen.sources.containers import CONTAINERS

    plugins.load()
    assert {cls.NAME for cls in CONTAINERS} <= set(MEMBERS)
    assert MEMBERS["tar"] is TarMember and MEMBERS["disk"] is DiskAddress


def test_escaping_round_trips_hostile_bytes() -> None:
    for raw in (
        b"",
        b"\x00",
        b"\x01",
        b"\x010",
        b"\x011",
        b"\x00\x01\x00\x01\x01",
        bytes(range(256)),
    ):
        assert unescape(escape(raw)) == raw
        assert b"\x00" not in escape(raw)


@pytest.mark.parametrize(
    "stored",
    [
        b"r\x00zip",  # no format separator
        b"r\x00:0:x",  # no format
        b"r\x00z-p:0:x",  # a format that is no name
        b"r\x00cab:0:x",  # a format no reader states
        b"r\x00zip:x",  # no index
        b"r\x00zip:03:x",  # not a canonical number (would not write back the same)
        b"r\x00zip:-1:x",
        b"r\x00tar:1e3:x",
        b"r\x00zip:0:a\x01",  # escape cut short
        b"r\x00zip:0:a\x012b",  # escape of nothing
        b"r\x00disk:",
        b"r\x00disk:f1:i",
        b"r\x00disk:f1:i2:a3",
        b"r\x00disk:f1:i2:n1:a3-4",  # parts out of order
        b"r\x00disk:f1:i2:n0",
        b"r\x00disk:c1",
        b"r\x00disk:v1:x",
        b"r\x00disk:e1/",
        b"r\x00disk:e1f1:i2",
        b"r\x00disk:m1/f0:i5",  # no logical volume number
        b"r\x00disk:s1:02/f0:i5",
        b"r\x00disk:s1:2/",
        b"r\x00disk:d\xff",  # folder paths are UTF-8
        b"r\x00disk:y1:v2",
        b"r\x00disk:q1",
        b"r\x00tar:0:x\x00disk:\xff",
    ],
)
def test_malformed_stored_bytes_are_an_error_not_a_crash(stored: bytes) -> None:
    with pytest.raises(LocatorError):
        Locator.parse(stored)
    # What opening does with it: an OSError, which the item records as unreadable.
    cache = ReaderCache(lambda raw: io.BytesIO(raw))
    with pytest.raises(OSError):
        cache.open(stored)


def test_depth_and_parents_of_a_deep_chain() -> None:
    at: Locator = Root(b"evidence.zip")
    assert (at.depth, at.parent) == (0, None)
    for k in range(20):
        at = at.child("zip", ArchiveMember(k, f"{k}.zip"))
    assert at.depth == 20
    assert isinstance(at, Hop) and isinstance(at.parent, Hop)
    assert at.parent.member == ArchiveMember(18, "18.zip")
    assert Locator.parse(at.to_bytes()) == at
    # Hostile nesting in stored bytes is refused, not recursed into.
    deep = b"r\x00disk:" + b"e1/" * 16 + b"c1:2"
    assert Locator.parse(deep).to_bytes() == deep
    with pytest.raises(LocatorError, match="nested too deep"):
        Locator.parse(b"r\x00disk:" + b"e1/" * 5000 + b"c1:2")
    with pytest.raises(LocatorError, match="more than 200 containers deep"):
        Locator.parse(b"r" + b"\x00zip:0:a" * 201)
    assert Locator.parse(b"r" + b"\x00zip:0:a" * 200).depth == 200


def test_a_hop_holds_only_the_address_kind_of_its_format() -> None:
    with pytest.raises(LocatorError, match="is not an address of kind ArchiveMember"):
        Root(b"x").child("zip", TarMember(0, "a"))
    with pytest.raises(LocatorError, match="unknown container format 'cab'"):
        Root(b"x").child("cab", ArchiveMember(0, "a"))


def test_a_member_address_its_format_does_not_state_is_recorded_on_the_item() -> None:
    entry = Entry("odd", b"zz9", size=3)
    inside = located(entry, "disk", Root(b"disk.img"))
    assert inside.locator == b"disk.img\x00disk:zz9"
    assert inside.kind == "other"
    assert inside.errors == (
        "member address not understood (malformed disk member address); content not read",
    )
    top = located(Entry("ok", b"f0:i5"), "disk", None)
    assert (top.locator, top.errors) == (b"f0:i5", ())


def test_a_reader_given_another_reader_s_address_refuses_it() -> None:
    from unseen.sources.archives import ZipReader

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("a.txt", b"abc")
    reader = ZipReader(data)
    assert reader.open_member(ArchiveMember(0, "a.txt")).read() == b"abc"
    assert reader.open_member(b"0:a.txt").read() == b"abc"  # as listed
    with pytest.raises(OSError, match="malformed archive member address"):
        reader.open_member(b"f0:i5")
    with pytest.raises(OSError, match="is not an address of kind ArchiveMember"):
        reader.open_member(FsEntry(0, 5))
    with pytest.raises(OSError, match="no such member"):
        reader.open_member(ArchiveMember(0, "b.txt"))


# ------------------------------------------------------------- cases made before


def _old_escape(raw: bytes) -> bytes:
    """The escaping the untyped chain used (copied, not imported)."""
    return raw.replace(b"\x01", b"\x011").replace(b"\x00", b"\x010")


def _old_nest(container: bytes, fmt: str, member: bytes) -> bytes:
    return container + b"\x00" + fmt.encode("ascii") + b":" + _old_escape(member)


_OLD_DISK = re.compile(rb"f(\d+):i(\d+)(?::a(\d+)-(\d+))?(?::n\d+)?|c\d+:\d+|v\d+(:u)?|d.+")


def _run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def _fat(path: Path, files: dict[str, bytes], delete: list[str]) -> None:
    for tool in ("mkfs.vfat", "mcopy", "mdel"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (make test installs it via APT_PACKAGES)")
    _run("truncate", "-s", "34M", path)
    _run("mkfs.vfat", "-F", "32", "-n", "LOCATORS", path)
    for name, data in files.items():
        src = path.parent.parent / "src" / name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(data)
        _run("mcopy", "-i", path, src, f"::/{name}")
    for name in delete:
        _run("mdel", "-i", path, f"::/{name}")


def _tar(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20)), data)
    return out.getvalue()


def test_a_case_keeps_the_locator_bytes_the_untyped_chain_wrote(tmp_path: Path) -> None:
    """Archives inside a disk image inside a folder, and the same image as a source:
    every stored locator is what the untyped byte chain wrote for it, so cases made
    by earlier versions (and their thumbnails and ledgers, keyed on it) stay valid
    without a migration."""
    plugins.load()
    inner = _tar({"x.txt": b"inner text\n", "we\x01ird.txt": b"odd name\n"})
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    image = evidence / "disk.img"
    _fat(
        image,
        {"a.zip": _zip({"inner.tar": inner}), "b.txt": b"b\n", "gone.txt": b"g\n"},
        ["gone.txt"],
    )
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copyfile(image, alone / "disk.img")
    case = Case.create(tmp_path / "case", name="LOC", examiner="Test Examiner")
    for path in (evidence, alone / "disk.img"):
        spec = repo.add_source(case, detect_kind(path), str(path), path.name, "Test Examiner")
        verify.record(case, spec)
    process_case(case, workers=0)
    with case.engine.connect() as conn:
        rows = conn.execute(select(s.items.c.source_id, s.items.c.path, s.items.c.locator)).all()
    stored = {(r.source_id, r.path): bytes(r.locator) for r in rows}
    folder, raw = sorted({r.source_id for r in rows})

    # The chain written by the untyped helpers, hop by hop.
    assert stored[(folder, "disk.img")] == b"disk.img"
    zipped = stored[(folder, "disk.img!a.zip")]
    found = re.fullmatch(rb"disk\.img\x00disk:f0:i(\d+)", zipped)
    assert found, zipped
    tar_at = _old_nest(zipped, "zip", b"0:inner.tar")
    assert stored[(folder, "disk.img!a.zip!inner.tar")] == tar_at
    odd_at = 512 + 512  # the second TAR header: after one header and one block of data
    assert stored[(folder, "disk.img!a.zip!inner.tar!x.txt")] == _old_nest(
        tar_at, "tar", b"0:x.txt"
    )
    assert stored[(folder, "disk.img!a.zip!inner.tar!we\\x01ird.txt")] == _old_nest(
        tar_at, "tar", b"%d:we\x01ird.txt" % odd_at
    )
    assert (
        b"tar:1024:we\x011ird.txt" in stored[(folder, "disk.img!a.zip!inner.tar!we\\x01ird.txt")]
    )
    # The image as a source: its members' roots are the escaped member addresses.
    assert stored[(raw, "a.zip")] == b"f0:i" + found[1]
    assert stored[(raw, "a.zip!inner.tar")] == _old_nest(b"f0:i" + found[1], "zip", b"0:inner.tar")
    assert re.fullmatch(rb"f0:i\d+", stored[(raw, "_one.txt")])  # deleted: FAT marks the name
    assert sorted(path for source, path in stored if source == raw) == [
        "_one.txt",
        "a.zip",
        "a.zip!inner.tar",
        "a.zip!inner.tar!we\\x01ird.txt",
        "a.zip!inner.tar!x.txt",
        "b.txt",
    ]

    # Every stored locator: the old framing and disk regexes read it, the typed model
    # reads the same hops and writes the same bytes.
    assert len(stored) > 12
    for (source, path), loc in stored.items():
        typed = Locator.parse(loc)
        assert typed.to_bytes() == loc, path
        first, *parts = loc.split(b"\x00")
        assert typed.root.raw == first
        for hop, part in zip(typed.hops(), parts, strict=True):
            fmt, _, member = part.partition(b":")
            assert (hop.fmt.encode(), _old_escape(hop.member.encode())) == (fmt, member)
            if hop.fmt == "disk":
                assert _OLD_DISK.fullmatch(hop.member.encode()), path
        if source == raw and first:
            assert _OLD_DISK.fullmatch(typed.root.member("disk").encode()), path
