"""Hostile evidence: every item still appears, with its hashes and a clear error.

The folder is processed by the real program (``unseen process --workers 2``) and, for
comparison, in-process by the library: both must give the same records.
"""

from __future__ import annotations

import ctypes
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unseen.engine.runner import enumerate_sources, process_case
from unseen.store import repo
from unseen.store.case import Case

from .casework import LABEL, by_path, cli, cli_export, export, library_case, spine_errors
from .evidence import (
    ATIME_NS,
    MTIME_NS,
    digests,
    jpeg,
    make_deep_dirs,
    png_bomb,
    settle_links,
    tiff_bomb,
    write,
    write_at,
)

GOOD = jpeg(320, 240, 1)
TRUNCATED = GOOD[: len(GOOD) * 6 // 10]
RANDOM = np.random.default_rng(5).bytes(4096)
BOMB_PNG = png_bomb(100_000, 100_000)
DEEP = ["d"] * 300  # 300 levels, 600 bytes of path
LONG = ["x" * 200] * 25  # 25 levels of 200-byte names: 5025 bytes, past PATH_MAX (4096)
DEEP_PATH = "/".join(DEEP) + "/leaf.txt"
LONG_PATH = "/".join(LONG) + "/far.txt"
LONG_LINK = "/".join(LONG) + "/link"
NOT_UTF8 = "listing: file name is not valid UTF-8; undecodable bytes shown as \\xNN"
BOMB_TIFF = tiff_bomb(3_000_000_000)


def build_hostile(root: Path) -> None:
    """One folder holding one of each kind of trouble, next to a good picture."""
    write(root / "good.jpg", GOOD)
    write(root / "empty.bin", b"")
    write(root / "empty.jpg", b"")
    write(root / "truncated.jpg", TRUNCATED)
    write(root / "random.jpg", RANDOM)
    write(root / "bomb.png", BOMB_PNG)
    write(root / "bomb.tiff", BOMB_TIFF)
    os.mkfifo(root / "fifo")
    raw = os.fsencode(root)
    write(Path(os.fsdecode(raw + b"/caf\xe9.jpg")), GOOD)
    write(Path(os.fsdecode(raw + b"/dir\xff/inside.txt")), b"inside\n")
    write(root / "dir\\xff" / "inside.txt", b"a folder really named dir\\xff\n")
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    os.symlink("/etc/passwd", root / "passwd")
    fd = make_deep_dirs(root, [n.encode() for n in DEEP])
    write_at(fd, b"leaf.txt", b"leaf.txt\n")
    os.close(fd)
    fd = make_deep_dirs(root, [n.encode() for n in LONG])
    write_at(fd, b"far.txt", b"far.txt\n")
    os.symlink("../target", b"link", dir_fd=fd)
    settle_links([(None, root / "a"), (None, root / "b"), (None, root / "passwd"), (fd, b"link")])
    os.close(fd)


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, unseen_exe: Path
) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("hostile")
    build_hostile(root / "evidence")
    case_dir = root / "case"
    cli(unseen_exe, "init", str(case_dir))
    cli(unseen_exe, "add", str(case_dir), str(root / "evidence"), "--label", LABEL)
    cli(unseen_exe, "process", str(case_dir), "--workers", "2")
    records = cli_export(unseen_exe, case_dir)
    # The same evidence in-process through the library gives the same records.
    assert export(library_case(root / "lib", root / "evidence", workers=0)) == records
    return by_path(records)


def test_every_hostile_entry_is_recorded(hostile: dict[str, dict[str, Any]]) -> None:
    assert sorted(hostile) == sorted(
        [
            "good.jpg", "empty.bin", "empty.jpg", "truncated.jpg", "random.jpg", "bomb.png",
            "bomb.tiff", "fifo", "caf\\xe9.jpg", "dir\\xff", "dir\\xff/inside.txt",
            "dir\\x5cxff/inside.txt", "a", "b", "passwd", DEEP_PATH, LONG_PATH, LONG_LINK,
        ]
    )  # fmt: skip
    assert {r["status"] for r in hostile.values()} == {"done"}
    good = hostile["good.jpg"]
    assert spine_errors(good) == [] and good["pdq_policy"] == "full"  # the run went on


def _facts(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec[k] for k in ("size", "md5", "sha1", "sha256")}


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("empty.bin", []),
        # Empty under a picture's name: flagged like any other non-picture named so.
        ("empty.jpg", ["image: named like an image (.jpg) but the file is empty"]),
    ],
)
def test_zero_byte_file(hostile: dict[str, dict[str, Any]], name: str, errors: list[str]) -> None:
    rec = hostile[name]
    assert _facts(rec) == digests(b"")
    assert (rec["mime"], rec["width"], spine_errors(rec)) == ("application/x-empty", None, errors)


def test_truncated_jpeg(hostile: dict[str, dict[str, Any]]) -> None:
    rec = hostile["truncated.jpg"]
    assert _facts(rec) == digests(TRUNCATED)
    assert (rec["mime"], rec["width"], rec["height"]) == ("image/jpeg", 320, 240)
    assert (rec["pdq"], rec["thumbnail"]) == (None, None)
    assert spine_errors(rec) == [
        "image: cannot decode: image file is truncated (20 bytes not processed)"
    ]


def test_random_bytes_named_jpg(hostile: dict[str, dict[str, Any]]) -> None:
    rec = hostile["random.jpg"]
    assert _facts(rec) == digests(RANDOM)
    assert (rec["mime"], rec["width"], rec["pdq"]) == ("application/octet-stream", None, None)
    assert spine_errors(rec) == [
        "image: named like an image (.jpg) but the content is application/octet-stream; "
        "not decoded"
    ]


def test_png_decompression_bomb_is_measured_not_decoded(
    hostile: dict[str, dict[str, Any]],
) -> None:
    rec = hostile["bomb.png"]
    assert _facts(rec) == digests(BOMB_PNG)
    assert (rec["mime"], rec["width"], rec["height"]) == ("image/png", 100_000, 100_000)
    assert (rec["pdq"], rec["thumbnail"], rec["exif"]) == (None, None, None)
    # The only error: nothing (EXIF reading included) went on to decode the pixels.
    assert spine_errors(rec) == [
        "image: possible decompression bomb: header claims 100000x100000 "
        "(10000000000 pixels, limit 180000000); not decoded"
    ]


def test_tiff_claiming_more_than_2_to_the_31_pixels_wide(
    hostile: dict[str, dict[str, Any]],
) -> None:
    rec = hostile["bomb.tiff"]
    assert (rec["mime"], rec["width"], rec["height"]) == ("image/tiff", 3_000_000_000, 4)
    assert spine_errors(rec) == [
        "image: possible decompression bomb: header claims 3000000000x4 "
        "(12000000000 pixels, limit 180000000); not decoded"
    ]


def test_fifo_is_recorded_and_never_opened(hostile: dict[str, dict[str, Any]]) -> None:
    rec = hostile["fifo"]
    assert (rec["kind"], rec["size"], rec["md5"], rec["mime"]) == ("other", None, None, None)
    assert spine_errors(rec) == [
        "listing: not a regular file (device, FIFO or socket); content not read"
    ]


def test_non_utf8_names_are_escaped_and_still_read(hostile: dict[str, dict[str, Any]]) -> None:
    rec = hostile["caf\\xe9.jpg"]
    assert _facts(rec) == digests(GOOD)
    assert rec["pdq"] == hostile["good.jpg"]["pdq"]
    assert spine_errors(rec) == [NOT_UTF8]
    folder = hostile["dir\\xff"]
    assert (folder["kind"], spine_errors(folder)) == ("dir", [NOT_UTF8])
    inside = hostile["dir\\xff/inside.txt"]  # the folder was walked all the same
    assert _facts(inside) == digests(b"inside\n")
    assert spine_errors(inside) == []
    # A folder whose name is the text "dir\xff" does not pass for the byte 0xFF.
    literal = hostile["dir\\x5cxff/inside.txt"]
    assert _facts(literal) == digests(b"a folder really named dir\\xff\n")
    assert spine_errors(literal) == []


def test_deep_trees(hostile: dict[str, dict[str, Any]]) -> None:
    assert len(LONG_PATH.encode()) > 4096
    assert _facts(hostile[DEEP_PATH]) == digests(b"leaf.txt\n")
    assert _facts(hostile[LONG_PATH]) == digests(b"far.txt\n")
    assert spine_errors(hostile[DEEP_PATH]) == spine_errors(hostile[LONG_PATH]) == []
    link = hostile[LONG_LINK]
    assert (link["kind"], link["link_target"]) == ("symlink", "../target")
    assert spine_errors(link) == ["listing: symbolic link not followed (points to '../target')"]


def test_symlinks_are_recorded_not_followed(hostile: dict[str, dict[str, Any]]) -> None:
    for name, target in (("a", "b"), ("b", "a"), ("passwd", "/etc/passwd")):
        rec = hostile[name]
        assert (rec["kind"], rec["link_target"]) == ("symlink", target)
        assert (rec["size"], rec["md5"], rec["mime"]) == (None, None, None)
        assert spine_errors(rec) == [f"listing: symbolic link not followed (points to '{target}')"]


def test_evidence_changed_between_listing_and_reading(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    for name in ("gone.jpg", "now_fifo.jpg", "now_link.jpg", "kept.txt"):
        write(evidence / name, b"content of " + name.encode())
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(evidence), LABEL, "Test Examiner")
    assert enumerate_sources(case) == 4
    (evidence / "gone.jpg").unlink()
    (evidence / "now_fifo.jpg").unlink()
    os.mkfifo(evidence / "now_fifo.jpg")
    (evidence / "now_link.jpg").unlink()
    (evidence / "now_link.jpg").symlink_to("/etc/passwd")
    process_case(case, workers=0)
    recs = by_path(export(case))
    expected = {
        "gone.jpg": "read: cannot open: No such file or directory",
        "now_fifo.jpg": "read: cannot open: not a regular file",
        "now_link.jpg": "read: cannot open: Too many levels of symbolic links",
    }
    for name, error in expected.items():
        rec = recs[name]
        listed = len(b"content of " + name.encode())  # the size when listed stays
        assert (rec["status"], rec["size"], rec["md5"]) == ("done", listed, None), name
        assert spine_errors(rec) == [error]
    assert spine_errors(recs["kept.txt"]) == []
    assert recs["kept.txt"]["md5"] == digests(b"content of kept.txt")["md5"]


# --- unreadable files and folders: permissions only bind a user without privileges --

PR_CAPBSET_DROP = 24  # prctl option (linux/prctl.h)
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2  # linux/capability.h


def _drop_file_permission_override() -> None:
    """In a child about to exec: give up root's power to ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unprivileged(probe: Path) -> dict[str, Any]:
    """subprocess arguments under which ``probe`` (mode 000) is unreadable, or skip."""
    if os.geteuid() != 0:
        return {}
    as_examiner: dict[str, Any] = {"preexec_fn": _drop_file_permission_override}
    try:
        done = subprocess.run(["cat", str(probe)], capture_output=True, **as_examiner)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE here: {exc}")
    if done.returncode == 0:
        pytest.skip("running as root and file permissions are not enforced even without caps")
    return as_examiner


def test_unreadable_file_and_unlistable_folder(tmp_path: Path, unseen_exe: Path) -> None:
    """chmod 000 stops an examiner's ordinary account. Root ignores permissions, so
    there the program runs as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, which
    binds it to the owner bits like any unprivileged user."""
    evidence, case_dir = tmp_path / "evidence", tmp_path / "case"
    write(evidence / "readable.txt", b"readable\n")
    write(evidence / "locked.jpg", GOOD)
    write(evidence / "locked_dir" / "hidden.txt", b"hidden\n")
    write(evidence / "open_dir" / "ok.txt", b"ok\n")
    os.utime(evidence / "locked_dir", ns=(ATIME_NS, MTIME_NS))
    (evidence / "locked.jpg").chmod(0)
    (evidence / "locked_dir").chmod(0)
    try:
        as_examiner = _unprivileged(evidence / "locked.jpg")
        cli(unseen_exe, "init", str(case_dir), **as_examiner)
        cli(unseen_exe, "add", str(case_dir), str(evidence), "--label", LABEL, **as_examiner)
        cli(unseen_exe, "process", str(case_dir), "--workers", "0", **as_examiner)
        recs = by_path(cli_export(unseen_exe, case_dir, **as_examiner))
    finally:
        (evidence / "locked_dir").chmod(0o755)
    assert sorted(recs) == ["locked.jpg", "locked_dir", "open_dir/ok.txt", "readable.txt"]
    locked = recs["locked.jpg"]
    assert (locked["kind"], locked["status"], locked["size"]) == ("file", "done", len(GOOD))
    assert (locked["md5"], locked["mime"]) == (None, None)
    assert spine_errors(locked) == ["read: cannot open: Permission denied"]
    folder = recs["locked_dir"]
    assert (folder["kind"], folder["mtime"]) == ("dir", "2020-09-13T12:26:40.123456Z")
    assert spine_errors(folder) == ["listing: cannot list folder: Permission denied"]
    assert _facts(recs["open_dir/ok.txt"]) == digests(b"ok\n")
    assert stat.S_IMODE((evidence / "locked.jpg").stat().st_mode) == 0  # evidence untouched
