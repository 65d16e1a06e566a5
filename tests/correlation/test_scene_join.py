"""Scene clusters from verified links: one false link does not merge two rooms whole."""

from __future__ import annotations

import numpy as np

from unseen.correlation.groupings.scenes import join, lone_links, lone_pairs

ROOM_A = [(1, 2), (2, 3)]
ROOM_B = [(4, 5), (5, 6)]


def groups(links: list[tuple[int, int]]) -> list[list[int]]:
    return [g for g in join(links).groups() if len(g) > 1]


def test_one_link_between_two_rooms_keeps_them_apart() -> None:
    assert groups([*ROOM_A, *ROOM_B, (3, 4)]) == [[1, 2, 3], [4, 5, 6]]


def test_two_links_between_them_join_them() -> None:
    assert groups([*ROOM_A, *ROOM_B, (3, 4), (1, 6)]) == [[1, 2, 3, 4, 5, 6]]


def test_a_lone_picture_joins_on_one_link() -> None:
    assert groups([*ROOM_A, (7, 2)]) == [[1, 2, 3, 7]]
    # ... and a cluster grown from it still needs two links to join another.
    assert groups([*ROOM_A, (7, 8), (8, 3)]) == [[1, 2, 3], [7, 8]]


def test_a_lone_picture_joins_on_two_links_to_most_of_a_cluster() -> None:
    room = [(1, 2), (2, 3), (3, 4)]
    # Picture 9 verified with three of the four pictures of 1-4: kept.
    assert lone_links(room, [(1, 9), (2, 9), (3, 9)]) == [(1, 9), (2, 9), (3, 9)]
    # One link is not enough, nor two into a cluster of five.
    assert lone_links(room, [(1, 9)]) == []
    assert lone_links([*room, (4, 5)], [(1, 9), (2, 9)]) == []


def test_lone_pictures_search_only_pictures_that_verified() -> None:
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    # Picture 0 is lone; 1 and 3 verified, 2 did not: 0 is compared with 1, not 2, and
    # not with 3 (cosine 0 under the floor), and never again with what it was asked.
    assert lone_pairs(vectors, [0], [1, 3], 2, 0.5, set()) == [(0.8, 0, 1)]
    assert lone_pairs(vectors, [0], [1, 3], 2, 0.5, {(0, 1)}) == []
