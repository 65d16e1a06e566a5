"""Helpers for the review tests: a small, benign, generated case and logged-in clients.

The evidence: camera-like JPEGs (EXIF make/model, DateTimeOriginal, some with GPS),
a resized copy and a rotated copy (near-duplicates by PDQ), noise PNGs, a truncated
JPEG (an error), a file whose name is HTML (hostile), a text file, and a stub MP4.
"""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import piexif
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from unseen.review import auth
from unseen.review.app import create_app
from unseen.review.config import ReviewConfig
from unseen.store import audit
from unseen.store.case import Case, write_engine

PASSWORD = "correct horse battery"
USERS = {"ada": "admin", "eve": "examiner", "rob": "reviewer", "ron": "read-only"}
HOSTILE = "<img src=x onerror=alert(1)>.png"
LEEDS = (53.7997, -1.5492)
ZURICH = (47.3769, 8.5417)
# Rows the hash-set stage would write; the tests add its tables if absent.
AUTO_TABLES = (  # the shape of the matching tables in store/schema.py
    "CREATE TABLE IF NOT EXISTS auto_categories (item_id INTEGER PRIMARY KEY, "
    "category VARCHAR(32), reason TEXT NOT NULL, source TEXT NOT NULL, "
    "conflict BOOLEAN NOT NULL, known_good BOOLEAN NOT NULL, decided_at VARCHAR(32) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS matches (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, "
    "set_id INTEGER NOT NULL, set_name VARCHAR(128) NOT NULL, set_version INTEGER NOT NULL, "
    "entry_id INTEGER NOT NULL, entry_ref VARCHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL, "
    "distance INTEGER NOT NULL, category VARCHAR(32), set_scheme VARCHAR(32) NOT NULL, "
    "known_good BOOLEAN NOT NULL, frame_fraction FLOAT, matched_at VARCHAR(32) NOT NULL)",
)


def picture(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """Shapes on a gradient: benign, and distinct per seed for PDQ."""
    rng = np.random.default_rng(seed)
    w, h = size
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    base = rng.integers(40, 200, 3) * (0.5 + ramp) + np.zeros((h, 1, 1))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x, y = (int(v) for v in rng.integers(0, w - 40, 2))
        dx, dy = (int(v) for v in rng.integers(20, 160, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + dx, y + dy), fill=colour)
    return img


def _dms(value: float) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60 * 10000)
    return ((deg, 1), (minutes, 1), (seconds, 10000))


def camera_jpeg(img: Image.Image, when: str, gps: tuple[float, float] | None) -> bytes:
    exif: dict[str, object] = {
        "0th": {piexif.ImageIFD.Make: b"TestCam", piexif.ImageIFD.Model: b"Model X100"},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: when.encode()},
    }
    if gps:
        exif["GPS"] = {
            piexif.GPSIFD.GPSLatitudeRef: b"N" if gps[0] >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: _dms(gps[0]),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if gps[1] >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: _dms(gps[1]),
        }
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=piexif.dump(exif))
    return out.getvalue()


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def build_evidence(root: Path) -> None:
    """The files described in the module docstring (benign, generated)."""
    cam = root / "DCIM" / "100TEST"
    cam.mkdir(parents=True)
    places = [LEEDS, LEEDS, ZURICH, None, None, None]
    for n, gps in enumerate(places, start=1):
        when = f"2024:05:{n:02d} 1{n}:00:00"
        (cam / f"IMG_{n:04d}.JPG").write_bytes(camera_jpeg(picture(n), when, gps))
    downloads = root / "downloads"
    downloads.mkdir()
    (downloads / "copy_small.jpg").write_bytes(png(picture(1).resize((240, 180))))
    (downloads / "rotated.png").write_bytes(png(picture(2).transpose(Image.Transpose.ROTATE_90)))
    for n in range(7, 12):
        (downloads / f"pic_{n:02d}.png").write_bytes(png(picture(n, (200, 160))))
    misc = root / "misc"
    misc.mkdir()
    (misc / HOSTILE).write_bytes(png(picture(20, (160, 120))))
    (misc / "broken.jpg").write_bytes(camera_jpeg(picture(21), "2024:05:09 09:00:00", None)[:700])
    (misc / "notes.txt").write_text("shopping list: milk, bread\n")
    # An MP4 'ftyp' box and some padding: libmagic says video/mp4; enough for byte ranges.
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    (misc / "clip.mp4").write_bytes(header + bytes(range(256)) * 40)


def make_users(case: Case) -> None:
    engine = write_engine(case.engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        for name, role in USERS.items():
            auth.add_user(conn, name, role, PASSWORD, created_by="tests")
            audit.append(conn, "cli:tests", "user_add", name, {"role": role})
    engine.dispose()


def copy_case(pristine: Path, target: Path) -> Path:
    shutil.copytree(pristine, target)
    return target


def add_auto_tables(case_dir: Path) -> None:
    """Create the hash-set stage's case tables when this tree does not have them yet."""
    with sqlite3.connect(case_dir / "case.db") as db:
        for statement in AUTO_TABLES:
            db.execute(statement)


def item_ids(case_dir: Path) -> dict[str, int]:
    """Item id by path."""
    with sqlite3.connect(case_dir / "case.db") as db:
        return {path: i for i, path in db.execute("SELECT id, path FROM items")}


def make_client(case_dir: Path, config: ReviewConfig | None = None) -> TestClient:
    case = Case.open(case_dir)
    return TestClient(create_app(case, config), follow_redirects=False)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    done = client.post(
        "/login", data={"name": name, "password": password, "csrf": token.group(1), "next": "/"}
    )
    assert done.status_code == 303, done.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/settings")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found, page.text
    return found.group(1)


def add_auto_category(
    case_dir: Path, item_id: int, category: str | None, known_good: bool = False
) -> None:
    """One hash-set decision as the matching stage stores it, with its match."""
    add_auto_tables(case_dir)
    set_name = "NSRL" if known_good else "SET-X"
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute(
            "INSERT INTO auto_categories (item_id, category, reason, source, conflict, "
            "known_good, decided_at) VALUES (?, ?, ?, ?, 0, ?, '2026-01-01T00:00:00Z')",
            (
                item_id,
                category,
                f"{set_name} v1: md5 entry 17",
                f"hashset:{set_name} v1",
                known_good,
            ),
        )
        db.execute(
            "INSERT INTO matches (item_id, set_id, set_name, set_version, entry_id, entry_ref, "
            "kind, distance, category, set_scheme, known_good, matched_at) "
            "VALUES (?, 1, ?, 1, 17, 'line 18', 'md5', 0, ?, 'uk', ?, '2026-01-01T00:00:00Z')",
            (item_id, set_name, category, known_good),
        )


def lead_strips(page: str) -> list[list[int]]:
    """Each group's strip on the leads page, in the page's order."""
    blocks = re.findall(r'<div class="lead-strip">(.*?)<div class="why">', page, re.S)
    return [[int(i) for i in re.findall(r'data-id="(\d+)"', b)] for b in blocks]
