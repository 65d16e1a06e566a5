"""Signal types: each hash kind checks, normalises and compares its values exactly, and
the PDQ radius of the run's settings is what matching and near-duplicate grouping use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from unseen.cli.main import app as cli
from unseen.core.settings import CASE_FILE, Settings
from unseen.correlation.facts import HeldFacts, ItemFacts
from unseen.correlation.groupings.near_duplicates import NearDuplicateGrouping
from unseen.matching import signals
from unseen.matching.categorise import EXACT_KINDS, KIND_NAMES
from unseen.matching.formats.base import BadRecord, clean_hash
from unseen.matching.index import codes_from_hex
from unseen.matching.library import Library
from unseen.matching.signals import Comparison, Md5, Pdq, SignalError
from unseen.matching.stage import MatchStage
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

# A PDQ hash and the same hash with its last 20 bits flipped: distance 20.
PDQ_A = "f0e1d2c3b4a5968778695a4b3c2d1e0f" + "0123456789abcdef" * 2
PDQ_B = f"{int(PDQ_A, 16) ^ ((1 << 20) - 1):064x}"
GOOD = {
    "md5": "9e107d9d372bb6826bd81d3542a419d6",
    "sha1": "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
    "sha256": "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
    "ed2k": "31d6cfe0d16ae931b73c59d7e0c089c0",
    "pdq": PDQ_A,
    "pdq-dihedral": PDQ_A,
    "video": PDQ_A,
}
LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "ed2k": 32, "pdq": 64, "pdq-dihedral": 64,
           "video": 64}  # fmt: skip


def test_the_registry_holds_every_kind_under_its_stored_name() -> None:
    assert signals.SIGNALS.names() == [
        "ed2k", "md5", "pdq", "pdq-dihedral", "sha1", "sha256", "video",
    ]  # fmt: skip
    assert [s.NAME for s in signals.matched()] == [
        "sha256", "sha1", "md5", "pdq", "pdq-dihedral", "video",
    ]  # fmt: skip
    assert EXACT_KINDS == ("sha256", "sha1", "md5")
    assert KIND_NAMES == {
        "sha256": "SHA-256 exact match",
        "sha1": "SHA-1 exact match",
        "md5": "MD5 exact match",
        "pdq": "PDQ distance {distance}",
        "pdq-dihedral": "PDQ distance {distance} (rotated or mirrored)",
        "video": "video frames: {fraction:.0%} within PDQ distance, closest {distance}",
    }
    assert [(s.NAME, s.EXACT, s.INDEX) for s in signals.by_strength()] == [
        ("sha256", True, "equality"),
        ("sha1", True, "equality"),
        ("md5", True, "equality"),
        ("ed2k", True, "equality"),
        ("pdq", False, "hamming"),
        ("pdq-dihedral", False, "hamming"),
        ("video", False, "hamming"),
    ]


@pytest.mark.parametrize("name", sorted(GOOD))
def test_each_kind_validates_and_normalises_exactly(name: str) -> None:
    kind = signals.get(name)
    good, length = GOOD[name], LENGTHS[name]
    assert length == kind.HEX_LENGTH
    assert kind.validate(good) == good
    assert kind.validate(good.upper()) == good
    assert kind.is_valid(good) and not kind.is_valid(good.upper())
    with pytest.raises(SignalError) as short:
        kind.validate(good[:-1])
    assert str(short.value) == f"{name.upper()} {good[:-1]!r} is not {length} hex digits"
    junk = "g" + good[1:]
    with pytest.raises(SignalError) as not_hex:
        kind.validate(junk)
    assert str(not_hex.value) == f"{name.upper()} {junk!r} is not {length} hex digits"
    long = "a" * 100
    with pytest.raises(SignalError) as quoted:
        kind.validate(long)
    assert str(quoted.value) == f"{name.upper()} {'a' * 77 + '...'!r} is not {length} hex digits"


def test_hash_set_readers_check_through_the_signal_types() -> None:
    assert clean_hash("sha1", f"  {GOOD['sha1'].upper()} ") == GOOD["sha1"]
    assert clean_hash("ed2k", "") is None
    with pytest.raises(BadRecord, match=r"^PDQ 'abc' is not 64 hex digits$"):
        clean_hash("pdq", "ABC")
    with pytest.raises(BadRecord, match=r"^MD5 is the digest of the empty file$"):
        clean_hash("md5", "D41D8CD98F00B204E9800998ECF8427E")


def test_exact_kinds_compare_by_equality() -> None:
    other = "0" * 32
    assert Md5.compare(GOOD["md5"], GOOD["md5"]) == Comparison(True, 0)
    assert Md5.compare(GOOD["md5"], other) == Comparison(False, 1)
    assert Md5.threshold(Settings(pdq_radius=5)) == 0
    assert Md5.index([GOOD["md5"], other, GOOD["md5"]]) == {GOOD["md5"]: [0, 2], other: [1]}
    assert Md5.reason(0) == "MD5 exact match" and Md5.preposition() == "in"


def test_pdq_compares_by_hamming_distance_within_the_settings_radius() -> None:
    assert Pdq.distance(PDQ_A, PDQ_B) == 20
    assert Pdq.distance(PDQ_A, PDQ_A) == 0
    assert Pdq.distance("0" * 64, "f" * 64) == 256
    assert Pdq.threshold() == 31
    assert Pdq.compare(PDQ_A, PDQ_B) == Comparison(True, 20)
    assert Pdq.compare(PDQ_A, PDQ_B, Settings(pdq_radius=20)) == Comparison(True, 20)
    assert Pdq.compare(PDQ_A, PDQ_B, Settings(pdq_radius=19)) == Comparison(False, 20)
    assert signals.get("pdq-dihedral").reason(7) == "PDQ distance 7 (rotated or mirrored)"
    assert signals.get("video").reason(3, 0.5) == (
        "video frames: 50% within PDQ distance, closest 3"
    )
    assert Pdq.preposition() == "to"


def test_the_pdq_index_finds_exactly_what_the_radius_allows() -> None:
    query = codes_from_hex([PDQ_B])
    hits = Pdq.index([PDQ_A, "0" * 64], Settings(pdq_radius=20)).search(query, threads=1)
    assert (hits.query.tolist(), hits.ref.tolist(), hits.distance.tolist()) == ([0], [0], [20])
    assert len(Pdq.index([PDQ_A, "0" * 64], Settings(pdq_radius=19)).search(query, 1)) == 0


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    """A case with two pictures whose PDQ hashes are 20 bits apart (rows written
    directly: the radius is under test, not the decoding)."""
    case = Case.create(tmp_path / "case", name="RADIUS", examiner="Test Examiner")
    repo.add_source(case, "folder", str(tmp_path), "EV01", "Test Examiner")
    with case.engine.begin() as conn:
        for item_id, pdq in ((1, PDQ_A), (2, PDQ_B)):
            conn.execute(
                insert(s.items).values(
                    id=item_id, source_id=1, path=f"p{item_id}.png", locator=b"%d" % item_id,
                    kind="file", status="done", mime="image/png",
                )
            )  # fmt: skip
            conn.execute(insert(s.images).values(item_id=item_id, pdq=pdq, pdq_quality=100))
    yield case
    case.close()


def _facts() -> list[ItemFacts]:
    return [
        ItemFacts(i, 1, f"p{i}.png", None, "image/png", pdq=pdq, pdq_quality=100)
        for i, pdq in ((1, PDQ_A), (2, PDQ_B))
    ]


def test_the_settings_radius_decides_near_duplicate_groups(case: Case) -> None:
    with case.engine.connect() as conn:
        default = list(NearDuplicateGrouping().group(HeldFacts(_facts()), conn))
        narrow = list(
            NearDuplicateGrouping(Settings(pdq_radius=10)).group(HeldFacts(_facts()), conn)
        )
    assert [(c.label, [m.item_id for m in c.members], c.details) for c in default] == [
        ("2 near-identical pictures like p1.png", [1, 2], {"radius": 31, "min_quality": 50})
    ]
    assert narrow == []


def test_the_settings_radius_decides_what_matching_finds(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "library"
    listed = tmp_path / "set.csv"
    listed.write_text(f"pdq,category\n{PDQ_A},A\n")
    Library.open(home).import_file(listed, "RADIUS-SET", fmt="csv", scheme="uk")
    monkeypatch.setenv("UNSEEN_HOME", str(home))

    def found(radius: int) -> tuple[list[tuple[str, int, int]], int]:
        MatchStage().run(case, Settings(pdq_radius=radius), 1)
        return _matched(case)

    assert found(31) == ([("pdq", 1, 0), ("pdq", 2, 20)], 31)
    assert found(10) == ([("pdq", 1, 0)], 10)


def test_unseen_match_uses_the_case_radius_unless_told_otherwise(
    case: Case, tmp_path: Path
) -> None:
    home = tmp_path / "library"
    listed = tmp_path / "set.csv"
    listed.write_text(f"pdq,category\n{PDQ_A},A\n")
    Library.open(home).import_file(listed, "RADIUS-SET", fmt="csv", scheme="uk")
    (case.root / CASE_FILE).write_text("[settings]\npdq_radius = 10\n")
    command = ["match", str(case.root), "--library", str(home)]
    done = CliRunner().invoke(cli, command)
    assert done.exit_code == 0, done.output
    assert _matched(case) == ([("pdq", 1, 0)], 10)
    done = CliRunner().invoke(cli, [*command, "--max-distance", "31"])
    assert done.exit_code == 0, done.output
    assert _matched(case) == ([("pdq", 1, 0), ("pdq", 2, 20)], 31)


def _matched(case: Case) -> tuple[list[tuple[str, int, int]], int]:
    """The case's matches (kind, item, distance) and the radius its last run recorded."""
    with case.engine.connect() as conn:
        m = s.matches
        rows = conn.execute(select(m.c.kind, m.c.item_id, m.c.distance).order_by(m.c.id))
        runs = s.match_runs
        last = conn.execute(select(runs.c.thresholds).order_by(runs.c.id.desc())).scalar()
        return [tuple(r) for r in rows], json.loads(str(last))["max_distance"]
