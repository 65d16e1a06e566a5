"""Category numbers per VICS profile and explicit mappings between schemes (data files)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from unseen.core.errors import UserError
from unseen.core.schemes import BUILTIN, load_scheme
from unseen.matching.mapping import (
    map_category,
    mapping_defined,
    normalise_profile,
    vics_code,
    vics_number,
    vics_profiles,
    vics_scheme,
)


def test_profile_tables() -> None:
    profiles = vics_profiles()
    assert sorted(profiles) == ["CUSTOM", "UK", "US"]
    assert [vics_code(n, "us", "US") for n in range(7)] == [
        "CAT-0", "CAT-1", "CAT-2", "CAT-3", "CAT-4", "CAT-5", None,
    ]  # fmt: skip
    assert [vics_code(n, "uk", "UK") for n in range(6)] == ["U", "A", "B", "C", "NI", None]
    assert [vics_number(c, "uk", "UK") for c in ("U", "A", "B", "C", "NI")] == [0, 1, 2, 3, 4]
    assert vics_number("CAT-3", "us", "US") == 3
    # A Default-profile file declared --scheme uk reads through the UK table.
    assert vics_code(2, "uk", "Default") == "B"
    assert vics_number("X3", "custom", "CUSTOM") == 3


def test_uk_numbers_are_marked_as_our_choice() -> None:
    raw = json.loads(
        resources.files("unseen.matching").joinpath("mappings/vics_profiles.json").read_text()
    )
    assert raw["profiles"]["UK"]["note"].startswith("OUR CHOICE, NOT FROM A PUBLIC SOURCE")


def test_scheme_from_profile() -> None:
    assert vics_scheme("US", None) == "us"
    assert vics_scheme("uk", "uk") == "uk"
    assert vics_scheme("Default", "us") == "us"
    assert vics_scheme(None, "uk") == "uk"
    assert vics_scheme("CUSTOM", "custom") == "custom"
    with pytest.raises(UserError, match="give --scheme"):
        vics_scheme("Default", None)
    with pytest.raises(UserError, match="give --scheme"):
        vics_scheme("CUSTOM", None)
    with pytest.raises(UserError, match="contradicts"):
        vics_scheme("UK", "us")
    assert normalise_profile("default") == "Default"
    assert normalise_profile("Canada") == "Canada"


def test_explicit_mappings() -> None:
    assert [map_category(c, "uk", "us") for c in ("A", "B", "C", "NI", "U")] == [
        "CAT-1", "CAT-1", "CAT-1", None, "CAT-0",
    ]  # fmt: skip
    assert [map_category(f"CAT-{n}", "us", "uk") for n in range(6)] == [
        "U", None, None, None, "NI", "NI",
    ]  # fmt: skip
    assert map_category("B", "uk", "uk") == "B"
    assert map_category("X1", "custom", "us") == "CAT-1"
    assert map_category("A", "uk", "custom") is None  # no mapping file: nothing maps
    assert not mapping_defined("uk", "custom")
    assert mapping_defined("us", "uk")
    with pytest.raises(UserError, match="has no category 'Q'"):
        map_category("Q", "uk", "us")


def test_every_mapping_file_covers_its_scheme() -> None:
    folder = resources.files("unseen.matching").joinpath("mappings")
    names = sorted(p.name for p in folder.iterdir() if p.name != "vics_profiles.json")
    assert names == ["custom_uk.json", "custom_us.json", "uk_us.json", "us_uk.json"]
    for name in names:
        raw = json.loads(folder.joinpath(name).read_text())
        assert f"{raw['from']}_{raw['to']}.json" == name
        assert raw["note"]
        source, target = load_scheme(raw["from"]), load_scheme(raw["to"])
        assert sorted(raw["map"]) == sorted(source.codes())
        assert {v for v in raw["map"].values() if v} <= set(target.codes())
    assert "custom" in BUILTIN
