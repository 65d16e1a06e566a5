"""CASE/UCO export: the case as JSON-LD that case-utils' SHACL validation accepts."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from unseen.core.schemes import load_scheme
from unseen.demo.synth import CAMERAS
from unseen.engine.runner import process_case
from unseen.matching.library import Library
from unseen.reports.case_uco import iri
from unseen.review.decisions import categorise
from unseen.store import repo
from unseen.store.case import Case

from .cases import camera, plain, shot
from .test_library import QUICK, ids

VALIDATE = Path(sys.executable).with_name("case_validate")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, unseen_exe: Path) -> tuple[Case, Path]:
    root = tmp_path_factory.mktemp("uco")
    ev, home = root / "ev", root / "home"
    plain(ev / "chat/plain.jpg", shot(801, None))
    camera(ev / "DCIM/IMG_0001.JPG", shot(802, None), "canon-80d", 0)
    (ev / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    md5 = hashlib.md5((ev / "chat/plain.jpg").read_bytes()).hexdigest()
    (root / "known.txt").write_text(md5 + "\n")
    library = Library.open(home)
    library.import_file(root / "known.txt", "known", "md5list", scheme="uk", category="B")
    library.close()
    case = Case.create(root / "case", name="2026/019")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSEEN_HOME", str(home))
        process_case(case, workers=0, settings=QUICK)
    with case.engine.begin() as conn:
        categorise(conn, load_scheme("uk"), "rev1", [ids(case)["DCIM/IMG_0001.JPG"]], "A")
    out = root / "case.jsonld"
    done = subprocess.run(
        [str(unseen_exe), "export", str(case.root), "--format", "case", "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exported 3 records" in done.stderr
    return case, out


def graph(case: Case, out: Path) -> dict[str, dict[str, Any]]:
    """Nodes by their local name (``kb:item-12``), references too."""
    back = {}
    nodes = json.loads(out.read_text())["@graph"]

    def local(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: back.get(v, v) if k == "@id" else local(v) for k, v in value.items()}
        if isinstance(value, list):
            return [local(v) for v in value]
        return value

    for n in nodes:
        name = n["@id"].rsplit("-", 5)[0]
        assert iri(case.info["uuid"], name) == n["@id"]
        back[n["@id"]] = name
    for n in nodes:  # nested facets have identifiers of their own
        for facet in n.get("uco-core:hasFacet", []):
            back[facet["@id"]] = facet["@id"].rsplit("-", 5)[0]
    return {back[n["@id"]]: local(n) for n in nodes}


@pytest.mark.skipif(not VALIDATE.is_file(), reason="needs the case extra (make test installs it)")
def test_the_export_passes_case_validate(exported: tuple[Case, Path]) -> None:
    done = subprocess.run(
        [str(VALIDATE), str(exported[1])], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Conforms: True" in done.stdout


def test_files_carry_hashes_exif_and_their_source(exported: tuple[Case, Path]) -> None:
    case, out = exported
    nodes = graph(case, out)
    item = ids(case)["DCIM/IMG_0001.JPG"]
    node = nodes[f"kb:item-{item}"]
    facets = {f["@type"]: f for f in node["uco-core:hasFacet"]}
    assert facets["uco-observable:FileFacet"]["uco-observable:filePath"] == "DCIM/IMG_0001.JPG"
    content = facets["uco-observable:ContentDataFacet"]
    assert [h["uco-types:hashMethod"] for h in content["uco-observable:hash"]] == [
        "MD5", "SHA1", "SHA256",
    ]  # fmt: skip
    assert content["uco-observable:mimeType"] == "image/jpeg"
    entries = {
        e["uco-types:key"]: e["uco-types:value"]
        for e in facets["uco-observable:EXIFFacet"]["uco-observable:exifData"]["uco-types:entry"]
    }
    body = CAMERAS["canon-80d"]
    assert (entries["Make"], entries["BodySerialNumber"]) == (body.make, body.serial)
    assert nodes[f"kb:item-{item}-in"]["uco-core:target"] == {"@id": "kb:source-1"}
    broken = nodes[f"kb:item-{ids(case)['broken.jpg']}"]
    assert broken["@type"] == "uco-observable:File"  # unreadable items are not left out
    assert "; errors: " in broken["uco-core:description"]
    assert nodes["kb:provenance-1"]["case-investigation:exhibitNumber"] == "EV1"


def test_matches_reviews_and_audit_are_recorded(exported: tuple[Case, Path]) -> None:
    case, out = exported
    nodes = graph(case, out)
    plain_id, camera_id = ids(case)["chat/plain.jpg"], ids(case)["DCIM/IMG_0001.JPG"]
    match = [n for n in nodes.values() if n.get("uco-core:tag") == ["hash-set match"]]
    assert [(m["uco-core:object"], m["uco-core:statement"]) for m in match] == [
        (
            [{"@id": f"kb:item-{plain_id}"}],
            "matches hash set known v1 entry line 1 by md5, category B (uk)",
        )
    ]
    assert nodes[f"kb:review-{camera_id}"]["uco-core:statement"] == "categorised A by rev1"
    actions = [n for n in nodes.values() if n.get("uco-core:name") == "categorise"]
    assert len(actions) == 1
    assert actions[0]["uco-action:performer"] == {"@id": "kb:person-rev1"}
    assert actions[0]["uco-action:object"] == [{"@id": f"kb:item-{camera_id}"}]
    assert nodes["kb:investigation"]["uco-core:name"] == "2026/019"
    tools = [n for n in nodes.values() if n["@type"] == "uco-tool:ConfiguredTool"]
    assert tools and all(t["uco-core:name"] == "unseen" for t in tools)


def test_case_validate_is_on_the_path_in_ci() -> None:
    assert shutil.which("case_validate") or VALIDATE.is_file()
