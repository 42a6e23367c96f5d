"""Unit tests for segment IoU / AIoU / boundary MAE and for AP / deduction mAP (hand-computed cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgemind.errors import JudgemindError
from judgemind.evaluate import aiou, average_precision, boundary_mae, deduction_map, segment_iou, stagewise_aiou

# --- segment IoU -----------------------------------------------------------------------------------------------

IOU_CASES = [
    ([0, 10], [0, 10], 1.0),  # identical
    ([0, 4], [6, 9], 0.0),  # disjoint
    ([0, 5], [5, 10], 0.0),  # touching: [start, end) do not overlap
    ([0, 10], [2, 4], 0.2),  # contained
    ([0, 4], [2, 6], 2 / 6),  # partial overlap
    ([2, 6], [0, 4], 2 / 6),  # symmetric
    ([3, 3], [3, 3], 1.0),  # two identical empty intervals
    ([3, 3], [4, 4], 0.0),  # two different empty intervals
    ([5, 5], [0, 10], 0.0),  # empty inside a non-empty one
    ([0.5, 2.5], [1.5, 3.5], 1 / 3),  # fractional positions
]


def test_segment_iou_edge_cases():
    pred = np.array([c[0] for c in IOU_CASES], dtype=float)
    true = np.array([c[1] for c in IOU_CASES], dtype=float)
    out = segment_iou(pred, true)
    assert out.shape == (len(IOU_CASES),)
    np.testing.assert_allclose(out, [c[2] for c in IOU_CASES], rtol=0, atol=1e-12)


def test_segment_iou_rejects_bad_input():
    with pytest.raises(JudgemindError, match=r"'pred_seg' at index 1 has end < start"):
        segment_iou([[0, 1], [5, 2]], [[0, 1], [0, 1]])
    with pytest.raises(JudgemindError, match=r"expected \(N, 2\)"):
        segment_iou([0, 1], [0, 1])
    with pytest.raises(JudgemindError, match="shape"):
        segment_iou([[0, 1]], [[0, 1], [0, 2]])
    with pytest.raises(JudgemindError, match="non-finite"):
        segment_iou([[0, np.nan]], [[0, 1]])


def test_aiou_thresholds_are_inclusive():
    true = [[0, 4], [0, 4], [0, 4], [0, 4]]
    pred = [[0, 4], [1, 4], [0, 2], [3, 10]]  # IoU 1, 0.75, 0.5, 1/10
    out = aiou(pred, true)
    assert out["aiou@0.5"] == pytest.approx(3 / 4)
    assert out["aiou@0.75"] == pytest.approx(2 / 4)
    assert out["mean_iou"] == pytest.approx((1 + 0.75 + 0.5 + 0.1) / 4)
    assert out["n"] == 4
    assert set(aiou(pred, true, thresholds=(0.3,))) == {"aiou@0.3", "mean_iou", "n"}
    with pytest.raises(JudgemindError, match="threshold"):
        aiou(pred, true, thresholds=(0.0,))


def test_aiou_on_flight_interval_of_stage_bounds():
    # (N, S, 2) stage bounds in STAGES order; FineDiving's AIoU uses the flight interval only.
    true = np.array([[[0, 30], [30, 60], [60, 96]], [[0, 20], [20, 70], [70, 96]]])
    pred = np.array([[[0, 28], [28, 60], [60, 96]], [[0, 40], [40, 50], [50, 96]]])
    out = aiou(pred[:, 1], true[:, 1])
    assert out["aiou@0.5"] == pytest.approx(0.5)  # IoUs 30/32 and 10/50
    assert out["mean_iou"] == pytest.approx((30 / 32 + 10 / 50) / 2)


def test_stagewise_aiou_means_over_stages_then_counts_hits():
    true = np.array([[[0, 30], [30, 60], [60, 96]], [[0, 20], [20, 70], [70, 96]]])
    pred = np.array([[[0, 28], [28, 60], [60, 96]], [[0, 40], [40, 50], [50, 96]]])
    s0 = (28 / 30 + 30 / 32 + 1.0) / 3
    s1 = (20 / 40 + 10 / 50 + 26 / 46) / 3
    out = stagewise_aiou(pred, true)
    assert out["mean_iou"] == pytest.approx((s0 + s1) / 2)
    assert out["aiou@0.5"] == pytest.approx(0.5)  # s0 ~ 0.957 hits, s1 ~ 0.422 misses
    assert out["aiou@0.75"] == pytest.approx(0.5)
    with pytest.raises(JudgemindError, match=r"expected \(N, S, 2\)"):
        stagewise_aiou(pred[:, 1], true[:, 1])


def test_boundary_mae():
    assert boundary_mae([[28, 62], [30, 60]], [[30, 60], [30, 64]]) == pytest.approx((2 + 2 + 0 + 4) / 4)
    assert boundary_mae([10, 20], [11, 20]) == pytest.approx(0.5)
    with pytest.raises(JudgemindError, match="boundary_mae"):
        boundary_mae([[1, 2]], [1, 2])


# --- average precision -----------------------------------------------------------------------------------------

AP_CASES = [
    ([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], (1 / 1 + 2 / 3) / 2),
    ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], (1 / 1 + 2 / 3) / 2),  # input order does not matter
    ([0.9, 0.8, 0.7], [1, 1, 0], 1.0),  # all positives first
    ([3.0, 2.0, 1.0], [0, 0, 1], 1 / 3),  # single positive last
    ([0.9, 0.5, 0.4, 0.3, 0.2], [0, 1, 0, 1, 1], (1 / 2 + 2 / 4 + 3 / 5) / 3),
    ([0.5, 0.5], [1, 0], 0.5),  # tie: precision after the whole tied block
    ([0.5, 0.5], [0, 1], 0.5),  # same tie, other input order, same AP
    ([0.9, 0.5, 0.5, 0.1], [0, 1, 1, 0], 2 / 3),  # both tied positives get precision 2/3
    ([0.9, 0.5, 0.5, 0.1], [1, 0, 1, 0], (1 + 2 / 3) / 2),
]


@pytest.mark.parametrize("scores,labels,expected", AP_CASES)
def test_average_precision_by_hand(scores, labels, expected):
    assert average_precision(scores, labels) == pytest.approx(expected, abs=1e-12)
    assert average_precision(np.array(scores), np.array(labels, dtype=bool)) == pytest.approx(expected, abs=1e-12)


def test_average_precision_is_order_independent_with_ties():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 3, size=30).astype(float)
    labels = rng.integers(0, 2, size=30)
    perm = rng.permutation(30)
    assert average_precision(scores, labels) == pytest.approx(average_precision(scores[perm], labels[perm]))


def test_average_precision_matches_sklearn_when_available():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    for _ in range(20):
        scores = rng.integers(0, 5, size=25).astype(float)
        labels = rng.integers(0, 2, size=25)
        labels[0] = 1
        assert average_precision(scores, labels) == pytest.approx(sk.average_precision_score(labels, scores))


def test_average_precision_without_positives_and_bad_labels():
    assert math.isnan(average_precision([0.3, 0.2], [0, 0]))
    with pytest.raises(JudgemindError, match=r"0/1 labels, found 2.0 at index 1"):
        average_precision([0.3, 0.2], [1, 2])
    with pytest.raises(JudgemindError, match="'scores' has 2 values but 'labels' has 3"):
        average_precision([0.3, 0.2], [1, 0, 1])


# --- deduction mAP ---------------------------------------------------------------------------------------------


def test_deduction_map_skips_classes_without_positives():
    probs = np.array(
        [
            [0.9, 0.1, 0.5],
            [0.8, 0.7, 0.2],
            [0.7, 0.3, 0.9],
            [0.6, 0.9, 0.4],
        ]
    )
    labels = np.array(
        [
            [1, 0, 0],
            [0, 1, 0],
            [1, 0, 0],
            [0, 0, 0],
        ]
    )
    out = deduction_map(probs, labels, class_names=["bent_knees", "crash", "hand_drag"])
    ap_bent = (1 + 2 / 3) / 2  # ranks 1 and 3
    ap_crash = 1 / 2  # rank 2 of [0.9, 0.7, 0.3, 0.1]
    assert out["per_class"] == pytest.approx({"bent_knees": ap_bent, "crash": ap_crash})
    assert out["map"] == pytest.approx((ap_bent + ap_crash) / 2)
    assert out["n_classes_evaluated"] == 2
    assert out["skipped"] == ["hand_drag"]

    by_index = deduction_map(probs, labels)
    assert list(by_index["per_class"]) == [0, 1] and by_index["skipped"] == [2]

    empty = deduction_map(probs, np.zeros_like(labels))
    assert math.isnan(empty["map"]) and empty["n_classes_evaluated"] == 0 and empty["skipped"] == [0, 1, 2]


def test_deduction_map_rejects_bad_shapes():
    with pytest.raises(JudgemindError, match=r"expected the same \(N, K\) shape"):
        deduction_map(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(JudgemindError, match="class_names"):
        deduction_map(np.zeros((3, 2)), np.zeros((3, 2)), class_names=["a"])
