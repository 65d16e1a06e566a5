"""A file named like a picture that holds none is flagged and says why, empty ones too."""

from __future__ import annotations

from pathlib import Path

from .helpers import item_errors, process_files


def test_an_empty_file_named_jpg_is_flagged_with_an_error(tmp_path: Path) -> None:
    records = process_files(
        tmp_path, {"empty.jpg": b"", "empty.bin": b"", "text.jpg": b"just some words\n"}
    )
    empty = records["empty.jpg"]
    assert (empty["mime"], empty["extension_mismatch"]) == ("application/x-empty", True)
    assert item_errors(empty, "image") == [
        "image: named like an image (.jpg) but the file is empty"
    ]
    # The same flag and kind of error as any other non-picture under a picture's name.
    text = records["text.jpg"]
    assert text["extension_mismatch"] is True
    assert item_errors(text, "image") == [
        "image: named like an image (.jpg) but the content is text/plain; not decoded"
    ]
    # An empty file under a neutral name claims nothing.
    bin_ = records["empty.bin"]
    assert (bin_["extension_mismatch"], bin_["errors"]) == (None, [])
