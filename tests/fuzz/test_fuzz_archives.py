"""ZIP, TAR (plain and compressed), 7z and RAR readers on damaged archives.

The reader contract (``ContainerReader``): opening raises ``WrongFormat`` or
``EvidenceError``; listing raises at most ``EvidenceError``; opening or reading a
member raises ``OSError`` (or ``EvidenceError``). Each member is read up to a bound.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unseen import plugins
from unseen.core.errors import EvidenceError
from unseen.sources.containers import CONTAINERS, Limits

from . import common
from .common import fuzz_settings, hostile, only

plugins.load()
MEMBERS = 20  # members opened per example
READ = 256 * 1024  # bytes read per member
LIMITS = Limits(max_members=1000, max_expanded=16 * 1024 * 1024)
FILES = {"DCIM/a.txt": b"benign text\n" * 20, "b/c.bin": bytes(range(256)) * 4}


@cache
def seeds() -> dict[str, bytes]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in FILES.items():
            zf.writestr(name, data)
    out = {"zip": zipped.getvalue()}
    for mode, key in (("w", "tar"), ("w:gz", "tar.gz"), ("w:xz", "tar.xz"), ("w:bz2", "tar.bz2")):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
            for name, data in FILES.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        out[key] = buf.getvalue()
    try:
        import py7zr

        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w") as sz:
            for name, data in FILES.items():
                sz.writestr(data, name)
        out["7z"] = buf.getvalue()
    except ImportError:
        pass
    # No free RAR writer: a RAR5 signature and a main header, then whatever follows.
    out["rar"] = b"Rar!\x1a\x07\x01\x00" + bytes.fromhex(
        "33 92 b5 e5 0a 01 05 06 00 05 01 01 80 80 00"
    )
    return out


def read_everything(reader_name: str, data: bytes) -> None:
    common.read_everything(reader_name, data, LIMITS, MEMBERS, READ)


FORMATS = [
    ("zip", "zip"),
    ("tar", "tar"),
    ("tar", "tar.gz"),
    ("tar", "tar.xz"),
    ("tar", "tar.bz2"),
    ("7z", "7z"),
    ("rar", "rar"),
]


@pytest.mark.parametrize(("reader", "seed"), FORMATS, ids=[f[1] for f in FORMATS])
@fuzz_settings(60)
@given(data=st.data())
def test_archive_readers_raise_only_recorded_errors(
    reader: str, seed: str, data: st.DataObject
) -> None:
    if seed not in seeds() or reader not in CONTAINERS.names():
        pytest.skip(f"{seed} support is not installed (archives extra)")
    payload = data.draw(hostile(seeds()[seed]))
    only((EvidenceError,), lambda: read_everything(reader, payload))
