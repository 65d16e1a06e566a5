"""Revealing hostile pictures: only the pipeline's formats, decoded in a limited child.

The attacks of the hardening review: EPS (Ghostscript), TGA, PCX, ICNS, JP2, QOI and
other formats the pipeline refuses were decoded by the server; a 13,000 x 13,000 PNG of
493 KB was decoded at full size; a decoder failure was an HTTP 500. All generated here.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from unseen.engine.runner import process_case
from unseen.review.config import ReviewConfig
from unseen.review.media import decode_for_display
from unseen.store import repo
from unseen.store.case import Case

from .helpers import item_ids, login, make_client, make_users, picture

REFUSED = "not a picture format the pipeline decodes; not shown"


def encoded(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    picture(3, size).save(out, fmt)
    return out.getvalue()


def png_bomb(side: int) -> bytes:
    """A valid greyscale PNG of side x side black pixels, a few hundred KB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = bytes(side + 1)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["EPS", "TGA", "PCX", "ICNS", "JPEG2000", "QOI", "SGI", "DDS"])
def test_formats_the_pipeline_refuses_are_never_decoded(fmt: str) -> None:
    with pytest.raises(ValueError, match=f"^{REFUSED}$"):
        decode_for_display(encoded(fmt), ReviewConfig())


def test_browser_formats_within_budget_are_sent_unchanged() -> None:
    for fmt, mime in (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif")):
        data = encoded(fmt)
        assert decode_for_display(data, ReviewConfig()) == (data, mime)


def test_other_pipeline_formats_are_converted_to_jpeg() -> None:
    data, mime = decode_for_display(encoded("TIFF"), ReviewConfig())
    assert mime == "image/jpeg"
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == ("JPEG", (64, 48))


def test_a_png_bomb_is_refused_from_its_header() -> None:
    bomb = png_bomb(13_000)
    assert len(bomb) < 600_000
    budget = ReviewConfig().max_decode_pixels
    assert budget == (1024 - 256) * 1024 * 1024 // 12
    expected = (
        f"the header claims 13000x13000 (169000000 pixels), over the review server's "
        f"budget of {budget}; not decoded"
    )
    with pytest.raises(ValueError) as refused:
        decode_for_display(bomb, ReviewConfig())
    assert str(refused.value) == expected


def test_a_jpeg_over_budget_is_draft_decoded_to_fit() -> None:
    data, mime = decode_for_display(
        encoded("JPEG", (800, 600)), ReviewConfig(decode_pixels=150_000)
    )
    with Image.open(io.BytesIO(data)) as img:
        assert (mime, img.size) == ("image/jpeg", (400, 300))
    with pytest.raises(ValueError, match="too many even at 1/8 scale for the budget of 1000"):
        decode_for_display(encoded("JPEG", (800, 600)), ReviewConfig(decode_pixels=1000))


def test_the_memory_limit_stops_a_decode_that_outgrows_it() -> None:
    # 2000 x 2000 TIFF within the pixel budget, but the child may only hold 60 MB.
    config = ReviewConfig(decode_memory_bytes=60 * 1024 * 1024, decode_pixels=10**8)
    with pytest.raises(ValueError, match="memory"):
        decode_for_display(encoded("TIFF", (2000, 2000)), config)


def test_broken_and_non_picture_bytes_are_refused() -> None:
    truncated = encoded("TIFF", (300, 200))[:400]
    with pytest.raises(ValueError, match="decod"):
        decode_for_display(truncated, ReviewConfig())
    with pytest.raises(ValueError, match=f"^{REFUSED}$"):
        decode_for_display(b"%PDF-1.4 not a picture", ReviewConfig())


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile-media")
    evidence = base / "evidence"
    evidence.mkdir()
    (evidence / "doc.eps").write_bytes(encoded("EPS"))
    (evidence / "pic.tga").write_bytes(encoded("TGA"))
    (evidence / "pic.jp2").write_bytes(encoded("JPEG2000"))
    (evidence / "bomb.png").write_bytes(png_bomb(2_000))
    (evidence / "fine.png").write_bytes(encoded("PNG"))
    (evidence / "cut.tif").write_bytes(encoded("TIFF", (300, 200))[:400])
    case = Case.create(base / "case", name="HOSTILE-M", examiner="Test Examiner")
    repo.add_source(case, "folder", str(evidence), "EV01", "Test Examiner")
    process_case(case, workers=0)
    make_users(case)
    case.close()
    return base / "case"


@pytest.fixture
def hostile_client(hostile_case: Path) -> Iterator[TestClient]:
    with make_client(hostile_case, ReviewConfig(decode_pixels=1_000_000)) as c:
        yield c


def reveal_and_get(client: TestClient, csrf: str, item_id: int) -> tuple[int, str]:
    grant = client.post(f"/api/reveal/{item_id}", headers={"X-CSRF-Token": csrf})
    assert grant.status_code == 200, grant.text
    response = client.get(grant.json()["url"])
    return response.status_code, response.headers["content-type"]


def test_revealing_hostile_pictures_over_http(
    hostile_client: TestClient, hostile_case: Path
) -> None:
    ids = item_ids(hostile_case)
    csrf = login(hostile_client, "rob")
    expected = {
        "pic.tga": REFUSED,
        "pic.jp2": REFUSED,
        "bomb.png": "the header claims 2000x2000 (4000000 pixels), over the review server's "
        "budget of 1000000; not decoded",
        "doc.eps": "application/postscript is not shown in the browser",
    }
    for name, reason in expected.items():
        grant = hostile_client.post(f"/api/reveal/{ids[name]}", headers={"X-CSRF-Token": csrf})
        response = hostile_client.get(grant.json()["url"])
        assert (response.status_code, response.json()) == (422, {"detail": reason}), name
    grant = hostile_client.post(f"/api/reveal/{ids['cut.tif']}", headers={"X-CSRF-Token": csrf})
    response = hostile_client.get(grant.json()["url"])
    assert response.status_code == 422
    assert response.json()["detail"].startswith("cannot decode for display: ")
    assert reveal_and_get(hostile_client, csrf, ids["fine.png"]) == (200, "image/png")
