"""Where unseen keeps what all cases share: the hash-set library and agency schemes.

Home: ``--library PATH`` > the case's ``library`` setting (its ``case.toml``) >
``$UNSEEN_HOME`` > ``$XDG_DATA_HOME/unseen`` > ``~/.local/share/unseen``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from unseen.core.errors import UserError
from unseen.core.settings import Settings

log = logging.getLogger(__name__)


def library_home(explicit: Path | None = None, case_root: Path | None = None) -> Path:
    """The shared home folder (it may not exist yet); with ``case_root``, the library
    that case names in its settings comes before the environment's."""
    if explicit is not None:
        return explicit
    named = case_library(case_root) if case_root is not None else None
    if named is not None:
        return named
    if os.environ.get("UNSEEN_HOME"):
        return Path(os.environ["UNSEEN_HOME"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "unseen"


def case_library(case_root: Path) -> Path | None:
    """The library folder the case's ``case.toml`` names, if it names one.

    A ``case.toml`` that cannot be read names none here (logged): ``unseen process``
    refuses it with the reason, but recording an audited action must not fail on it.
    """
    try:
        library = Settings.from_case(case_root).library
    except UserError as exc:
        log.warning("case library setting not read: %s", exc)
        return None
    return Path(library) if library else None
