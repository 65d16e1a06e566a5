"""Members that share one reason are kept as ids and the reason once, and read like
the tuple of members they stand for."""

from __future__ import annotations

from unseen.correlation.base import Cluster, Member, SameReason


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
