"""Sources opened once per process are reused only for the same keys."""

from __future__ import annotations

from pathlib import Path

from unseen.core.models import SourceSpec
from unseen.sources.base import close_sources, open_source


def test_a_source_opened_with_one_key_never_serves_another(tmp_path: Path) -> None:
    plain = SourceSpec(1, "folder", str(tmp_path), "EV")
    keyed = SourceSpec(1, "folder", str(tmp_path), "EV", keys=(("*", "secret"),))
    try:
        assert plain == keyed  # a key never decides equality ...
        assert open_source(plain) is open_source(plain)
        assert open_source(keyed) is not open_source(plain)  # ... nor which source serves
        assert open_source(keyed).spec.keys == (("*", "secret"),)
    finally:
        close_sources()
