"""Disk layers (volume systems and file systems read through The Sleuth Kit, virtual
disks and EWF) on damaged images, each example in a child process.

The native libraries run in our process, so a hostile image could crash it outright
(a segfault is no exception Python can record): every example runs in a forked child,
and the property is that the child ends normally, having raised at most the errors the
reader contract allows (``EvidenceError`` on opening and listing, ``OSError`` or
``EvidenceError`` on reading a member), within the hang guard. Seeds are small images
made by the real tools (mkfs.vfat + mtools, mke2fs, mkntfs, sfdisk); edits go to their
first 64 KiB, where the boot sectors, tables and directories lie.
"""

from __future__ import annotations

import io
import multiprocessing
import shutil
import subprocess
import tempfile
import traceback
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unseen import plugins
from unseen.core.errors import EvidenceError
from unseen.sources.containers import CONTAINERS, Limits

from . import common
from .common import HANG_SECONDS, fuzz_settings, mutated

plugins.load()
HEAD = 64 * 1024
MEMBERS = 20
READ = 64 * 1024
LIMITS = Limits(max_members=1000, max_expanded=16 * 1024 * 1024)
FILES = {"a.txt": b"benign text\n" * 40, "b.bin": bytes(range(256)) * 8}


def _run(*cmd: str | Path, stdin: bytes | None = None) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, input=stdin)


def _fat(folder: Path) -> bytes:
    image = folder / "fat.img"
    _run("mkfs.vfat", "-C", image, "1440")
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
        _run("mcopy", "-i", image, folder / name, f"::/{name}")
    _run("mdel", "-i", image, "::/b.bin")  # a deleted entry for TSK to find
    return image.read_bytes()


def _ext2(folder: Path) -> bytes:
    src, image = folder / "src", folder / "ext2.img"
    src.mkdir()
    for name, data in FILES.items():
        (src / name).write_bytes(data)
    _run("mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", "-d", src, image, "512")
    return image.read_bytes()


def _ntfs(folder: Path) -> bytes:
    image = folder / "ntfs.img"
    _run("truncate", "-s", "2M", image)
    _run("mkntfs", "-q", "-F", "-f", image)
    return image.read_bytes()


def _mbr(fat: bytes) -> bytes:
    """An MBR disk whose one partition (sector 64) is the FAT image."""
    disk = bytearray(64 * 512) + bytearray(fat)
    table = f"label: dos\nstart=64, size={len(fat) // 512}, type=c\n".encode()
    with tempfile.NamedTemporaryFile() as tmp:
        tmp.write(bytes(disk))
        tmp.flush()
        _run("sfdisk", "-q", tmp.name, stdin=table)
        return Path(tmp.name).read_bytes()


@cache
def seeds() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    folder = Path(tempfile.mkdtemp(prefix="unseen-fuzz-disks-"))
    try:
        if shutil.which("mkfs.vfat") and shutil.which("mcopy"):
            out["fat"] = _fat(folder)
            if shutil.which("sfdisk"):
                out["mbr"] = _mbr(out["fat"])
        if shutil.which("mke2fs"):
            out["ext2"] = _ext2(folder)
        if shutil.which("mkntfs"):
            out["ntfs"] = _ntfs(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def damaged(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with a few edits in its first ``HEAD`` bytes (the rest kept), or cut short."""
    head = mutated(seed[:HEAD]).map(lambda h: h + seed[HEAD:])
    cut = st.integers(0, len(seed)).map(lambda n: seed[:n])
    return st.one_of(head, head, head, cut)


def read_everything(reader_name: str, data: bytes) -> None:
    common.read_everything(reader_name, data, LIMITS, MEMBERS, READ)


def _child(reader_name: str, data: bytes, out: Connection) -> None:
    try:
        read_everything(reader_name, data)
    except EvidenceError:
        pass
    except BaseException:  # a finding: what escaped, for the report
        out.send(traceback.format_exc())
        return
    out.send("")


def in_child(reader_name: str, data: bytes) -> str:
    """Read ``data`` in a forked child; '' if it ended as the contract allows, else why not."""
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(reader_name, data, theirs))
    child.start()
    theirs.close()
    child.join(HANG_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()
        return f"no result within {HANG_SECONDS} s"
    if child.exitcode != 0:
        return f"the child died with exit code {child.exitcode} (a native crash)"
    return mine.recv() if mine.poll() else "the child ended without a word"


@pytest.mark.parametrize("seed", ["fat", "mbr", "ext2", "ntfs"])
@fuzz_settings(25)
@given(data=st.data())
def test_disk_layers_survive_damaged_images(seed: str, data: st.DataObject) -> None:
    if "disk" not in CONTAINERS.names() or seed not in seeds():
        pytest.skip(f"{seed}: the disk extra or the tool that makes the seed is missing")
    assert in_child("disk", data.draw(damaged(seeds()[seed]))) == ""


def test_the_seeds_are_read_whole() -> None:
    """The undamaged seeds list their files: the harness exercises real parsing."""
    if "disk" not in CONTAINERS.names():
        pytest.skip("the disk extra is missing")
    for name in ("fat", "ext2"):
        reader = CONTAINERS.get("disk")(io.BytesIO(seeds()[name]))
        paths = {m.entry.path.rsplit("/", 1)[-1] for m in reader.members(LIMITS)}
        assert "a.txt" in paths, (name, sorted(paths))
