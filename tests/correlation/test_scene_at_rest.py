"""The case keeps no clear copy of a picture for scene verification: the grey copy it
stores is blurred as much as the review's thumbnails, and verification still works."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageDraw

from unseen.correlation.scene import (
    GREY_FACTOR,
    MIN_BLOCK_NCC,
    MIN_NCC,
    local_features,
    verify,
)
from unseen.demo.synth import render_scene

cv2 = pytest.importorskip("cv2", reason="needs the scene extra (make test installs it)")


def test_the_stored_grey_copy_is_blurred() -> None:
    picture = render_scene(321, (480, 360))
    clear = cv2.resize(
        np.asarray(picture.convert("L")), (480 // GREY_FACTOR, 360 // GREY_FACTOR),
        interpolation=cv2.INTER_AREA,
    )  # fmt: skip
    stored = local_features(picture).grey
    assert stored.shape == clear.shape == (90, 120)

    def detail(a: np.ndarray) -> float:
        return float(np.abs(cv2.Laplacian(a.astype(np.float32), cv2.CV_32F)).mean())

    assert detail(stored) < 0.2 * detail(clear)  # edges and text are gone


def test_same_room_still_verifies_and_another_does_not() -> None:
    shot = local_features(render_scene(322, (480, 360), 0, 1.0))
    other_shot = local_features(render_scene(322, (480, 360), 2, 1.2))
    other_room = local_features(render_scene(323, (480, 360), 0, 1.0))
    assert verify(shot, other_shot).same
    assert not verify(shot, other_room).same


def test_a_room_with_someone_in_front_still_verifies() -> None:
    """A dark figure over a fifth of the picture spoils the whole-overlap NCC; the
    median over blocks of the overlap still sees the same room."""
    room = render_scene(325, (480, 360))
    occluded = room.copy()
    ImageDraw.Draw(occluded).rectangle((200, 72, 320, 360), fill=(40, 38, 45))
    verdict = verify(local_features(room), local_features(occluded))
    assert verdict.ncc < MIN_NCC <= 0.90  # the former check alone said "different"
    assert verdict.blocks >= MIN_BLOCK_NCC and verdict.same
