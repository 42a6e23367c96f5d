"""``roc_auc``: the rank-sum formula against hand-made cases and a brute-force count of pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgemind.errors import JudgemindError
from judgemind.evaluate import roc_auc


def _pairs(scores, labels) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg) / (len(pos) * len(neg))


@pytest.mark.parametrize(
    "scores, labels, want",
    [
        ([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 1.0),
        ([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1], 0.5),
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75),
        ([1, 2, 2, 3], [0, 0, 1, 1], 0.875),  # a tie across the classes counts one half
    ],
)
def test_hand_made(scores, labels, want):
    assert roc_auc(scores, labels) == pytest.approx(want, abs=1e-12)


def test_matches_counting_pairs_with_ties():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 6, size=60).astype(float)  # many ties
    y = rng.random(60) < 0.3
    assert roc_auc(s, y) == pytest.approx(_pairs(s, y), abs=1e-12)
    assert roc_auc(-s, y) == pytest.approx(1.0 - _pairs(s, y), abs=1e-12)


def test_one_class_is_nan_and_bad_labels_are_refused():
    assert math.isnan(roc_auc([0.1, 0.2], [1, 1]))
    assert math.isnan(roc_auc([0.1, 0.2], [0, 0]))
    with pytest.raises(JudgemindError, match="0/1"):
        roc_auc([0.1, 0.2], [0, 2])
    with pytest.raises(JudgemindError):
        roc_auc([0.1, 0.2, 0.3], [0, 1])
