"""Scene clusters from verified links: one false link does not merge two rooms whole."""

from __future__ import annotations

from unseen.correlation.groupings.scenes import join

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
