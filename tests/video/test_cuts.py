"""Camera cuts from colour-histogram jumps between decoded frames."""

from __future__ import annotations

import numpy as np

from judgemind.video.cuts import find_cuts


def _frames(colours, n_each=6, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for c in colours:
        for _ in range(n_each):
            f = np.full((48, 64, 3), c, np.uint8)
            out.append(np.clip(f.astype(int) + rng.integers(-6, 7, f.shape), 0, 255).astype(np.uint8))
    return out


def test_a_change_of_scene_is_a_cut_and_noise_is_not():
    frames = _frames([(200, 30, 30), (30, 30, 200), (30, 200, 30)])
    idx = list(range(100, 100 + len(frames)))
    assert find_cuts(frames, idx) == (106, 112)
    assert find_cuts(_frames([(120, 120, 120)] * 3), list(range(18))) == ()


def test_cuts_closer_than_min_gap_count_once():
    frames = _frames([(200, 30, 30)], 5) + _frames([(30, 30, 200)], 1) + _frames([(30, 200, 30)], 5)
    assert find_cuts(frames, list(range(len(frames))), min_gap=3) == (5,)
    assert find_cuts(frames[:2], [0, 1]) == ()
