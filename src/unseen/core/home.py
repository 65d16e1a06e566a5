"""Where unseen keeps what all cases share: the hash-set library and agency schemes.

Home: ``--library PATH`` > ``$UNSEEN_HOME`` > ``$XDG_DATA_HOME/unseen`` >
``~/.local/share/unseen``.
"""

from __future__ import annotations

import os
from pathlib import Path


def library_home(explicit: Path | None = None) -> Path:
    """The shared home folder (it may not exist yet)."""
    if explicit is not None:
        return explicit
    if os.environ.get("UNSEEN_HOME"):
        return Path(os.environ["UNSEEN_HOME"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "unseen"
