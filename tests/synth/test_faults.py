"""Faults change the rendered motion where (and only where) they happen."""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.synth import Fault, compute_motion, render_jump, sample_spec, timeline
from judgemind.synth.motion import P
from judgemind.synth.spec import FAULT_STAGE, SYNTH_ITEMS

SIZE, FPS = 64, 10


def _base():
    """A clean twisting layout triple with the athlete in the picture."""
    for i in range(200):
        s = sample_spec(0, i, ("bFdFF",))
        if all(sh.kind not in ("wide",) for sh in s.shots):
            return s.with_faults(())
    raise AssertionError("no suitable jump")  # pragma: no cover


@pytest.fixture(scope="module")
def base():
    spec = _base()
    return spec, np.stack(list(render_jump(spec, SIZE, FPS)))


def test_bent_knees_changes_flight_frames_only(base):
    spec, clean = base
    bent = spec.with_faults([Fault("bent_knees", 1.0, 0.0, 1.0)])
    frames = np.stack(list(render_jump(bent, SIZE, FPS)))
    tl = timeline(spec, FPS)
    assert frames.shape == clean.shape
    diff = np.abs(frames.astype(int) - clean.astype(int)).reshape(len(frames), -1).max(axis=1)
    assert (diff[: tl.lip] == 0).all()  # in-run identical
    assert (diff[tl.touch :] == 0).all()  # landing identical
    assert (diff[tl.lip + 1 : tl.touch - 1] > 0).mean() > 0.8  # flight visibly different


def test_bent_knees_bends_the_knees_by_severity(base):
    spec, _ = base
    tl = timeline(spec, FPS)
    mid = (tl.lip + tl.touch) // 2

    def knee_angle(s):
        pts = compute_motion(s, FPS).points[mid]
        a, b = pts[P["l_hip"]] - pts[P["l_knee"]], pts[P["l_ankle"]] - pts[P["l_knee"]]
        return np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0)))

    straight = knee_angle(spec)
    bent = knee_angle(spec.with_faults([Fault("bent_knees", 1.0, 0.0, 1.0)]))
    half = knee_angle(spec.with_faults([Fault("bent_knees", 0.5, 0.0, 1.0)]))
    assert straight > 170
    assert 55 < straight - bent < 85 and 25 < straight - half < 45


ITEMS = [
    "early_rotation",
    "weak_takeoff",
    "short_flight",
    "long_flight",
    "bent_knees",
    "legs_apart",
    "crossed_skis",
    "arms_flailing",
    "pike_in_layout",
    "arch_in_layout",
    "early_twist",
    "late_twist_finish",
    "uneven_twists",
    "loss_of_axis",
    "landing_imbalance",
    "hard_compression",
    "turn_on_landing",
    "over_under_rotation",
    "hand_drag",
    "back_slap",
    "body_contact",
    "crash",
    "no_weight_on_skis",
]


def test_every_sampled_item_is_covered():
    assert set(ITEMS) == set(SYNTH_ITEMS)


@pytest.mark.parametrize("item", ITEMS)
def test_every_fault_moves_the_body_in_its_stage(base, item):
    spec, _ = base
    window = (0.0, 1.0) if FAULT_STAGE[item] != "takeoff" else (0.6, 1.0)
    faulty = spec.with_faults([Fault(item, 0.8, *window)])
    a, b = compute_motion(spec, FPS), compute_motion(faulty, FPS)
    tl = timeline(faulty, FPS)
    s0, s1 = tl.stage_frames(FAULT_STAGE[item])
    rel_a = a.points - a.root[:, None, :]
    rel_b = b.points - b.root[:, None, :]
    n = min(len(rel_a), len(rel_b))
    moved = np.linalg.norm(rel_a[:n] - rel_b[:n], axis=2).max(axis=1)
    if item in ("short_flight", "long_flight"):  # these change the trajectory, not the pose
        assert abs(faulty.flight().landing_x - spec.flight().landing_x) > 1.0
        return
    assert moved[s0 : min(s1, n)].max() > 0.3, item  # some joint moves by more than 30 cm
    assert np.allclose(moved[: min(s0, tl.lip)], 0.0) if FAULT_STAGE[item] != "takeoff" else True


def test_contact_faults_put_the_body_on_the_snow(base):
    spec, _ = base

    def lowest_body(s, item):
        m = compute_motion(s, FPS)
        tl = m.timeline
        f = s.fault(item)
        a, b = tl.fault_frames(f)
        body = [P[k] for k in ("pelvis", "neck", "head", "l_hand", "r_hand")]
        heights = m.points[a:b][:, body, 2] - m.ground[a:b, None, 2]
        return heights.min()

    for item in ("hand_drag", "back_slap", "body_contact", "crash", "no_weight_on_skis"):
        s = spec.with_faults([Fault(item, 0.8, 0.0, 1.0)])
        assert lowest_body(s, item) < 0.35, item


def test_short_and_long_flights_follow_the_speed(base):
    spec, _ = base
    short = spec.with_faults([Fault("short_flight", 1.0)])
    long_ = spec.with_faults([Fault("long_flight", 1.0)])
    assert short.speed < spec.speed < long_.speed
    assert short.flight_time < spec.flight_time < long_.flight_time
    assert short.flight().landing_x < spec.flight().landing_x < long_.flight().landing_x
    assert short.flight().apex < spec.flight().apex
