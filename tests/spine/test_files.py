"""Every file: size, cryptographic hashes, content type and file-system times."""

from __future__ import annotations

from .casework import spine_errors
from .conftest import Gallery
from .evidence import digests


def test_every_file_is_in_the_export_once(gallery: Gallery) -> None:
    assert sorted(gallery.records) == sorted(gallery.payloads)
    assert {r["status"] for r in gallery.records.values()} == {"done"}
    assert {r["source"] for r in gallery.records.values()} == {"EV01"}
    assert {r["kind"] for r in gallery.records.values()} == {"file"}


def test_size_and_hashes_equal_hashlib(gallery: Gallery) -> None:
    for name, data in gallery.payloads.items():
        rec = gallery.records[name]
        got = {k: rec[k] for k in ("size", "md5", "sha1", "sha256")}
        assert got == digests(data), name


def test_mime_comes_from_content_not_name(gallery: Gallery) -> None:
    mime = {name: rec["mime"] for name, rec in gallery.records.items()}
    assert mime["mime/jpeg_named.txt"] == "image/jpeg"
    assert mime["mime/text_named.jpg"] == "text/plain"
    assert mime["mime/notes.txt"] == "text/plain"
    assert mime["formats/photo.jpg"] == "image/jpeg"
    assert mime["formats/photo.png"] == "image/png"
    assert mime["formats/photo.gif"] == "image/gif"
    assert mime["formats/photo.bmp"] == "image/bmp"
    assert mime["formats/photo.tiff"] == "image/tiff"
    assert mime["formats/photo.webp"] == "image/webp"


def test_a_jpeg_named_txt_is_still_analysed_as_an_image(gallery: Gallery) -> None:
    rec = gallery.records["mime/jpeg_named.txt"]
    assert (rec["width"], rec["height"], rec["image_format"]) == (200, 150, "JPEG")
    assert spine_errors(rec) == []


def test_text_named_jpg_is_flagged_not_decoded(gallery: Gallery) -> None:
    rec = gallery.records["mime/text_named.jpg"]
    assert rec["pdq"] is None and rec["width"] is None
    assert spine_errors(rec) == [
        "image: named like an image (.jpg) but the content is text/plain; not decoded"
    ]


def test_times_are_iso_utc_as_set(gallery: Gallery) -> None:
    # evidence.MTIME_NS / ATIME_NS, set with os.utime on every fixture; reading the
    # evidence (O_NOATIME) must not have moved the access time either.
    for name, rec in gallery.records.items():
        assert rec["mtime"] == "2020-09-13T12:26:40.123456Z", name
        assert rec["atime"] == "2020-09-13T12:28:20Z", name
        assert rec["ctime"].endswith("Z") and rec["ctime"][:2] == "20", name
