"""A room more than a third hidden by someone standing in front still verifies: the
best 40 % of the overlap's blocks agree closely though the median block does not."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from unseen.correlation.scene import (
    MIN_BLOCK_NCC,
    MIN_NCC,
    MIN_TOP_BLOCK_NCC,
    MIN_TOP_INLIERS,
    MIN_UPPER_BLOCK_NCC,
    local_features,
    verify,
)
from unseen.demo.synth import render_scene
from unseen.validation.scene import SHOTS, SIZE, crop, occluders

pytest.importorskip("cv2", reason="needs the scene extra (make test installs it)")


def someone_in_front(room: Image.Image) -> Image.Image:
    hidden = room.copy()
    draw = ImageDraw.Draw(hidden)
    draw.rectangle((150, 90, 330, 360), fill=(40, 38, 45))  # body, floor to shoulders
    draw.ellipse((190, 20, 290, 100), fill=(40, 38, 45))  # head
    return hidden


def test_a_room_mostly_hidden_verifies_by_its_best_blocks() -> None:
    room = render_scene(328, (480, 360))
    verdict = verify(local_features(room), local_features(someone_in_front(room)))
    assert (verdict.inliers, verdict.ncc, verdict.blocks, verdict.upper) == (
        240,
        0.5689,
        0.745,
        0.9618,
    )
    assert verdict.ncc < MIN_NCC and verdict.blocks < MIN_BLOCK_NCC  # the former checks
    assert verdict.upper >= MIN_UPPER_BLOCK_NCC and verdict.same


def test_another_room_hidden_the_same_way_does_not() -> None:
    room = local_features(render_scene(328, (480, 360)))
    other = someone_in_front(render_scene(329, (480, 360)))
    assert not verify(room, local_features(other)).same


def test_a_crop_against_a_hidden_shot_verifies_by_its_best_quarter() -> None:
    """A 70 % crop of room 358 against another shot of it with a figure and a box in
    front (the validation's shots): only the best quarter of the blocks agree, and
    63 inliers make the geometry sure."""
    view, lighting, _ = SHOTS["70 % crop"]
    cropped = crop(render_scene(358, SIZE, view, lighting), 358)
    view, lighting, _ = SHOTS["occluders over a third"]
    hidden = occluders(render_scene(358, SIZE, view, lighting), 358)
    verdict = verify(local_features(cropped), local_features(hidden))
    assert (verdict.inliers, verdict.ncc, verdict.blocks, verdict.upper, verdict.top) == (
        63,
        0.5202,
        0.4022,
        0.836,
        0.9685,
    )
    assert verdict.upper < MIN_UPPER_BLOCK_NCC  # every former check fails
    assert verdict.inliers >= MIN_TOP_INLIERS and verdict.top >= MIN_TOP_BLOCK_NCC
    assert verdict.same
