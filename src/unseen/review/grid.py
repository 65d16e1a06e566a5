"""The grid: filters from the query string, and pages read by keyset (never OFFSET).

A page is "the next N rows after this sort key", so page 500 costs what page 1 costs.
The cursor is the sort key of the row at the page edge, base64url-encoded JSON; it
selects rows, it never names a file.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.sql.util import find_tables

from unseen import plugins
from unseen.core.errors import UserError
from unseen.core.hooks import FactFilter
from unseen.core.schemes import Scheme
from unseen.review.data import CaseView
from unseen.store import schema as s

SORTS = ("id", "path", "time", "lead")
CHOICES = ("", "yes", "no")


@dataclass(frozen=True, slots=True)
class GridFilter:
    """What the reviewer asked to see; every field comes from the query string."""

    cat: str = (
        ""  # "", none, auto, auto:CODE, conflict, ignorable, rev, rev:CODE, rev:none, disagree
    )
    source: int | None = None
    deleted: str = ""  # "", yes, no
    gps: str = ""
    camera: str = ""
    errors: str = ""
    unexamined: str = ""  # "", yes, no: containers whose contents were not examined
    carved: str = ""  # "", yes, no: recovered from unallocated space
    faces: str = ""  # "", yes, no: the deep pass found a face
    linked: str = ""  # "", yes, no: downloaded, shared over P2P or exchanged in a message
    text: str = ""  # text read in the picture contains
    serial: str = ""  # camera body serial is
    cluster: int | None = None
    q: str = ""  # path contains
    tfrom: str = ""  # time key >= (ISO prefix)
    tto: str = ""  # time key < (ISO prefix)
    sort: str = "id"
    # The plugins' filters (grid_filters hooks) that are set: (name, value) pairs.
    facts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> GridFilter:
        """Parse leniently: anything malformed is ignored rather than refused."""

        def number(key: str) -> int | None:
            value = params.get(key, "")
            return int(value) if value.isdigit() and len(value) < 12 else None

        def choice(key: str) -> str:
            value = params.get(key, "")
            return value if value in CHOICES else ""

        sort = params.get("sort", "id")
        return cls(
            cat=params.get("cat", "")[:64],
            source=number("source"),
            deleted=choice("deleted"),
            gps=choice("gps"),
            camera=choice("camera"),
            errors=choice("errors"),
            unexamined=choice("unexamined"),
            carved=choice("carved"),
            faces=choice("faces"),
            linked=choice("linked"),
            text=params.get("text", "")[:128],
            serial=params.get("serial", "")[:64],
            cluster=number("cluster"),
            q=params.get("q", "")[:256],
            tfrom=params.get("tfrom", "")[:32],
            tto=params.get("tto", "")[:32],
            sort=sort if sort in SORTS else "id",
            facts=_fact_params(params),
        )

    def fact(self, name: str) -> str:
        """The value of a plugin's filter ("" when not set)."""
        return dict(self.facts).get(name, "")

    def params(self, **changes: Any) -> dict[str, str]:
        """The non-default fields as query parameters (for links and forms)."""
        current = replace(self, **changes)
        out = {}
        for f in fields(self):
            value = getattr(current, f.name)
            if f.name == "facts":
                out.update(value)
            elif value not in ("", None) and not (f.name == "sort" and value == "id"):
                out[f.name] = str(value)
        return out


def parse_where(text: str) -> dict[str, str]:
    """A grid filter written as the grid's query string (``faces=yes&place=leeds``),
    for commands: unlike the grid's lenient reading, a name that is no filter is an
    error (a typo must not widen an export to the whole case)."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise UserError(f"--where {text!r}: expected NAME=VALUE&NAME=VALUE") from exc
    known = {f.name for f in fields(GridFilter)} - {"facts"}
    known |= {f.name for f in fact_filters()}
    for name, _ in pairs:
        if name not in known:
            raise UserError(
                f"--where: no filter named {name!r} (known: {', '.join(sorted(known))})"
            )
    return dict(pairs)


def filtered_ids(conn: Connection, scheme: Scheme, params: Mapping[str, str]) -> list[int]:
    """The items a grid filter shows, in id order (what bulk actions and exports use)."""
    return GridQuery(CaseView(scheme), conn, GridFilter.from_params(params)).ids()


def fact_filters() -> list[FactFilter]:
    """The plugins' grid filters; one named as a parameter of the grid is refused (it
    would read the built-in filter's value)."""
    found = plugins.grid_filters()
    taken = {f.name for f in fields(GridFilter)} | {"after", "before"}
    for spec in found:
        if spec.name in taken:
            raise ValueError(f"grid filter {spec.name!r} is one of the grid's own")
    return found


def _fact_params(params: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The plugins' filters in the query string, parsed as leniently as the others."""
    found = []
    for spec in fact_filters():
        value = params.get(spec.name, "")
        value = value[:128] if spec.text else (value if value in CHOICES else "")
        if value:
            found.append((spec.name, value))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class GridPage:
    rows: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> list[Any] | None:
    """A cursor back to its key, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error):
        return None
    ok = isinstance(key, list) and len(key) == 2 and _fits(key[1])
    # A key outside SQL's 64-bit range would overflow the driver (an HTTP 500).
    first_ok = ok and (_fits(key[0]) or isinstance(key[0], str | float))
    return key if first_ok else None


def _fits(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def time_key(conn: Connection) -> ColumnElement[str]:
    """EXIF DateTimeOriginal (camera clock) or else mtime (UTC), as ISO text to seconds."""
    i, ex = s.items, s.exif
    exif_time = func.substr(ex.c.datetime_original, 1, 19)
    if conn.dialect.name == "postgresql":
        stamp = func.to_timestamp(i.c.mtime).op("AT TIME ZONE")(literal("UTC"))
        mtime = func.to_char(stamp, 'YYYY-MM-DD"T"HH24:MI:SS')
    else:
        mtime = func.strftime("%Y-%m-%dT%H:%M:%S", i.c.mtime, "unixepoch")
    return func.coalesce(exif_time, mtime, "")


def _like(words: str) -> str:
    """A LIKE pattern for text containing ``words`` literally (escape character \\)."""
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _linked() -> ColumnElement[bool]:
    """The item arrived by a route the case recorded: a P2P or browser download tied to
    it, or a message that carried it."""
    i = s.items
    return or_(
        exists().where(s.artefact_links.c.item_id == i.c.id),
        exists().where(s.media_provenance.c.item_id == i.c.id),
        exists().where(s.msg_attachments.c.linked_item_id == i.c.id),
    )


def has_errors() -> ColumnElement[bool]:
    """The item has a recorded problem: an analyser's or an internet-artefact parser's."""
    i = s.items
    return or_(
        exists().where(s.item_errors.c.item_id == i.c.id),
        exists().where(s.artefact_errors.c.item_id == i.c.id),
    )


def _yes_no(choice: str, condition: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    return [condition if choice == "yes" else not_(condition)]


class GridQuery:
    """SQL for one filter: its conditions, its rows and its keyset pages."""

    def __init__(self, view: CaseView, conn: Connection, flt: GridFilter) -> None:
        self.view, self.conn, self.flt = view, conn, flt
        self.time = time_key(conn)
        self.lead = self._lead_score()
        self.key = {
            "id": s.items.c.id,
            "path": s.items.c.path,
            "time": self.time,
            "lead": self.lead,
        }[flt.sort]
        self.descending = flt.sort == "lead"

    def _lead_score(self) -> Any:
        lead = s.leads
        best = (
            select(func.max(lead.c.score))
            .where(lead.c.target_kind == "item", lead.c.target_id == s.items.c.id)
            .scalar_subquery()
        )
        return func.coalesce(best, -1.0)

    def source(self) -> Any:
        return self.view.joined().outerjoin(s.exif, s.exif.c.item_id == s.items.c.id)

    def conditions(self) -> list[ColumnElement[bool]]:
        v, f, i = self.view, self.flt, s.items
        # Not-examined containers and unparsable artefacts (a browser's History) are
        # rarely pictures: those filters show every item, or their problems stay unseen.
        every = f.unexamined == "yes" or f.errors == "yes"
        conds: list[ColumnElement[bool]] = [] if every else [v.media()]
        conds += self._category(f.cat)
        if f.source is not None:
            conds.append(i.c.source_id == f.source)
        if f.deleted:
            conds += _yes_no(f.deleted, i.c.deleted.is_(True))
        if f.gps:
            conds += _yes_no(f.gps, s.exif.c.gps_lat.is_not(None))
        if f.camera:
            conds += _yes_no(
                f.camera, or_(s.exif.c.make.is_not(None), s.exif.c.model.is_not(None))
            )
        if f.errors:
            conds += _yes_no(f.errors, has_errors())
        if f.unexamined:
            e = s.item_errors
            unexamined = exists().where(e.c.item_id == i.c.id, e.c.message.like("not examined:%"))
            conds += _yes_no(f.unexamined, unexamined)
        conds += self._facts()
        if f.cluster is not None:
            cm = s.cluster_members
            conds.append(exists().where(cm.c.item_id == i.c.id, cm.c.cluster_id == f.cluster))
        if f.q:
            conds.append(i.c.path.like(_like(f.q), escape="\\"))
        if f.tfrom:
            conds.append(self.time >= f.tfrom)
        if f.tto:
            conds.append(self.time < f.tto)
        return conds

    def _facts(self) -> list[ColumnElement[bool]]:
        """Filters on what the pipeline recorded about an item (one per fact)."""
        f, i = self.flt, s.items
        conds: list[ColumnElement[bool]] = []
        for spec in fact_filters():
            value = f.fact(spec.name)
            if value and spec.text:
                conds.append(spec.where(value))
            elif value:
                conds += _yes_no(value, spec.where("yes"))
        if f.carved:
            conds += _yes_no(f.carved, i.c.carved.is_(True))
        if f.faces:
            conds += _yes_no(f.faces, exists().where(s.faces.c.item_id == i.c.id))
        if f.linked:
            conds += _yes_no(f.linked, _linked())
        if f.text:
            o = s.ocr_text
            said = o.c.text.ilike(_like(f.text), escape="\\")
            conds.append(exists().where(o.c.item_id == i.c.id, said))
        if f.serial:
            conds.append(s.exif.c.serial == f.serial)  # EXIF is joined in every grid query
        return conds

    def _category(self, cat: str) -> list[ColumnElement[bool]]:
        v, r = self.view, s.review_state.c
        if cat == "none":
            return [not_(v.auto_categorised()), not_(v.reviewer_categorised())]
        if cat == "rev":
            return [r.category.is_not(None)]
        if cat == "rev:none":
            return [r.category.is_(None)]
        if cat.startswith("rev:"):
            return [r.category == cat[4:]]
        a = s.auto_categories.c
        if cat == "auto":
            return [v.auto_categorised()]
        if cat == "auto:none":
            return [not_(v.auto_categorised())]
        if cat == "conflict":
            return [a.conflict.is_(True)]
        if cat == "ignorable":
            return [a.known_good.is_(True)]
        if cat == "disagree":
            return [v.disagree()]
        if cat.startswith("auto:"):
            return [a.category == cat[5:]]
        return []

    def ids(self) -> list[int]:
        """Every matching item id (for bulk actions on a whole filter), in key order."""
        query = select(s.items.c.id).select_from(self.source()).where(*self.conditions())
        return [int(x) for x in self.conn.execute(query.order_by(s.items.c.id)).scalars()]

    def total(self, totals: Totals | None = None) -> int:
        """How many items match (from ``totals`` while the case is unchanged)."""
        if totals is not None:
            key = tuple(sorted(self.flt.params().items()))
            return totals.get(self.conn, key, self.total)
        conds = self.conditions()
        query = select(func.count()).select_from(self._counted(conds)).where(*conds)
        return int(self.conn.execute(query).scalar() or 0)

    def _counted(self, conds: list[ColumnElement[bool]]) -> Any:
        """``source`` with only the joins the conditions use: the optional tables are
        joined one row at most per item, so leaving out the others counts the same
        items, from an index of ``items`` alone where the conditions allow."""
        used = {t for cond in conds for t in find_tables(cond, check_columns=True)}
        joined: Any = s.items
        for table in (s.review_state, s.auto_categories, s.exif):
            if table in used:
                joined = joined.outerjoin(table, table.c.item_id == s.items.c.id)
        return joined

    def _select(self) -> Select[Any]:
        v, i, r = self.view, s.items, s.review_state
        columns: list[Any] = [
            i.c.id,
            i.c.path,
            i.c.mime,
            i.c.source_id,
            self._thumbnail().label("thumbnail"),
            r.c.category.label("rev"),
            self.time.label("time"),
            has_errors().label("has_errors"),
            self.key.label("sort_key"),
        ]
        a = s.auto_categories.c
        columns += [a.category.label("auto"), a.conflict, a.known_good]
        columns.append(v.disagree().label("disagree"))
        source = self.source().outerjoin(s.images, s.images.c.item_id == i.c.id)
        source = source.outerjoin(s.videos, s.videos.c.item_id == i.c.id)
        return select(*columns).select_from(source).where(*self.conditions())

    def _thumbnail(self) -> Any:
        """A picture's thumbnail, else a video's contact sheet of frames."""
        return func.coalesce(s.images.c.thumbnail, s.videos.c.contact_sheet)

    def page(
        self, size: int, after: str = "", before: str = "", totals: Totals | None = None
    ) -> GridPage:
        """``size`` rows after the ``after`` cursor (or before ``before``), plus the total."""
        backwards = bool(before) and not after
        cursor = decode_cursor(before if backwards else after)
        forward = not backwards
        query = self._select()
        if cursor is not None:
            query = query.where(self._beyond(cursor, forward))
        key, tie = self.key, s.items.c.id
        ascending = forward != self.descending
        order = [key.asc(), tie.asc()] if ascending else [key.desc(), tie.desc()]
        if self.descending:  # score descending, ties by id ascending (reversed when paging back)
            order = [key.desc(), tie.asc()] if forward else [key.asc(), tie.desc()]
        rows = [
            dict(x._mapping) for x in self.conn.execute(query.order_by(*order).limit(size + 1))
        ]
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_prev = (more if backwards else cursor is not None) and bool(rows)
        has_next = (more if forward else True) and bool(rows)
        return GridPage(
            rows=rows,
            total=self.total(totals),
            next_cursor=encode_cursor([rows[-1]["sort_key"], rows[-1]["id"]])
            if has_next
            else None,
            prev_cursor=encode_cursor([rows[0]["sort_key"], rows[0]["id"]]) if has_prev else None,
        )

    def _beyond(self, cursor: list[Any], forward: bool) -> ColumnElement[bool]:
        key, tie = self.key, s.items.c.id
        value, last_id = cursor
        key_after = (key < value) if self.descending == forward else (key > value)
        id_after = (tie > last_id) if forward else (tie < last_id)
        return or_(key_after, and_(key == value, id_after))


class Totals:
    """Each filter's count of matching items, counted again only once the case has
    changed: paging through a filter's results then costs no recount of every item per
    page. Changed means, for SQLite, that its database or write-ahead log file was
    written since (any commit, also by a fast pass running beside the server); for
    other databases there is no such cheap sign and every page counts."""

    MAX = 256  # filters remembered per case version

    def __init__(self) -> None:
        self._version: tuple[int, ...] | None = None
        self._found: dict[tuple[tuple[str, str], ...], int] = {}
        self._lock = threading.Lock()

    def get(
        self, conn: Connection, key: tuple[tuple[str, str], ...], count: Callable[[], int]
    ) -> int:
        version = case_version(conn)
        if version is None:
            return count()
        with self._lock:
            if version != self._version:
                self._version, self._found = version, {}
            found = self._found.get(key)
        if found is None:
            found = count()
            with self._lock:
                if version == self._version and len(self._found) < self.MAX:
                    self._found[key] = found
        return found


def case_version(conn: Connection) -> tuple[int, ...] | None:
    """A sign that changes whenever an SQLite case is written (size and modification
    time of its database and write-ahead log), or None for other databases."""
    url = conn.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    sign: list[int] = []
    for path in (url.database, url.database + "-wal"):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            sign += [0, 0]
            continue
        sign += [st.st_mtime_ns, st.st_size]
    return tuple(sign)
