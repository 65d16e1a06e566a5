"""The profile's sections, one builder per behaviour (docs B.0): access and search;
acquisition channels; contact; concealment; storage and devices. Each builder takes
the case connection and the provenance groups and returns a ``Section``."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from unseen.internet.profile import Groups, Section
from unseen.internet.sections.access import access
from unseen.internet.sections.acquisition import acquisition
from unseen.internet.sections.contact import concealment, contact
from unseen.internet.sections.storage import storage

SECTION_BUILDERS: tuple[Callable[[Connection, Groups], Section], ...] = (
    access,
    acquisition,
    contact,
    concealment,
    storage,
)
