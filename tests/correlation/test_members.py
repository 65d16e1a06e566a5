"""Members kept as arrays (ids, and what their reasons are made of) read like the
tuple of members they stand for."""

from __future__ import annotations

from datetime import datetime

from unseen.correlation.base import Cluster, Member, SameReason, Taken


def test_same_reason_members_read_like_their_tuple() -> None:
    members = SameReason(iter([5, 2, 9]), "stored in DCIM")
    spelled = (
        Member(5, "stored in DCIM"),
        Member(2, "stored in DCIM"),
        Member(9, "stored in DCIM"),
    )
    assert (len(members), tuple(members), members[1], members[-1]) == (
        3,
        spelled,
        spelled[1],
        spelled[2],
    )
    assert members[1:] == spelled[1:]
    assert members == spelled and members != spelled[:2] and members != "not members"
    assert hash(members) == hash(spelled) and list(members.ids) == [5, 2, 9]
    cluster = Cluster("folder", "DCIM", "DCIM", 1.0, members)
    assert cluster == Cluster("folder", "DCIM", "DCIM", 1.0, spelled)


def test_taken_members_read_as_their_times_and_rests() -> None:
    shots = [
        (4, datetime(2024, 7, 4, 9, 5, 7), " by Canon {EOS} 80D"),
        (8, datetime(2024, 7, 4, 23, 59, 59), " by an unnamed camera"),
        (6, datetime(2024, 7, 5, 0, 0, 0), " by Canon {EOS} 80D"),
    ]
    members = Taken((i, when.time(), rest) for i, when, rest in shots)
    spelled = tuple(Member(i, f"taken {when:%H:%M:%S}{rest}") for i, when, rest in shots)
    assert (tuple(members), members[-2], members[::2], list(members.ids)) == (
        spelled,
        spelled[1],
        spelled[::2],
        [4, 8, 6],
    )
