"""CASE/UCO JSON-LD export (``unseen export CASE --format case``).

CASE (Cyber-investigation Analysis Standard Expression, ontology 1.x on UCO) is the
exchange format forensic tools and labs agree on for *what was examined, how, by
whom and what was found*. The document holds:

* the investigation (the case's name, when it was opened) and the people: the
  examiner and every user named in the audit log (``uco-identity:Person``);
* one provenance record per evidence source (exhibit number = the source's label),
  pointing at the source as an observable with its hash where one was taken;
* the tool and its configuration (``uco-tool:ConfiguredTool``: version, analysers
  and settings of each processing run), and each run as an investigative action
  (who, when, which sources);
* every item as ``uco-observable:File`` - including items that could not be read,
  with the errors met in its description, so nothing is silently missing - with a
  file facet (name, path, size, times), a content-data facet (MD5, SHA-1, SHA-256,
  MIME type), a raster-picture facet and an EXIF facet where the picture has them,
  and a ``Contained_Within`` relationship to its source;
* hash-set matches and reviewer categories as annotations on the file;
* every audit-log entry (logins, reveals, categorisations, exports, promotions) as an
  investigative action with its performer, time, the files it concerns and its
  position in the hash chain.

Identifiers are IRIs under ``urn:unseen:<case uuid>:`` ending in a name-based UUID
(:func:`iri`), so two exports of one case name the same things alike and two cases
never collide. Written node by node: memory
does not grow with the case (apart from the item -> source map).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Connection, inspect, select

from unseen.core.errors import UserError
from unseen.core.timeconv import unix_to_iso
from unseen.reports.registry import EXPORTERS, Exporter
from unseen.store import schema as s
from unseen.store.case import Case

CONTEXT = {
    "kb": "",  # set per case
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-configuration": "https://ontology.unifiedcyberontology.org/uco/configuration/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
HASHES = (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256"))
EXIF_KEYS = (
    ("make", "Make"),
    ("model", "Model"),
    ("serial", "BodySerialNumber"),
    ("lens", "LensModel"),
    ("software", "Software"),
    ("datetime_original", "DateTimeOriginal"),
    ("gps_lat", "GPSLatitude"),
    ("gps_lon", "GPSLongitude"),
    ("gps_alt", "GPSAltitude"),
    ("orientation", "Orientation"),
)


def iri(case_uuid: str, local: str) -> str:
    """The identifier of ``local`` (``kb:item-12``) in a case's export.

    UCO asks that identifiers end in a UUID; a name-based one (UUID 5 in the case's
    namespace) keeps them stable between exports of the same case.
    """
    try:
        namespace = uuid.UUID(case_uuid)
    except ValueError:
        namespace = uuid.NAMESPACE_URL
    return f"{local}-{uuid.uuid5(namespace, local)}"


def _with_uuids(value: Any, case_uuid: str) -> Any:
    if isinstance(value, dict):
        return {
            k: iri(case_uuid, v)
            if k == "@id" and isinstance(v, str) and v.startswith("kb:")
            else _with_uuids(v, case_uuid)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_with_uuids(v, case_uuid) for v in value]
    return value


def _dt(value: str | None) -> dict[str, str] | None:
    return None if not value else {"@type": "xsd:dateTime", "@value": value}


def _ref(node_id: str) -> dict[str, str]:
    return {"@id": node_id}


def _hash(node_id: str, method: str, value: str) -> dict[str, Any]:
    return {
        "@id": node_id,
        "@type": "uco-types:Hash",
        "uco-types:hashMethod": method,
        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": value},
    }


def _clean(node: dict[str, Any]) -> dict[str, Any]:
    """Leave out absent values: JSON-LD has no null literal worth validating."""
    return {k: v for k, v in node.items() if v is not None and v != []}


class CaseUcoExporter(Exporter):
    NAME = "case"
    DESCRIPTION = "CASE/UCO JSON-LD: investigation, provenance, tool, files, matches, audit"

    def export(self, case: Case, out: IO[str], what: str, options: dict[str, str]) -> int:
        if what != "items":
            raise UserError(f"case export of {what!r} is not available")
        if options:
            raise UserError(f"case export has no options (given: {', '.join(sorted(options))})")
        case_uuid = case.info.get("uuid", "")
        kb = f"urn:unseen:{case_uuid}:"
        head = {"@context": {**CONTEXT, "kb": kb}, "@graph": []}
        opening, closing = json.dumps(head, indent=1).rsplit("[]", 1)
        out.write(opening + "[\n")
        count = 0
        first = True
        with case.engine.connect() as conn:
            writer = _Writer(conn, case.info)
            for node, is_file in writer.nodes():
                node = _with_uuids(_clean(node), case_uuid)
                out.write(("" if first else ",\n") + json.dumps(node, ensure_ascii=False))
                first = False
                count += is_file
        out.write("\n]" + closing + "\n")
        return count


class _Writer:
    """Yields the graph's nodes in an order that reads well: who, what, then files."""

    def __init__(self, conn: Connection, info: dict[str, str]) -> None:
        self.conn = conn
        self.info = info
        self.people: set[str] = set()
        self.tables = set(inspect(conn).get_table_names())

    def nodes(self) -> Iterator[tuple[dict[str, Any], bool]]:
        examiner = self.info.get("examiner") or "unknown"
        objects: list[dict[str, str]] = []
        yield self._person(examiner), False
        for node in self._sources():
            if node["@type"] == "case-investigation:ProvenanceRecord":
                objects.append(_ref(node["@id"]))
            yield node, False
        for node in self._runs(examiner):
            objects.append(_ref(node["@id"]))
            yield node, False
        yield (
            {
                "@id": "kb:investigation",
                "@type": "case-investigation:Investigation",
                "uco-core:name": self.info.get("name", ""),
                "case-investigation:focus": "victim identification",
                "uco-core:startTime": _dt(self.info.get("created_at")),
                "uco-core:description": f"unseen case {self.info.get('uuid', '')}",
                "uco-core:object": objects or None,
            },
            False,
        )
        for item in self._items():
            yield from ((n, n["@type"] == "uco-observable:File") for n in item)
        yield from ((n, False) for n in self._matches())
        yield from ((n, False) for n in self._reviews())
        yield from ((n, False) for n in self._audit())

    def _person(self, name: str) -> dict[str, Any]:
        self.people.add(name)
        return {
            "@id": _person_id(name),
            "@type": "uco-identity:Person",
            "uco-core:name": name,
        }

    def _sources(self) -> Iterator[dict[str, Any]]:
        for r in self.conn.execute(select(s.sources).order_by(s.sources.c.id)):
            source_id = f"kb:source-{r.id}"
            printed = json.loads(r.fingerprint) if r.fingerprint else {}
            facets: list[dict[str, Any]] = []
            if printed.get("sha256"):
                facets.append(
                    {
                        "@id": f"kb:source-{r.id}-content",
                        "@type": "uco-observable:ContentDataFacet",
                        "uco-observable:hash": [
                            _hash(f"kb:source-{r.id}-sha256", "SHA256", printed["sha256"])
                        ],
                        "uco-observable:sizeInBytes": printed.get("bytes"),
                    }
                )
            facets.append(
                {
                    "@id": f"kb:source-{r.id}-file",
                    "@type": "uco-observable:FileFacet",
                    "uco-observable:filePath": r.path,
                    "uco-observable:isDirectory": r.kind == "folder",
                }
            )
            yield {
                "@id": source_id,
                "@type": "uco-observable:File",
                "uco-core:name": r.label,
                "uco-core:description": f"evidence source ({r.kind}), fingerprint {r.fingerprint}",
                "uco-core:hasFacet": facets,
            }
            yield {
                "@id": f"kb:provenance-{r.id}",
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": r.label,
                "uco-core:description": f"added by {r.added_by} at {r.added_at}",
                "uco-core:object": [_ref(source_id)],
            }

    def _runs(self, examiner: str) -> Iterator[dict[str, Any]]:
        sources = [_ref(f"kb:source-{i}") for i in self.conn.scalars(select(s.sources.c.id))]
        for r in self.conn.execute(select(s.runs).order_by(s.runs.c.id)):
            entries = [
                ("tool_version", r.tool_version),
                ("workers", str(r.workers)),
                ("analysers", r.analysers),
                ("settings", r.settings),
            ]
            tool_id = f"kb:tool-run-{r.id}"
            yield {
                "@id": tool_id,
                "@type": "uco-tool:ConfiguredTool",
                "uco-core:name": "unseen",
                "uco-tool:version": r.tool_version,
                "uco-tool:toolType": "digital forensics workbench",
                "uco-configuration:usesConfiguration": {
                    "@id": f"kb:configuration-run-{r.id}",
                    "@type": "uco-configuration:Configuration",
                    "uco-configuration:configurationEntry": [
                        {
                            "@id": f"kb:configuration-run-{r.id}-{name}",
                            "@type": "uco-configuration:ConfigurationEntry",
                            "uco-configuration:itemName": name,
                            "uco-configuration:itemValue": value,
                        }
                        for name, value in entries
                    ],
                },
            }
            performer = r.examiner or examiner
            if performer not in self.people:
                yield self._person(performer)
            yield {
                "@id": f"kb:action-run-{r.id}",
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": f"unseen process (run {r.id})",
                "uco-action:startTime": _dt(r.started_at),
                "uco-action:endTime": _dt(r.finished_at),
                "uco-action:performer": _ref(_person_id(performer)),
                "uco-action:instrument": [_ref(tool_id)],
                "uco-action:object": sources,
            }

    def _items(self) -> Iterator[list[dict[str, Any]]]:
        i, im, ex = s.items, s.images, s.exif
        joined = i.outerjoin(im, im.c.item_id == i.c.id).outerjoin(ex, ex.c.item_id == i.c.id)
        exif = (ex.c[k].label(f"exif_{k}") for k, _ in EXIF_KEYS)
        query = (
            select(i, *exif, im.c.width, im.c.height, im.c.format)
            .select_from(joined)
            .order_by(i.c.id)
        )
        errors: dict[int, list[str]] = defaultdict(list)
        e = s.item_errors
        for item_id, analyser, message in self.conn.execute(
            select(e.c.item_id, e.c.analyser, e.c.message).order_by(e.c.id)
        ):
            errors[int(item_id)].append(f"{analyser}: {message}")
        for r in self.conn.execute(query):
            yield _file_nodes(r, errors.get(int(r.id), []))

    def _matches(self) -> Iterator[dict[str, Any]]:
        if "matches" not in self.tables:
            return
        m = s.matches
        for r in self.conn.execute(select(m).order_by(m.c.item_id, m.c.id)):
            category = f", category {r.category} ({r.set_scheme})" if r.category else ""
            good = ", known-good" if r.known_good else ""
            exact = r.kind in ("md5", "sha1", "sha256")
            distance = "" if exact or r.distance is None else f" at distance {r.distance}"
            yield {
                "@id": f"kb:match-{r.id}",
                "@type": "uco-core:Annotation",
                "uco-core:object": [_ref(f"kb:item-{r.item_id}")],
                "uco-core:tag": ["hash-set match"],
                "uco-core:statement": (
                    f"matches hash set {r.set_name} v{r.set_version} entry {r.entry_ref} "
                    f"by {r.kind}{distance}{category}{good}"
                ),
                "uco-core:objectCreatedTime": _dt(r.matched_at),
            }

    def _reviews(self) -> Iterator[dict[str, Any]]:
        t = s.review_state
        for r in self.conn.execute(select(t).order_by(t.c.item_id)):
            yield {
                "@id": f"kb:review-{r.item_id}",
                "@type": "uco-core:Annotation",
                "uco-core:object": [_ref(f"kb:item-{r.item_id}")],
                "uco-core:tag": ["reviewer category"],
                "uco-core:statement": f"categorised {r.category} by {r.user}",
                "uco-core:objectCreatedTime": _dt(r.at),
            }

    def _audit(self) -> Iterator[dict[str, Any]]:
        known = set(self.conn.scalars(select(s.items.c.id)))
        for r in self.conn.execute(select(s.audit_log).order_by(s.audit_log.c.id)):
            if r.user not in self.people:
                yield self._person(r.user)
            details = json.loads(r.details or "{}")
            items = [i for i in _item_ids(details, r.target) if i in known]
            yield {
                "@id": f"kb:audit-{r.id}",
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": r.action,
                "uco-core:description": (
                    f"{r.action} {r.target}: {r.details} (audit entry {r.id}, hash {r.hash}, "
                    f"previous {r.prev_hash})"
                ),
                "uco-action:startTime": _dt(r.at),
                "uco-action:performer": _ref(_person_id(r.user)),
                "uco-action:object": [_ref(f"kb:item-{i}") for i in items],
            }


def _person_id(name: str) -> str:
    return "kb:person-" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in name)


def _item_ids(details: dict[str, Any], target: str) -> list[int]:
    """The items an audit entry concerns: ``items`` in its details, or ``item N``."""
    found = details.get("items")
    if isinstance(found, list):
        return sorted({int(i) for i in found if isinstance(i, int)})
    parts = target.split()
    if len(parts) == 2 and parts[0] == "item" and parts[1].isdigit():
        return [int(parts[1])]
    return []


def _file_nodes(r: Any, errors: list[str]) -> list[dict[str, Any]]:
    """A file and its relationship to its source."""
    node_id = f"kb:item-{r.id}"
    name = str(r.path).rsplit("/", 1)[-1]
    facets: list[dict[str, Any]] = [
        {
            "@id": f"{node_id}-file",
            "@type": "uco-observable:FileFacet",
            "uco-observable:fileName": name,
            "uco-observable:filePath": r.path,
            "uco-observable:sizeInBytes": r.size,
            "uco-observable:modifiedTime": _dt(unix_to_iso(r.mtime)),
            "uco-observable:accessedTime": _dt(unix_to_iso(r.atime)),
            "uco-observable:allocationStatus": "deleted" if r.deleted else None,
        }
    ]
    hashes = [
        _hash(f"{node_id}-{column}", method, getattr(r, column))
        for column, method in HASHES
        if getattr(r, column)
    ]
    if hashes or r.mime:
        facets.append(
            {
                "@id": f"{node_id}-content",
                "@type": "uco-observable:ContentDataFacet",
                "uco-observable:hash": hashes,
                "uco-observable:mimeType": r.mime,
                "uco-observable:sizeInBytes": r.size,
            }
        )
    if r.width is not None:
        facets.append(
            {
                "@id": f"{node_id}-raster",
                "@type": "uco-observable:RasterPictureFacet",
                "uco-observable:pictureWidth": int(r.width),
                "uco-observable:pictureHeight": int(r.height),
                "uco-observable:pictureType": r.format,
            }
        )
    exif = [(key, getattr(r, f"exif_{col}")) for col, key in EXIF_KEYS]
    exif = [(k, v) for k, v in exif if v is not None]
    if exif:
        facets.append(
            {
                "@id": f"{node_id}-exif",
                "@type": "uco-observable:EXIFFacet",
                "uco-observable:exifData": {
                    "@id": f"{node_id}-exif-data",
                    "@type": "uco-types:ControlledDictionary",
                    "uco-types:entry": [
                        {
                            "@id": f"{node_id}-exif-{k}",
                            "@type": "uco-types:ControlledDictionaryEntry",
                            "uco-types:key": k,
                            "uco-types:value": str(v),
                        }
                        for k, v in exif
                    ],
                },
            }
        )
    status = "" if r.status == "done" else f"; not processed ({r.status})"
    if errors:  # what could not be read is said, never left out
        status += "; errors: " + "; ".join(errors)
    return [
        {
            "@id": node_id,
            "@type": "uco-observable:File",
            "uco-core:description": f"{r.kind} in the evidence{status}",
            "uco-core:hasFacet": [_clean(f) for f in facets],
        },
        {
            "@id": f"{node_id}-in",
            "@type": "uco-core:Relationship",
            "uco-core:source": [_ref(node_id)],
            "uco-core:target": _ref(f"kb:source-{r.source_id}"),
            "uco-core:kindOfRelationship": "Contained_Within",
            "uco-core:isDirectional": True,
        },
    ]


EXPORTERS.register(CaseUcoExporter)
