"""Scores: from faults to marks, caps, a realistic spread, and not predictable from the jump code alone."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from judgemind.rules import load_catalogue
from judgemind.synth import Fault, fault_points, generate, sample_spec, score_jump, true_components
from judgemind.synth.stats import code_dd_baseline, summary


def test_fault_points_follow_the_catalogue_range():
    cat = load_catalogue()
    for item in ("bent_knees", "hand_drag", "crash", "late_twist_finish", "early_rotation"):
        it = cat.get(item)
        assert fault_points(item, 0.0) == it.points_min
        assert fault_points(item, 1.0) == it.points_max
        mid = fault_points(item, 0.5)
        assert it.points_min <= mid <= it.points_max and mid % Decimal("0.1") == 0
        assert abs(float(mid) - float(it.points_min + (it.points_max - it.points_min) / 2)) <= 0.05 + 1e-9


@pytest.mark.parametrize("item, cap", [("hand_drag", Decimal("2.0")), ("back_slap", Decimal("1.5")),
                                       ("body_contact", Decimal("1.5")), ("crash", Decimal("1.5"))])
def test_landing_caps_hold_for_every_judge(item, cap):
    for i in range(30):
        spec = sample_spec(1, i).with_faults([Fault(item, 0.0, 0.0, 1.0, 1)])
        sc = score_jump(spec)
        assert all(j[2] <= cap for j in sc.judges)
        assert sc.true["landing"] <= float(cap)


def test_true_components_subtract_points_from_a_quality_base():
    spec = sample_spec(2, 0).with_faults(())
    clean, _ = true_components(spec)
    worse, pts = true_components(spec.with_faults([Fault("bent_knees", 0.5, 0.2, 0.8)]))
    assert pts["bent_knees"] == fault_points("bent_knees", 0.5)
    assert clean["form"] - worse["form"] == pytest.approx(float(pts["bent_knees"]), abs=1e-3)
    assert clean["air"] == worse["air"] and clean["landing"] == worse["landing"]
    # the athlete's quality moves the marks of a jump without faults
    import dataclasses

    better = dataclasses.replace(spec, execution=spec.execution + 1.0)
    assert true_components(better)[0]["form"] > clean["form"]


def test_judges_differ_but_agree():
    sc = score_jump(sample_spec(0, 5))
    totals = [sum(j) for j in sc.judges]
    assert len(set(totals)) > 1
    assert max(totals) - min(totals) < Decimal("2.0")
    for a, f, l in sc.judges:
        assert all(v % Decimal("0.1") == 0 for v in (a, f, l))
        assert 0 <= a <= 2 and 0 <= f <= 5 and 0 <= l <= 3


@pytest.fixture(scope="module")
def annotations_only(tmp_path_factory):
    """1000 jumps, annotations only (the same records as a rendered run; see test_resume), loaded."""
    from judgemind.data import load_dataset

    root = generate(tmp_path_factory.mktemp("ann") / "ds", n=1000, seed=0, size=64, fps=10, workers=2,
                    progress=False, render=False)
    return load_dataset(root)


def test_code_and_dd_alone_do_not_predict_the_score(annotations_only):
    res = code_dd_baseline(annotations_only)
    assert res["n_test"] == 150
    assert res["rho_code_mean"] < 0.5
    assert res["rho_code_dd_linear"] < 0.5


def test_score_spread_looks_like_a_competition(annotations_only):
    s = summary(annotations_only)
    p = s["J_over_30_percentiles"]
    assert 0.6 <= p["p50"] <= 0.8          # the typical jump
    assert s["share_60_80"] >= 0.4           # most jumps in 60-80 % of the maximum J
    assert 0.05 <= s["share_below_50"] <= 0.3  # a tail of failed landings
    assert p["p95"] < 0.95


def test_default_mix_has_singles_doubles_and_triples():
    from judgemind.rules import parse_jump_code

    counts = np.bincount([parse_jump_code(sample_spec(0, i).code).n_somersaults for i in range(600)], minlength=4)
    assert counts[1] > 0 and counts[2] > 0 and counts[3] > counts[2] > counts[1]
