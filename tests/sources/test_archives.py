"""Archives as sources and inside evidence: nesting, addressing, hostile archives."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.core.settings import Settings
from unseen.sources.base import detect_kind

from . import artefacts as a
from .conftest import Built, Records, copy_into

CaseOf = Callable[..., tuple[Any, Records]]
NOTE = b"meeting at noon\n"


def items(records: Records, source: str) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for k, r in records.items() if k.startswith(f"{source}:")}


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("a.zip", lambda m: a.zip_bytes(m)),
        ("a.tar", lambda m: a.tar_bytes(m, "w")),
        ("a.tar.gz", lambda m: a.tar_bytes(m, "w:gz")),
        ("a.tar.bz2", lambda m: a.tar_bytes(m, "w:bz2")),
        ("a.tar.xz", lambda m: a.tar_bytes(m, "w:xz")),
        ("a.7z", lambda m: a.sevenzip_bytes(m)),
        ("a.rar", lambda m: a.rar4([(k, v, False) for k, v in m.items()])),
    ],
)
def test_archive_as_a_source(
    case_of: CaseOf, tmp_path: Path, photos: dict[str, bytes], name: str, build: Any
) -> None:
    path = tmp_path / name
    path.write_bytes(build({"photos/beach.jpg": photos["beach.jpg"], "notes.txt": NOTE}))
    assert detect_kind(path) == "archive"
    _, records = case_of(path)
    got = items(records, name)
    assert sorted(got) == ["notes.txt", "photos/beach.jpg"]
    beach = got["photos/beach.jpg"]
    assert (beach["sha256"], beach["mime"], beach["width"]) == (
        a.sha256(photos["beach.jpg"]),
        "image/jpeg",
        320,
    )
    assert (beach["container"], beach["errors"], beach["deleted"]) == ([], [], False)
    assert got["notes.txt"]["sha256"] == a.sha256(NOTE)


def test_nested_archives_and_images_inside_a_folder(
    case_of: CaseOf, tmp_path: Path, photos: dict[str, bytes], e01_image: Path, fat_image: Built
) -> None:
    pytest.importorskip("pytsk3")
    inner_zip = a.zip_bytes({"photo.jpg": photos["car.jpg"], "notes.txt": NOTE})
    tar_gz = a.tar_bytes({"deep/a.zip": inner_zip})
    outer = a.sevenzip_bytes({"inner.tar.gz": tar_gz})
    usb = a.zip_bytes({"stick.img": fat_image.path.read_bytes()})
    folder = copy_into(
        tmp_path / "laptop",
        {"Users/jo/outer.7z": outer, "Evidence/usb.E01": e01_image, "Users/jo/usb.zip": usb},
    )
    # The mostly empty 64 MiB image deflates about 400:1, past the default bomb ratio.
    _, records = case_of(folder, settings=Settings(max_compression_ratio=1000))
    got = items(records, "laptop")
    chain = ["Users/jo/outer.7z", "Users/jo/outer.7z!inner.tar.gz"]
    photo = got["Users/jo/outer.7z!inner.tar.gz!deep/a.zip!photo.jpg"]
    assert photo["sha256"] == a.sha256(photos["car.jpg"])
    assert photo["container"] == [*chain, "Users/jo/outer.7z!inner.tar.gz!deep/a.zip"]
    assert got["Users/jo/outer.7z!inner.tar.gz!deep/a.zip"]["container"] == chain
    # An E01 and a file-system image inside the evidence are listed like sources.
    e01_beach = got["Evidence/usb.E01!p1/DCIM/beach.jpg"]
    assert (e01_beach["sha256"], e01_beach["container"]) == (
        a.sha256(photos["beach.jpg"]),
        ["Evidence/usb.E01"],
    )
    deleted = got["Evidence/usb.E01!p1/deleted_me.jpg"]
    assert (deleted["deleted"], deleted["sha256"]) == (True, a.sha256(photos["deleted_me.jpg"]))
    offset = fat_image.offsets["planted.png"]
    carved = got[f"Users/jo/usb.zip!stick.img!$Unallocated/carved-{offset}.png"]
    assert (carved["carved"], carved["offset"], carved["sha256"]) == (
        True,
        offset,
        a.sha256(photos["planted.png"]),
    )
    assert carved["container"] == ["Users/jo/usb.zip", "Users/jo/usb.zip!stick.img"]
    assert [p for p, r in got.items() if r["errors"]] == ["Evidence/usb.E01!p3"]  # no FS


def test_zip_bomb_member_is_listed_not_expanded(case_of: CaseOf, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(a.zip_bytes({"zeros.bin": bytes(32 * 1024 * 1024), "ok.txt": NOTE}))
    packed = zipfile.ZipFile(path).getinfo("zeros.bin").compress_size
    _, records = case_of(path)
    got = items(records, "bomb.zip")
    assert (got["zeros.bin"]["kind"], got["zeros.bin"]["sha256"]) == ("other", None)
    assert got["zeros.bin"]["errors"] == [
        f"listing: possible decompression bomb: 33554432 bytes from {packed} "
        f"(ratio {33554432 / packed:.0f}:1, limit 200:1); not expanded"
    ]
    assert got["ok.txt"]["sha256"] == a.sha256(NOTE)


def test_archive_limits_members_and_total_size(case_of: CaseOf, tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(a.zip_bytes({f"f{i}.txt": b"x" * 1000 for i in range(4)}))
    settings = Settings(max_archive_members=3, max_expanded_bytes=2500)
    _, records = case_of(path, settings=settings)
    got = items(records, "many.zip")
    assert list(got) == ["f0.txt", "f1.txt", "f2.txt", "."]
    assert got["f2.txt"]["kind"] == "other"
    assert got["f2.txt"]["errors"] == [
        "listing: archive members expand past 2500 bytes in total (limit max_expanded_bytes); "
        "not expanded"
    ]
    assert got["."]["errors"] == [
        "listing: more than 3 members: the rest are not listed (limit max_archive_members)"
    ]


def test_path_traversal_names_are_defused_and_flagged(case_of: CaseOf, tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    names = ["../../etc/cron.d/x", "/abs/y.txt", "C:\\Windows\\z.dll", "fine/ok.txt"]
    path.write_bytes(a.zip_bytes({n: NOTE for n in names}))
    _, records = case_of(path)
    got = items(records, "evil.zip")
    assert list(got) == ["__/__/etc/cron.d/x", "abs/y.txt", "C_/Windows/z.dll", "fine/ok.txt"]
    assert got["__/__/etc/cron.d/x"]["errors"] == [
        "listing: unsafe member name '../../etc/cron.d/x' (parent-folder components); "
        "shown as '__/__/etc/cron.d/x', never used as a host path"
    ]
    assert got["abs/y.txt"]["errors"][0].startswith("listing: unsafe member name '/abs/y.txt'")
    assert "(drive letter)" in got["C_/Windows/z.dll"]["errors"][0]
    assert all(r["sha256"] == a.sha256(NOTE) for r in got.values())
    assert not (tmp_path / "etc").exists() and not Path("/abs/y.txt").exists()


def test_encrypted_archives(case_of: CaseOf, tmp_path: Path, photos: dict[str, bytes]) -> None:
    folder = copy_into(
        tmp_path / "enc",
        {
            "zipcrypto.zip": a.encrypted_zip("secret.jpg", photos["tree.jpg"], b"pw"),
            "members.7z": a.sevenzip_bytes({"secret.jpg": photos["tree.jpg"]}, "pw"),
            "headers.7z": a.sevenzip_bytes(
                {"s.jpg": photos["tree.jpg"]}, "pw", header_encryption=True
            ),
            "locked.rar": a.rar4([("open.txt", NOTE, False), ("secret.txt", NOTE, True)]),
        },
    )
    _, records = case_of(folder)
    got = items(records, "enc")
    encrypted = ["listing: encrypted: content not readable"]
    for path in ("zipcrypto.zip!secret.jpg", "members.7z!secret.jpg", "locked.rar!secret.txt"):
        assert (got[path]["kind"], got[path]["errors"]) == ("other", encrypted), path
    assert got["locked.rar!open.txt"]["sha256"] == a.sha256(NOTE)
    assert got["headers.7z"]["errors"] == [
        "containers: not examined: encrypted: 7z archive with encrypted headers; "
        "members cannot be listed"
    ]
    assert not any(p.startswith("headers.7z!") for p in got)


def test_nesting_depth_limit(case_of: CaseOf, tmp_path: Path) -> None:
    level3 = a.zip_bytes({"deepest.txt": NOTE})
    level2 = a.zip_bytes({"l3.zip": level3})
    level1 = a.zip_bytes({"l2.zip": level2})
    folder = copy_into(tmp_path / "deep", {"l1.zip": level1})
    _, records = case_of(folder, settings=Settings(max_container_depth=2))
    got = items(records, "deep")
    assert list(got) == ["l1.zip", "l1.zip!l2.zip", "l1.zip!l2.zip!l3.zip"]
    assert got["l1.zip!l2.zip!l3.zip"]["errors"] == [
        "containers: not examined: containers nested 2 deep (limit max_container_depth): "
        "members not listed"
    ]


def test_damaged_archive_is_recorded_on_the_archive(case_of: CaseOf, tmp_path: Path) -> None:
    whole = a.zip_bytes({"a.txt": NOTE * 100, "b.txt": NOTE})
    folder = copy_into(tmp_path / "bad", {"cut.zip": whole[: len(whole) - 30]})
    _, records = case_of(folder)
    (item,) = items(records, "bad").values()
    assert item["errors"][0].startswith("containers: not examined: damaged ZIP archive: ")
