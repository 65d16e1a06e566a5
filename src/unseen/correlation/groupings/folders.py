"""Same folder or archive: pictures stored together were often obtained together.

One cluster per folder (or archive, or disk-image directory) holding at least two
pictures. On its own a folder is weak evidence, so it makes no lead of its own; it
matters when the folder also holds known material.
"""

from __future__ import annotations

import posixpath
from array import array
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Connection

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, SameReason
from unseen.correlation.facts import Facts


class FolderGrouping(Grouping):
    NAME = "folders"
    VERSION = "1"
    KIND = "folder"
    DESCRIPTION = "pictures stored in the same folder or archive"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        by_folder: dict[tuple[int, str], array[int]] = defaultdict(lambda: array("q"))
        for f in facts.scan("source_id", "path", "mime"):
            if f.is_image:
                by_folder[(f.source_id, posixpath.dirname(f.path))].append(f.id)
        for (source_id, folder), members in sorted(by_folder.items()):
            if len(members) < 2:
                continue
            label = folder or "(top folder)"
            yield Cluster(
                self.KIND,
                f"{source_id}|{folder}",
                label,
                1.0,
                SameReason(members, f"stored in {label}"),
                {"source_id": source_id, "folder": folder},
            )


GROUPINGS.register(FolderGrouping)
