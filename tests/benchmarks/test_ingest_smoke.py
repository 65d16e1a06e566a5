"""The ingest benchmark's own parts run, and the floor and unseen agree on every PDQ hash.

No timing is asserted (numbers belong to ``benchmarks/ingest.py`` itself): this only
guards the benchmark against rot and cross-checks that unseen's draft-decoded PDQ is
the floor's, file for file.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def corpus(ingest: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Both sizes are decoded whole (short sides under twice the 768 px draft minimum).
    cache = tmp_path_factory.mktemp("bench")
    root: Path = ingest.build_corpus(cache, 2, 4, big_size=(1200, 900), small_size=(640, 480))
    return root


def test_corpus_is_camera_like_and_cached(ingest: ModuleType, corpus: Path) -> None:
    from PIL import Image

    files = ingest.corpus_files(corpus)
    assert [p.relative_to(corpus).as_posix() for p in files] == [
        "big/IMG_0000.jpg",
        "big/IMG_0001.jpg",
        "small/IMG_0000.jpg",
        "small/IMG_0001.jpg",
        "small/IMG_0002.jpg",
        "small/IMG_0003.jpg",
    ]
    with Image.open(files[0]) as img:
        assert (img.format, img.size) == ("JPEG", (1200, 900))
        exif = img.getexif()
        assert exif.get(0x010F)  # Make
        assert exif.get_ifd(0x8769).get(0x9003)  # DateTimeOriginal
        assert exif.get_ifd(0x8825)  # GPS (even seeds)
    stamp = files[0].stat().st_mtime_ns
    again = ingest.build_corpus(corpus.parent.parent, 2, 4, (1200, 900), (640, 480))
    assert again == corpus and files[0].stat().st_mtime_ns == stamp  # reused, not rebuilt


def test_floor_and_unseen_give_the_same_pdq_for_every_file(
    ingest: ModuleType, corpus: Path
) -> None:
    floor = ingest.measure("floor", corpus, 2)
    unseen = ingest.measure("unseen", corpus, 2)
    assert floor.files == unseen.files == 6
    assert len(floor.hashes) == 6 and all(len(h) == 64 for h in floor.hashes.values())
    assert unseen.hashes == floor.hashes
    for side in (floor, unseen):
        assert side.seconds > 0 and side.cpu_seconds > 0
        assert side.main_rss_kib > 0 and side.worker_rss_kib > 0


def test_the_floor_in_process_matches_its_pool(ingest: ModuleType, corpus: Path) -> None:
    assert ingest.run_floor(corpus, 0) == ingest.run_floor(corpus, 2)
