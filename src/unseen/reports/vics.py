"""VICS 2.0 case export (``unseen export CASE --format vics --profile uk|us``).

The shape is the ``#Cases`` document of anchors.md section 3.2: one case, one Media
per distinct MD5, one MediaFile per instance of it in the evidence. Categories are
read in the case's scheme, mapped explicitly to the profile's scheme and written as
the profile's number; a category without an equivalent is left out and said so in
the Media's ``Comments``, never rounded to a neighbour. Flags are the strings
``"true"`` as older VICS writers emit them (newer ones write JSON booleans; readers
accept both).

The document is written record by record (items are read in MD5 order), so memory
does not grow with the case, apart from the item -> category table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import IO, Any

from sqlalchemy import Connection, select

import unseen
from unseen.core.errors import UserError
from unseen.core.timeconv import unix_to_iso
from unseen.matching.mapping import map_category, normalise_profile, vics_number, vics_profiles
from unseen.reports.registry import EXPORTERS, Exporter
from unseen.store import schema as s
from unseen.store.case import Case

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{profile}/$metadata#Cases"
MEDIA_MIME = ("image/", "video/")
ITEM_COLUMNS = ("id", "path", "size", "md5", "sha1", "mime", "mtime", "atime", "deleted")


def case_categories(conn: Connection) -> dict[int, tuple[str, str, str]]:
    """Each automatically categorised item: ``{item_id: (scheme, code, source)}``.

    Reads ``auto_categories`` (written by the matching stage); a NULL category (a
    conflict between sets) is left out. Codes are in the case's scheme; the source is
    the table's ``source`` (``hashset:NAME vN``).
    """
    a = s.auto_categories.c
    scheme = conn.scalar(select(s.case_info.c.value).where(s.case_info.c.key == "scheme"))
    rows = conn.execute(select(a.item_id, a.category, a.source).where(a.category.is_not(None)))
    return {int(i): (str(scheme), str(code), str(origin)) for i, code, origin in rows}


def export_profile(options: dict[str, str], case_scheme: str) -> tuple[str, str]:
    """The profile asked for (``profile=uk``) or derived from the case's scheme, and its
    scheme. Raises UserError for an unknown profile or options."""
    unknown = set(options) - {"profile"}
    if unknown:
        raise UserError(f"vics export has no option {sorted(unknown)[0]!r} (only profile)")
    profiles = vics_profiles()
    if "profile" in options:
        name = normalise_profile(options["profile"].strip()) or ""
        if name not in profiles:
            raise UserError(f"unknown VICS profile {options['profile']!r} (known: uk, us)")
        return name, profiles[name].scheme
    for profile in profiles.values():
        if profile.derive_scheme and profile.scheme == case_scheme:
            return profile.name, profile.scheme
    raise UserError(f"give --profile: the case scheme {case_scheme!r} has no VICS profile")


class VicsExporter(Exporter):
    NAME = "vics"
    DESCRIPTION = "VICS 2.0 case JSON (Project VIC), categories mapped to --profile uk|us"

    def export(self, case: Case, out: IO[str], what: str, options: dict[str, str]) -> int:
        if what != "items":
            raise UserError(f"vics export of {what!r} is not available")
        profile, scheme = export_profile(options, case.info.get("scheme", "uk"))
        head = {
            "@odata.context": CONTEXT.format(profile=profile),
            "value": [
                {
                    "CaseID": "{" + case.info.get("uuid", "") + "}",
                    "CaseNumber": case.info.get("name", ""),
                    "SourceApplicationName": "unseen",
                    "SourceApplicationVersion": unseen.__version__,
                    "Media": [],
                }
            ],
        }
        # "Media" is the last key, so its "[]" is the last one (a case name may hold "[]").
        opening, closing = json.dumps(head, ensure_ascii=False, indent=1).rsplit("[]", 1)
        count = 0
        with case.engine.connect() as conn:
            categories = case_categories(conn)
            out.write(opening + "[\n")
            for md5, rows in groupby(_media_rows(conn), key=lambda r: r["md5"]):
                media = _media(count + 1, md5, list(rows), categories, profile, scheme)
                if media is not None:
                    out.write((",\n" if count else "") + json.dumps(media, ensure_ascii=False))
                    count += 1
            out.write("\n]" + closing + "\n")
        return count


def _media_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    i, src = s.items, s.sources
    query = (
        select(*(i.c[name] for name in ITEM_COLUMNS), src.c.label)
        .select_from(i.join(src, src.c.id == i.c.source_id))
        .where(i.c.md5.is_not(None), i.c.kind == "file")
        .order_by(i.c.md5, i.c.id)
    )
    for row in conn.execute(query):
        yield dict(row._mapping)


def _media(
    media_id: int,
    md5: str,
    rows: list[dict[str, Any]],
    categories: dict[int, tuple[str, str, str]],
    profile: str,
    scheme: str,
) -> dict[str, Any] | None:
    found = {categories[r["id"]] for r in rows if r["id"] in categories}
    is_media = any(str(r["mime"] or "").startswith(MEDIA_MIME) for r in rows)
    if not found and not is_media:
        return None
    first = rows[0]
    media: dict[str, Any] = {"MediaID": media_id, "MD5": md5}
    if first["sha1"]:
        media["SHA1"] = first["sha1"]
    number, comment = _category(found, profile, scheme)
    if number is not None:
        media["Category"] = number
    if comment:
        media["Comments"] = comment
    if any(source.startswith("hashset") for _s, _c, source in found):
        media["IsPrecategorized"] = "true"
    if first["size"] is not None:
        media["MediaSize"] = first["size"]
    if first["mime"]:
        media["MimeType"] = first["mime"]
    media["MediaFiles"] = [_media_file(r) for r in rows]
    return media


def _category(
    found: Iterable[tuple[str, str, str]], profile: str, scheme: str
) -> tuple[int | None, str | None]:
    codes = {(case_scheme, code) for case_scheme, code, _source in found}
    if not codes:
        return None, None
    if len(codes) > 1:
        shown = ", ".join(sorted(code for _s, code in codes))
        return None, f"unseen: instances categorised differently ({shown}); category left out"
    ((case_scheme, code),) = codes
    mapped = map_category(code, case_scheme, scheme)
    number = None if mapped is None else vics_number(mapped, scheme, profile)
    if number is None:
        return None, f"unseen: category {code} ({case_scheme}) has no {profile} equivalent"
    return number, None


def _media_file(row: dict[str, Any]) -> dict[str, Any]:
    path = str(row["path"])
    entry: dict[str, Any] = {
        "MD5": row["md5"],
        "FileName": path.rsplit("/", 1)[-1],
        "FilePath": path,  # the full path of the instance in its evidence source
    }
    # No "Created": our ctime is the inode change time on Unix file systems, not a
    # creation time, and VICS readers would take it for one.
    for key, column in (("Written", "mtime"), ("Accessed", "atime")):
        stamp = unix_to_iso(row[column])
        if stamp:
            entry[key] = stamp
    if row["deleted"]:
        entry["Deleted"] = "true"
    entry["SourceID"] = row["label"]
    return entry


EXPORTERS.register(VicsExporter)
