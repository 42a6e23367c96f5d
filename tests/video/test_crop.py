"""The one crop geometry (judgemind.video.crop): the feature extractors' integer crops and AerialsPose's affine crops
give exactly what their own copies gave before they were merged (issue 23), also for boxes partly or wholly outside
the frame; the evidence crops' ``inside`` option moves the square into the frame without changing its size."""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.video import crop as C

cv2 = pytest.importorskip("cv2")


# -- the code as it was before the merge (features/base.py and pose/data.py at 21960df), kept as the reference ----
def _old_resize(img, size):
    if img.shape[0] == size and img.shape[1] == size:
        return img
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


def _old_square_crop(frame, box, margin, size):
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(8, int(round(max(x1 - x0, y1 - y0) * margin)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    sx, sy = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = frame.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, sx), max(0, sy), min(w, sx + side), min(h, sy + side)
    if ax0 == sx and ay0 == sy and ax1 == sx + side and ay1 == sy + side:
        crop = frame[ay0:ay1, ax0:ax1]
    else:
        crop = np.zeros((side, side, 3), np.uint8)
        if ax1 > ax0 and ay1 > ay0:
            crop[ay0 - sy : ay1 - sy, ax0 - sx : ax1 - sx] = frame[ay0:ay1, ax0:ax1]
    return _old_resize(np.ascontiguousarray(crop), size)


def _old_letterbox(frame, size):
    h, w = frame.shape[:2]
    if h != w:
        side = max(h, w)
        sq = np.zeros((side, side, 3), np.uint8)
        y0, x0 = (side - h) // 2, (side - w) // 2
        sq[y0 : y0 + h, x0 : x0 + w] = frame
        frame = sq
    return _old_resize(frame, size)


def _old_crop_transform(box, margin, crop, scale=1.0, shift=(0.0, 0.0)):
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(max(x1 - x0, y1 - y0) * margin * scale, 8.0)
    cx = (x0 + x1) / 2 + shift[0] * side
    cy = (y0 + y1) / 2 + shift[1] * side
    k = crop / side
    return np.array([[k, 0.0, crop / 2 - k * cx], [0.0, k, crop / 2 - k * cy]], np.float32)


def _old_letterbox_transform(width, height, side):
    k = side / max(width, height)
    return np.array([[k, 0.0, (side - k * width) / 2], [0.0, k, (side - k * height) / 2]], np.float32)


# ------------------------------------------------------------------------------------------------------------------
FRAME = np.random.default_rng(0).integers(0, 256, (72, 128, 3), dtype=np.uint8)
BOXES = [
    (40.0, 20.0, 70.0, 60.0),  # inside
    (40.3, 20.7, 55.1, 33.9),  # fractional
    (110.0, 50.0, 140.0, 90.0),  # partly outside, right and bottom
    (-20.0, -10.0, 12.0, 25.0),  # partly outside, left and top
    (200.0, 100.0, 230.0, 130.0),  # wholly outside
    (60.0, 30.0, 61.0, 31.0),  # degenerate: the 8 px minimum
    (0.0, 0.0, 128.0, 72.0),  # the whole frame
]


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("margin, size", [(1.0, 10), (1.3, 32), (1.6, 112)])
def test_integer_crop_is_unchanged(box, margin, size):
    assert np.array_equal(C.square_crop(FRAME, box, margin, size), _old_square_crop(FRAME, box, margin, size))


@pytest.mark.parametrize("size", [12, 64, 200])
def test_letterbox_is_unchanged(size):
    assert np.array_equal(C.letterbox(FRAME, size), _old_letterbox(FRAME, size))
    tall = np.ascontiguousarray(FRAME.transpose(1, 0, 2))
    assert np.array_equal(C.letterbox(tall, size), _old_letterbox(tall, size))


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("scale, shift", [(1.0, (0.0, 0.0)), (1.2, (0.1, -0.05)), (0.8, (-0.2, 0.3))])
def test_affine_crop_is_unchanged(box, scale, shift):
    M = C.crop_transform(box, 1.25, 64, scale, shift)
    assert M.dtype == np.float32 and np.array_equal(M, _old_crop_transform(box, 1.25, 64, scale, shift))
    assert np.array_equal(
        C.warp_crop(FRAME, M, 64), C.warp_crop(FRAME, _old_crop_transform(box, 1.25, 64, scale, shift), 64)
    )
    assert np.array_equal(C.letterbox_transform(128, 72, 96), _old_letterbox_transform(128, 72, 96))


def test_pose_and_features_use_the_one_module():
    """No second copy: the extractors and AerialsPose import the geometry from judgemind.video.crop."""
    import judgemind.features.base as base
    import judgemind.pose.data as pdata
    import judgemind.pose.infer as pinfer

    assert not hasattr(base, "square_crop") and not hasattr(pdata, "crop_transform")
    assert pinfer.crop_transform is C.crop_transform and pinfer.warp_letterbox is C.warp_letterbox


def test_square_crop_pads_outside_the_frame():
    img = np.full((20, 30, 3), 200, np.uint8)
    crop = C.square_crop(img, (25, 0, 35, 10), 1.0, 10)  # half outside on the right
    assert crop.shape == (10, 10, 3)
    assert crop[:, :5].min() == 200 and crop[:, 6:].max() == 0
    assert C.letterbox(img, 12).shape == (12, 12, 3)


@pytest.mark.parametrize("box", BOXES[:4])
def test_inside_moves_the_square_into_the_frame_and_points_follow(box):
    M = C.crop_transform(box, 1.4, 100, inside=(128, 72))
    corners = C.apply_affine(C.invert_affine(M), np.array([[0.0, 0.0], [100.0, 100.0]]))
    side = C.square_window(box, 1.4)[2]
    assert corners[1, 0] - corners[0, 0] == pytest.approx(side, rel=1e-5)  # same size as without ``inside``
    if side <= 72:  # fits: no black border
        assert corners[0].min() >= -1e-3 and corners[1, 0] <= 128 + 1e-3 and corners[1, 1] <= 72 + 1e-3
        assert C.warp_crop(FRAME, M, 100)[1:-1, 1:-1].min(axis=2).max() > 0
    pts = np.array([[50.0, 30.0], [60.5, 40.25]])
    assert np.allclose(C.apply_affine(C.invert_affine(M), C.apply_affine(M, pts)), pts, atol=1e-3)
