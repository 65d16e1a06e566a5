"""Same-room grouping under viewpoint, crop, exposure and occluder changes, on benign
synthetic rooms, measured at two levels.

Each room is shot five ways (``SHOTS``): the reference, another viewpoint (another
framing seen in perspective, its corners moved by up to ``TILT`` of the side), a 70 %
crop at a random place, a harsh exposure change (gain and gamma) and occluders (a
standing figure and a box in front of about a third of the picture).

* Pairs: every pair of pictures is verified with the grouping's own ORB + RANSAC +
  photometric check. Pairs of one room that verify are true matches (recall, per
  shot: the pairs with that shot in them); pairs of two rooms that verify are false
  matches; precision is true over all verified.
* Grouping: the pictures go through the grouping's candidate search (each picture's
  ``scene_neighbours`` nearest by embedding cosine, at least ``scene_min_cosine``; a
  picture none of them verified, its ``scene_lone_neighbours`` nearest among those
  that verified, joined on two links into one cluster), its verdict and its joining of
  verified candidates, as ``unseen.correlation.groupings.scenes`` does on a case
  (without the database). The
  clusters are then counted by pairs of pictures: a pair is grouped when both are in
  one cluster; precision is the grouped pairs of one room over all grouped pairs,
  recall the grouped pairs of one room over all pairs of one room (a picture left
  alone groups no pair).

Rooms: the report measures rooms ``ROOM_IDS`` onwards; verification settings were
chosen on rooms ``DEV_IDS`` onwards (``DEV_ROOMS`` of them), never on the rooms
reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from unseen.core.settings import Settings
from unseen.demo.synth import render_scene
from unseen.validation.stats import Rate

SIZE = (480, 360)
ROOM_IDS = 300_000  # reported
DEV_IDS = 800_000  # where verification settings were chosen
DEV_ROOMS = 40
TILT = 0.08  # the other viewpoint moves each corner by up to this fraction of the side
CROP = 0.7  # side kept by the crop


def other_viewpoint(img: Image.Image, seed: int) -> Image.Image:
    """The room seen from elsewhere: each corner of the frame pulled inwards by up to
    ``TILT`` of the side and the quadrilateral stretched back over the frame."""
    import cv2

    rng = np.random.default_rng([seed, 1])
    w, h = img.size
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    inwards = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float32)
    seen = (frame + inwards * rng.uniform(0, TILT, (4, 2)) * [w, h]).astype(np.float32)
    warp = cv2.getPerspectiveTransform(seen, frame)
    pixels = cv2.warpPerspective(np.asarray(img), warp, (w, h), borderMode=cv2.BORDER_REFLECT)
    return Image.fromarray(pixels)


def crop(img: Image.Image, seed: int) -> Image.Image:
    """``CROP`` of each side, anywhere in the picture."""
    rng = np.random.default_rng([seed, 2])
    w, h = img.size
    cw, ch = int(w * CROP), int(h * CROP)
    x, y = int(rng.uniform(0, w - cw)), int(rng.uniform(0, h - ch))
    return img.crop((x, y, x + cw, y + ch))


def exposure(img: Image.Image, _seed: int) -> Image.Image:
    """Gamma 1.6 (mid-tones much darker) and gain 1.35 (highlights clipped)."""
    levels = np.asarray(img, dtype=np.float32) / 255.0
    return Image.fromarray((np.clip(levels**1.6 * 1.35, 0, 1) * 255).astype(np.uint8))


def occluders(img: Image.Image, seed: int) -> Image.Image:
    """A standing figure (a quarter of the width, head to floor) and a box in front."""
    rng = np.random.default_rng([seed, 3])
    out = img.copy()
    w, h = img.size
    draw = ImageDraw.Draw(out)
    x, width = int(rng.uniform(0.05, 0.55) * w), int(w * 0.24)
    body = tuple(int(v) for v in rng.integers(20, 200, 3))
    draw.rectangle((x, int(h * 0.3), x + width, h), fill=body)
    draw.ellipse((x + width // 4, int(h * 0.1), x + 3 * width // 4, int(h * 0.32)), fill=body)
    x = int(rng.uniform(0, 0.8) * w)
    box = tuple(int(v) for v in rng.integers(20, 230, 3))
    draw.rectangle((x, int(h * 0.7), x + w // 6, h), fill=box)
    return out


# Shot name -> (view, lighting, what is done to it).
Change = Callable[[Image.Image, int], Image.Image]
SHOTS: dict[str, tuple[int, float, Change | None]] = {
    "reference": (0, 1.0, None),
    "other viewpoint": (2, 1.0, other_viewpoint),
    "70 % crop": (3, 0.9, crop),
    "exposure (gamma 1.6, gain 1.35)": (1, 1.0, exposure),
    "occluders over a third": (4, 1.0, occluders),
}


@dataclass(frozen=True, slots=True)
class SceneResult:
    rooms: int
    recall: Rate
    recall_by_shot: dict[str, Rate]
    false_match: Rate
    precision: Rate  # verified pairs of one room / all verified pairs
    group_precision: Rate  # grouped pairs of one room / all grouped pairs
    group_recall: Rate  # grouped pairs of one room / all pairs of one room
    group_recall_by_shot: dict[str, Rate]
    clusters: int


def unavailable() -> str | None:
    """Why the measurement cannot run here (the ``scene`` extra missing), or None."""
    try:
        import cv2  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return "the scene extra (opencv-python-headless, onnxruntime) is not installed"
    return None


def shots(first: int, rooms: int) -> dict[tuple[int, str], Image.Image]:
    """Every shot of rooms ``first`` .. ``first + rooms - 1``, keyed (room, shot)."""
    pictures = {}
    for r in range(rooms):
        for name, (view, lighting, change) in SHOTS.items():
            img = render_scene(first + r, SIZE, view, lighting)
            pictures[(r, name)] = img if change is None else change(img, first + r)
    return pictures


def measure(rooms: int, first: int = ROOM_IDS) -> SceneResult:
    from unseen.correlation.scene import embed, local_features, verify

    pictures = shots(first, rooms)
    keys = list(pictures)
    features = [local_features(pictures[k]) for k in keys]
    verified = {
        (i, j): verify(features[i], features[j]).same
        for i, j in itertools.combinations(range(len(keys)), 2)
    }
    vectors = np.vstack([embed(pictures[k]) for k in keys])
    groups = _clusters(vectors, verified)
    return _count(keys, verified, groups, rooms)


def _clusters(vectors: np.ndarray, verified: dict[tuple[int, int], bool]) -> list[int]:
    """Each picture's cluster number (-1 alone), as the grouping joins them."""
    from unseen.correlation.groupings.scenes import candidate_pairs, join, lone_links, lone_pairs

    st = Settings()
    pairs = candidate_pairs(vectors, st.scene_neighbours, st.scene_min_cosine)
    found = [(c, i, j) for c, i, j in pairs if verified[(i, j)]]
    linked = sorted({k for _, i, j in found for k in (i, j)})
    lone = sorted(set(range(len(vectors))) - set(linked))
    asked = {(i, j) for _, i, j in pairs}
    more = lone_pairs(vectors, lone, linked, st.scene_lone_neighbours, st.scene_min_cosine, asked)
    kept = set(
        lone_links([(i, j) for _, i, j in found], [(i, j) for _, i, j in more if verified[(i, j)]])
    )
    found += [(c, i, j) for c, i, j in more if (i, j) in kept]
    links = [(i, j) for _, i, j in sorted(found, key=lambda p: (-p[0], p[1], p[2]))]
    label = [-1] * len(vectors)
    for number, group in enumerate(g for g in join(links).groups() if len(g) > 1):
        for i in group:
            label[i] = number
    return label


def _count(
    keys: list[tuple[int, str]],
    verified: dict[tuple[int, int], bool],
    label: list[int],
    rooms: int,
) -> SceneResult:
    same = dict.fromkeys(SHOTS, 0)
    joined = dict.fromkeys(SHOTS, 0)
    same_total = dict.fromkeys(SHOTS, 0)
    hits = trials = false = pairs = grouped = grouped_right = 0
    for (i, j), ok in verified.items():
        (room_a, shot_a), (room_b, shot_b) = keys[i], keys[j]
        together = label[i] >= 0 and label[i] == label[j]
        grouped += together
        if room_a != room_b:
            false += ok
            pairs += 1
            continue
        grouped_right += together
        hits += ok
        trials += 1
        for shot in {shot_a, shot_b} - {"reference"}:  # each changed shot in the pair
            same[shot] += ok
            joined[shot] += together
            same_total[shot] += 1
    changed = [s for s in SHOTS if s != "reference"]
    by_shot = {s: Rate(same[s], same_total[s]) for s in changed}
    return SceneResult(
        rooms,
        Rate(hits, trials),
        by_shot,
        Rate(false, pairs),
        Rate(hits, hits + false),
        Rate(grouped_right, grouped),
        Rate(grouped_right, trials),
        {s: Rate(joined[s], same_total[s]) for s in changed},
        len({n for n in label if n >= 0}),
    )
