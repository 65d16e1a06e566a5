"""Signed exchange packages between two agencies' libraries with different keys."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from unseen.intel.store import IntelLibrary, NewEntry, retention_date
from unseen.matching.library import Library

MD5S = ("0" * 31 + "1", "0" * 31 + "2")
PDQ = "f" * 64


def run(exe: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNSEEN_HOME": str(home), "COLUMNS": "300"}
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def seed_intel(home: Path) -> None:
    rng = np.random.default_rng(7)
    embedding = rng.normal(size=1280).astype(np.float16).tobytes()
    points = rng.uniform(0, 300, (40, 2)).astype(np.float32).tobytes()
    descriptors = rng.integers(0, 256, (40, 32), dtype=np.uint8).tobytes()
    fingerprint = rng.normal(size=(128, 128)).astype(np.float16).tobytes()
    with IntelLibrary.open(home) as library:
        library.add(
            NewEntry(
                name="bedroom series", kind="series", case_ref="2025/117", case_uuid="u-1",
                reviewers=("rev1",), retain_until=retention_date(None), victim_ref="VID-7",
                hashes=[
                    {"ref": "item 1", "md5": MD5S[0], "sha256": "a" * 64, "pdq": PDQ,
                     "scheme": "uk", "category": "A", "reviewer": "rev1"},
                    {"ref": "item 2 frame 0", "pdq": PDQ.replace("f", "e"), "scheme": "uk",
                     "category": "B", "reviewer": "rev1"},
                ],
                scenes=[{"ref": "item 1", "embedding": embedding, "points": points,
                         "descriptors": descriptors}],
                devices=[{"camera": "Canon EOS 80D", "serial": "1830", "width": 384,
                          "height": 288, "side": 128, "fingerprint": fingerprint,
                          "originals": 5}],
            )
        )  # fmt: skip


def table(home: Path, sql: str) -> list[tuple[object, ...]]:
    with IntelLibrary.open(home) as library, library.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


@pytest.fixture(scope="module")
def agencies(tmp_path_factory: pytest.TempPathFactory, unseen_exe: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exchange")
    found = {"root": root}
    for who in ("a", "b"):
        home = root / f"home-{who}"
        done = run(unseen_exe, home, "keys", "init", "--agency", f"Agency {who.upper()}")
        assert done.returncode == 0, done.stderr
        found[who] = home
        found[f"{who}.pub"] = Path(done.stdout.strip())
    seed_intel(found["a"])
    (root / "known.csv").write_text(f"md5,pdq,category\n{MD5S[0]},{PDQ},C\n{MD5S[1]},,B\n")
    lib = Library.open(found["a"])
    lib.import_file(root / "known.csv", "partner set", "csv", scheme="uk")
    lib.close()
    for what, name, out in (("--intel", "bedroom series", "series.zip"),
                            ("--hashset", "partner set", "set.zip")):  # fmt: skip
        done = run(unseen_exe, found["a"], "exchange", "export", what, name, "-o", str(root / out))
        assert done.returncode == 0, done.stderr
        found[out] = root / out
    return found


def test_a_package_holds_no_media_and_lists_every_member(agencies: dict[str, Path]) -> None:
    with zipfile.ZipFile(agencies["series.zip"]) as archive:
        assert sorted(archive.namelist()) == [
            "intel.json", "manifest.json", "manifest.sig", "vics.json",
        ]  # fmt: skip
        manifest = json.loads(archive.read("manifest.json"))
        vics = json.loads(archive.read("vics.json"))
    assert (manifest["what"], manifest["name"], manifest["agency"]) == (
        "intel", "bedroom series", "Agency A",
    )  # fmt: skip
    assert sorted(manifest["files"]) == ["intel.json", "vics.json"]
    assert vics["@odata.context"].endswith("/2.0.xml/UK/$metadata#Media")
    assert vics["value"][0] == {
        "MediaID": 1, "MD5": MD5S[0], "SHA256": "a" * 64, "Category": 1,
        "UnseenRef": "item 1", "UnseenCategory": "A", "UnseenScheme": "uk",
        "UnseenReviewer": "rev1", "UnseenPDQ": PDQ,
    }  # fmt: skip


def test_intelligence_round_trips_between_libraries_with_different_keys(
    agencies: dict[str, Path], unseen_exe: Path
) -> None:
    home = agencies["b"]
    done = run(unseen_exe, home, "exchange", "import", str(agencies["series.zip"]),
               "--trust", str(agencies["a.pub"]))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "imported intel bedroom series (2 hashes) from Agency A, signature verified" in (
        done.stderr
    )
    with IntelLibrary.open(home) as library:
        entry = library.get("bedroom series")
        log = library.audit_log()
    assert (entry.kind, entry.case_ref, entry.victim_ref, entry.reviewers) == (
        "series", "2025/117", "VID-7", ("rev1",),
    )  # fmt: skip
    assert entry.origin.startswith("imported from Agency A (key ")
    assert [r["action"] for r in log] == ["import"]
    for sql in (
        "SELECT ref, md5, sha1, sha256, pdq, scheme, category, reviewer FROM intel_hashes",
        "SELECT ref, embedding, points, descriptors FROM intel_scenes",
        "SELECT camera, serial, width, height, side, fingerprint, originals FROM intel_devices",
    ):
        assert table(home, sql) == table(agencies["a"], sql)


def test_a_hash_set_round_trips(agencies: dict[str, Path], unseen_exe: Path) -> None:
    home = agencies["b"]
    done = run(unseen_exe, home, "exchange", "import", str(agencies["set.zip"]),
               "--trust", str(agencies["a.pub"]), "--name", "from A")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lib = Library.open(home)
    info = lib.get("from A")
    with lib.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT md5, pdq, category FROM entries WHERE set_id = ? ORDER BY md5", (info.id,)
        ).all()
    lib.close()
    assert (info.scheme, info.entries) == ("uk", 2)
    assert [tuple(r) for r in rows] == [(MD5S[0], PDQ, "C"), (MD5S[1], None, "B")]


def rewritten(src: Path, out: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of a package with members replaced or added (bytes) or dropped (None)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            data = change.get(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
        for name, data in change.items():
            if name not in old.namelist() and data is not None:
                new.writestr(name, data)
    return out


def test_tampered_unsigned_and_untrusted_packages_are_refused(
    agencies: dict[str, Path], unseen_exe: Path
) -> None:
    root, src = agencies["root"], agencies["series.zip"]
    with zipfile.ZipFile(src) as archive:
        vics = archive.read("vics.json")
        manifest = archive.read("manifest.json")
    cases = {
        "content": (
            rewritten(src, root / "t1.zip", {"vics.json": vics.replace(b'"A"', b'"C"')}),
            "t1.zip: vics.json was changed after signing (its digest differs); nothing imported",
        ),
        "manifest": (
            rewritten(
                src, root / "t2.zip", {"manifest.json": manifest.replace(b"Agency A", b"Agency Z")}
            ),
            "the signature does not verify with the trusted key",
        ),
        "unsigned": (
            rewritten(src, root / "t3.zip", {"manifest.sig": None}),
            "t3.zip: the package is unsigned (no manifest.sig); nothing imported",
        ),
        "extra": (
            rewritten(src, root / "t4.zip", {"photo.jpg": b"\xff\xd8"}),
            "members not in the signed manifest: ['photo.jpg']",
        ),
    }
    home = root / "home-refusing"
    for what, (package, message) in cases.items():
        done = run(unseen_exe, home, "exchange", "import", str(package),
                   "--trust", str(agencies["a.pub"]))  # fmt: skip
        assert done.returncode != 0, what
        assert message in " ".join(done.stderr.split()), (what, done.stderr)
    untrusted = run(unseen_exe, home, "exchange", "import", str(src),
                    "--trust", str(agencies["b.pub"]))  # fmt: skip
    assert untrusted.returncode != 0
    assert (
        "not by the trusted key" in untrusted.stderr and "(untrusted signer)" in untrusted.stderr
    )
    with IntelLibrary.open(home) as library:
        assert library.entries() == [] and library.audit_log() == []


def test_export_needs_the_agency_key(agencies: dict[str, Path], unseen_exe: Path) -> None:
    home = agencies["root"] / "home-keyless"
    seed_intel(home)
    done = run(unseen_exe, home, "exchange", "export", "--intel", "bedroom series",
               "-o", str(agencies["root"] / "never.zip"))  # fmt: skip
    assert done.returncode != 0 and "run `unseen keys init` first" in done.stderr
    assert not (agencies["root"] / "never.zip").exists()
