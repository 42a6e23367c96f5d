"""The shortcut audit's pieces on hand-made records: durations, box statistics, the fixed-offset rule, targets."""

from __future__ import annotations

import math
from decimal import Decimal
from types import SimpleNamespace

import pytest

from judgemind.data.shortcuts import (
    FALL_ITEMS,
    box_features,
    duration_features,
    fixed_offset_segmentation,
    format_audit,
    shortcut_audit,
)
from judgemind.rules import load_catalogue


def _rec(lip: int, touch: int, end: int, items=(), code="bFF", score="100", boxes=None):
    return SimpleNamespace(
        frames=(0, end),
        stages={"takeoff": (0, lip), "flight": (lip, touch), "landing": (touch, end)},
        deductions=tuple(SimpleNamespace(item=i) for i in items),
        action_code=code,
        final_score=Decimal(score),
        boxes=boxes,
    )


def test_duration_features_are_seconds():
    assert duration_features(_rec(20, 70, 100), fps=25) == pytest.approx([4.0, 0.8, 2.0, 1.2])


def test_box_features_per_stage():
    boxes = {0: (0, 0, 10, 10), 1: (0, 0, 10, 20), 5: (10, 10, 30, 30)}
    f = box_features(_rec(2, 4, 8, boxes=boxes), frame=100.0)
    # take-off: heights 10 and 20 -> mean 0.15, centre x 0.05, centre y (5 + 10) / 2 / 100, log(20/10), all frames
    assert f[:5] == pytest.approx([0.15, 0.05, 0.075, math.log(2.0), 1.0])
    assert all(math.isnan(v) for v in f[5:9]) and f[9] == 0.0  # no box in the flight
    assert f[10:] == pytest.approx([0.2, 0.2, 0.2, 0.0, 0.25])


def test_fixed_offset_rule_by_hand():
    """Training lips at 1 and 3 s, flights of 2 s -> the rule says [2, 4) s. A test jump with its flight at
    [2, 4) has IoU 1, one at [2.5, 4.5) 1.5/2.5 = 0.6, one at [3, 5) 1/3."""
    fps = 10
    train = [_rec(10, 30, 50), _rec(30, 50, 70)]
    test = [_rec(20, 40, 60), _rec(25, 45, 60), _rec(30, 50, 60)]
    fo = fixed_offset_segmentation(train, test, fps)
    assert (fo["lip_s"], fo["flight_s"]) == pytest.approx((2.0, 2.0))
    assert fo["aiou@0.5"] == pytest.approx(2 / 3, abs=1e-4) and fo["aiou@0.75"] == pytest.approx(1 / 3, abs=1e-4)
    assert fo["mean_iou"] == pytest.approx((1 + 0.6 + 1 / 3) / 3, abs=1e-4)


def test_a_duration_that_gives_the_falls_away_is_flagged():
    """The v2 generator's leak: a fall lengthened the landing. The audit's duration predictor finds it (AUC 1)
    and marks the target not met; the fixed offset rule on identical timings is perfect."""
    cat = load_catalogue()

    def recs(n, offset):
        out = []
        for i in range(n):
            fall = i % 4 == 0
            end = 100 + (15 if fall else 0) + (i % 3)
            out.append(
                _rec(25, 90, end, items=("crash",) if fall else ("bent_knees",) if i % 2 else (), score=str(80 + i % 7))
            )
        return out

    a = shortcut_audit(recs(40, 0), recs(20, 1), cat, fps=25, frame=None, code_prior_rho=0.1, oracle_rho=0.99)
    assert a["fall_items"] == list(FALL_ITEMS) and a["falls_test"] == 5
    assert a["duration"]["fall_auc"] == pytest.approx(1.0)
    assert a["box"] is None and a["fixed_offset"]["aiou@0.75"] == pytest.approx(1.0)
    met = {t["name"]: t["met"] for t in a["targets"]}
    assert met == {
        "duration_fall_auc": False,
        "fixed_offset_aiou@0.75": False,
        "code_prior_rho": True,
        "fault_oracle_rho": True,
    }
    text = "\n".join(format_audit(a))
    assert "duration_fall_auc 1.000 (<= 0.7): NOT MET" in text and "no boxes" in text
