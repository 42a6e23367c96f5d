"""The camera's motion from the background: a known pan is measured, the athlete and flat skies are not."""

from __future__ import annotations

import numpy as np

from judgemind.video.motion import accumulate, camera_motion


def _scene(seed=0, size=400):
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 200, np.uint8)
    for _ in range(160):  # flags and poles: small dark rectangles on a bright slope
        x, y = rng.integers(0, size - 8, 2)
        img[y : y + rng.integers(3, 9), x : x + rng.integers(2, 6)] = rng.integers(0, 120, 3)
    return img


def _pan(shifts, h=120, w=160, seed=0):
    """Frames cut from a larger scene, each one (dx, dy) pixels further: the background moves by -(dx, dy)."""
    scene = _scene(seed)
    x, y = 100, 100
    frames = []
    for dx, dy in shifts:
        x, y = x + dx, y + dy
        frames.append(scene[y : y + h, x : x + w].copy())
    return frames


def test_a_pan_is_measured_in_frame_units():
    frames = _pan([(0, 0)] + [(3, 1)] * 7)
    m = camera_motion(frames, list(range(8)))
    assert m.shape == (8, 4) and np.all(m[0] == 0)
    assert np.all(m[1:, 3] > 0.5)  # measured with agreeing corners
    assert np.allclose(m[1:, 0], -3 / 160, atol=0.004) and np.allclose(m[1:, 1], -1 / 120, atol=0.004)
    assert np.allclose(m[1:, 2], 0.0, atol=0.02)  # no zoom
    path = accumulate(m, list(range(8)), cuts=(4,))
    assert np.allclose(path[3], 3 * m[1, :2], atol=0.003) and np.allclose(path[4], 0.0)


def test_the_athlete_does_not_move_the_camera():
    frames = _pan([(0, 0)] * 6)
    for k, f in enumerate(frames):  # a big athlete moving fast across a still camera
        f[30:90, 20 + 15 * k : 60 + 15 * k] = (10, 160, 200)
    boxes = np.array([[20 + 15 * k, 30, 60 + 15 * k, 90] for k in range(6)], float)
    m = camera_motion(frames, list(range(6)), boxes)
    assert np.all(np.abs(m[:, :2]) < 0.004)


def test_a_flat_sky_and_a_cut_report_no_motion():
    sky = [np.full((120, 160, 3), 180, np.uint8) for _ in range(4)]
    assert np.all(camera_motion(sky, range(4)) == 0)
    frames = _pan([(0, 0), (3, 0), (3, 0)])
    m = camera_motion(frames, [0, 1, 2], cuts=(2,))
    assert m[1, 3] > 0 and np.all(m[2] == 0)
