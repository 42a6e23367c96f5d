"""Is this an aerials jump? Each sub-test of judgemind.data.jumpcheck on constructed tracks: a clean jump passes;
played backwards, stages shuffled, in-run only and a walking-like flat track fail; a jittered jump passes; no
threshold divides by a near-zero spread. Also jumps of the SynthAerials generator (its exact skeletons)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from judgemind.data import jumpcheck as J
from judgemind.data.skeleton import SKELETON_POINTS
from judgemind.data.track import SkeletonTrack, track_from_skeleton

P = {n: i for i, n in enumerate(SKELETON_POINTS)}
FPS, STEP = 25.0, 3  # a step every 3 frames (0.12 s), as 48 steps over a 6 s clip


def _pose(phi: float) -> np.ndarray:
    """(19, 3) pelvis-relative world points (metres) of a straight body whose torso axis is at ``phi`` degrees
    from up in the vertical plane along the course (x down the course, z up; a back somersault turns phi
    negative), skis under the feet pointing forward."""
    r = math.radians(phi)
    up = np.array([math.sin(r), 0.0, math.cos(r)])
    fwd = np.array([math.cos(r), 0.0, -math.sin(r)])
    side = np.array([0.0, 0.15, 0.0])
    pts = np.zeros((len(SKELETON_POINTS), 3))
    for name, k in (("neck", 0.5), ("head", 0.72), ("l_shoulder", 0.48), ("r_shoulder", 0.48)):
        pts[P[name]] = k * up
    pts[P["l_shoulder"]] += side
    pts[P["r_shoulder"]] -= side
    for s, sign in (("l", 1), ("r", -1)):
        pts[P[f"{s}_elbow"]] = 0.25 * up + sign * 2 * side
        pts[P[f"{s}_hand"]] = 0.05 * up + sign * 2 * side
        pts[P[f"{s}_hip"]] = sign * side
        pts[P[f"{s}_knee"]] = -0.45 * up + sign * side
        pts[P[f"{s}_ankle"]] = -0.9 * up + sign * side
        pts[P[f"{s}_ski_tip"]] = pts[P[f"{s}_ankle"]] + 0.9 * fwd
        pts[P[f"{s}_ski_tail"]] = pts[P[f"{s}_ankle"]] - 0.8 * fwd
    return pts


def _jump_rows(approach=1.2, flight=2.0, landing=1.2, turns=2, lean=20.0):
    """Per step: time, torso angle phi, pelvis world position (x, z): in-run, a ballistic flight of ``turns`` back
    somersaults that lands lower than it took off, the out-run."""
    t = np.arange(0.0, approach + flight + landing, STEP / FPS)
    s = np.clip((t - approach) / flight, 0.0, 1.0)
    phi = lean - 360.0 * turns * s
    tf = np.clip(t - approach, 0.0, flight)
    z = np.where(t < approach, -0.4 * t, -0.4 * approach + 8.0 * tf - 4.905 * tf**2)
    z = np.where(t > approach + flight, z[np.searchsorted(t, approach + flight) - 1] - 0.6 * (t - approach - flight), z)
    x = 12.0 * t
    return t, phi, np.stack([x, np.zeros_like(x), z], 1)


def _track(phi, traj, *, source="annotated", jitter=0.0, seed=0, camera=False, world=True) -> SkeletonTrack:
    """A track of the poses ``phi`` filmed from the athlete's left by a camera that follows it (the pelvis stays at
    the picture's centre, 40 px per metre)."""
    n = len(phi)
    rel = np.stack([_pose(p) for p in phi])
    rng = np.random.default_rng(seed)
    uv = np.stack([80.0 + 40.0 * rel[..., 0], 80.0 - 40.0 * rel[..., 2]], -1)
    if jitter:  # % of the body's height in the picture (about 1.8 m = 72 px), and of 1.75 m in the world
        uv = uv + rng.normal(size=uv.shape) * jitter / 100.0 * 72.0
        rel = rel + rng.normal(size=rel.shape) * jitter / 100.0 * 1.75
    tr = track_from_skeleton(
        uv,
        np.full((n, len(SKELETON_POINTS)), 2, np.int8),
        (rel + traj[:, None, :]) if world else None,
        np.arange(n) * STEP,
        (),
        (160, 160),
        FPS,
        source=source,
    )
    if camera:  # the background moves against the athlete's travel (12 m/s = 480 px/s)
        cam = np.zeros((n, 4), np.float32)
        cam[1:, 0] = -np.diff(traj[:, 0]) * 40.0 / 160.0
        cam[1:, 3] = 1.0
        tr = replace(tr, camera=cam)
    if source != "annotated":
        tr = replace(tr, world_rel=None, trajectory=None)
    return tr


def _rows(track: SkeletonTrack, rows) -> SkeletonTrack:
    """The track with its rows in another order, filmed as a new clip (frames increasing again, the camera's
    motion re-measured between the new neighbours)."""
    rows = np.asarray(rows)
    kw = {
        k: np.asarray(getattr(track, k))[rows] for k in ("uv", "visibility", "confidence", "box", "found", "detector")
    }
    for k in ("world_rel", "trajectory"):
        kw[k] = None if getattr(track, k) is None else np.asarray(getattr(track, k))[rows]
    cam = np.zeros((len(rows), 4), np.float32)
    if track.camera[:, 3].any():
        x = np.cumsum(track.camera[:, 0])[rows]
        cam[1:, 0] = np.diff(x)
        cam[1:, 3] = 1.0
    return replace(track, frames=np.arange(len(rows)) * STEP, camera=cam, **kw)


def _segments(t, approach=1.2, flight=2.0):
    n = len(t)
    a, b = np.searchsorted(t, approach), np.searchsorted(t, approach + flight)
    return {"T": np.arange(0, a), "F": np.arange(a, b), "L": np.arange(b, n)}


def _check(track, reference=None) -> dict:
    return J.check_jump(*J.jump_values(track), reference)


@pytest.fixture(scope="module")
def jump():
    t, phi, traj = _jump_rows()
    return t, phi, traj


def test_a_clean_jump_passes_every_sub_test(jump):
    t, phi, traj = jump
    c = _check(_track(phi, traj))
    assert c["is_jump"] is True and c["failed"] == [] and c["margin"] > 0
    tests = c["tests"]
    assert 620 <= tests["somersault"]["value"] <= 760  # two somersaults, seen in the picture
    assert 600 <= tests["back_rotation"]["value"] <= 760  # back somersaults in the course's vertical plane
    assert tests["approach"]["value"] >= 0.8 and tests["landing"]["value"] >= 0.8
    assert 1.5 <= tests["flight_time"]["value"] <= 2.6
    assert tests["travel"]["value"] > 5.0 and tests["tracking"]["value"] == 1.0
    for name, e in tests.items():
        assert set(e) >= {"value", "threshold", "margin", "passed"}, name
    assert tests["forward"]["value"] is None and "camera" in tests["forward"]["note"]


def test_played_backwards_fails_rotation_travel_and_forward(jump):
    t, phi, traj = jump
    back = _rows(_track(phi, traj), np.arange(len(t))[::-1])
    c = _check(back)
    assert c["is_jump"] is False
    assert {"back_rotation", "travel"} <= set(c["failed"])
    assert c["tests"]["back_rotation"]["value"] < -600 and c["margin"] < -1
    # a video-only track (no known 3D): the camera's motion against the skis says the athlete skis backwards
    est = _track(phi, traj, source="aerialspose", camera=True)
    assert _check(est)["is_jump"] is True and _check(est)["tests"]["forward"]["value"] > 0.9
    c = _check(_rows(est, np.arange(len(t))[::-1]))
    assert c["is_jump"] is False and c["failed"] == ["forward"] and c["tests"]["forward"]["value"] < -0.9


@pytest.mark.parametrize("order", ["TLF", "FTL", "FLT", "LTF", "LFT"])
def test_shuffled_stages_fail(jump, order):
    t, phi, traj = jump
    seg = _segments(t)
    rows = np.concatenate([seg[c] for c in order])
    c = _check(_rows(_track(phi, traj), rows))
    assert c["is_jump"] is False and "travel" in c["failed"]  # the pelvis jumps back up the course
    if order[0] == "F":  # a clip that starts in the air has no approach
        assert "approach" in c["failed"]
    if order[-1] == "F":  # ... one that ends in the air no landing
        assert "landing" in c["failed"]


def test_in_run_only_and_walking_fail(jump):
    t, phi, traj = jump
    inrun = _rows(_track(phi, traj), _segments(t)["T"])
    c = _check(inrun)
    assert c["is_jump"] is False and "somersault" in c["failed"] and c["tests"]["somersault"]["value"] == 0.0
    assert c["tests"]["approach"]["value"] is None and "never upside down" in c["tests"]["approach"]["note"]
    # a person walking: upright, swaying a little, slowly forward
    tw = np.arange(0.0, 6.0, STEP / FPS)
    sway = 4.0 * np.sin(2 * math.pi * tw)
    walk = np.stack([1.4 * tw, np.zeros_like(tw), 0.02 * np.sin(4 * math.pi * tw)], 1)
    for source in ("annotated", "mediapipe"):
        c = _check(_track(sway, walk, source=source))
        assert c["is_jump"] is False and c["tests"]["somersault"]["margin"] == -1.0, source
    assert (
        J.describe_failures(c)[0]
        == "the body never turns upside down: somersault 0 degrees is below 116 (margin -1.00)"
    )


@pytest.mark.parametrize("jitter", [2.0, 5.0])
def test_a_jittered_jump_still_passes(jump, jitter):
    t, phi, traj = jump
    for seed in range(5):
        c = _check(_track(phi, traj, jitter=jitter, seed=seed))
        assert c["is_jump"] is True, (seed, c["failed"], {k: e["value"] for k, e in c["tests"].items()})


def test_a_single_somersault_and_a_crash_lying_head_down_pass():
    t, phi, traj = _jump_rows(turns=1, flight=1.6)
    assert _check(_track(phi, traj))["is_jump"] is True
    # a crash: after touchdown the body falls back and stays head down, still
    t, phi, traj = _jump_rows(turns=2)
    after = t > 1.2 + 2.0 + 0.3
    phi = np.where(after, phi - np.clip((t - 3.5) / 0.3, 0, 1) * 160.0, phi)
    c = _check(_track(phi, traj))
    assert c["is_jump"] is True and c["tests"]["landing"]["value"] > 0.5


def test_a_hidden_flight_cannot_be_told_and_nobody_is_not_a_jump(jump):
    """An athlete too small to read through the flight (a wide shot): the check says it cannot tell; a clip where
    nobody is found at all is not a jump."""
    t, phi, traj = jump
    tr = _track(phi, traj, source="aerialspose")
    seg = _segments(t)["F"]
    box = tr.box.copy()
    box[seg, 2:] = box[seg, :2] + 6.0  # 6 px
    c = _check(replace(tr, box=box))
    assert c["is_jump"] is None and "somersault" in c["not_measured"] and c["failed"] == []
    assert "could not be read" in c["tests"]["somersault"]["note"]
    nobody = replace(tr, found=np.zeros(len(tr), bool))
    c = _check(nobody)
    assert c["is_jump"] is False and "somersault" in c["failed"]


def test_thresholds_from_a_calibration_split_and_scale_floors(jump):
    t, phi, traj = jump
    vals = [J.jump_values(_track(phi, traj, jitter=2.0, seed=s))[0] for s in range(3)]
    # fewer than MIN_CALIB jumps: the documented defaults
    ref = J.fit_jump_reference(vals)
    assert all(e["from"] == "default" for e in ref["tests"].values())
    # zero spread (every calib jump alike): finite thresholds and margins, the floor as the scale
    same = [vals[0]] * J.MIN_CALIB
    ref = J.fit_jump_reference(same)
    for name, e in ref["tests"].items():
        if e["from"] == "calib" and "scale" in e:
            assert math.isfinite(e["threshold"]) and e["scale"] >= J.TESTS[name][2], name
    c = J.check_jump(*J.jump_values(_track(phi, traj)), ref)
    assert all(e["margin"] is None or math.isfinite(e["margin"]) for e in c["tests"].values())
    # halfway between the calib split's low quantile and a non-jump's value
    s = ref["tests"]["somersault"]
    assert s["threshold"] == pytest.approx(0.5 * s["q"]) and s["from"] == "calib"
    lo, hi = ref["tests"]["flight_time"]["low"], ref["tests"]["flight_time"]["high"]
    assert lo == pytest.approx(vals[0]["flight_time"] / 2) and hi == pytest.approx(2 * vals[0]["flight_time"])
    # a test the split cannot measure keeps its default
    assert ref["tests"]["forward"]["from"] == "default"


def test_synth_jumps_pass_and_their_reversals_fail():
    """The generator's exact skeletons (no rendering): genuine jumps pass with the defaults; played backwards
    they fail."""
    from judgemind.synth import sample_spec, view_jump
    from judgemind.synth.annotate import skeleton_array

    for index in range(4):
        view = view_jump(sample_spec(5, index), 96, FPS)
        arr = skeleton_array(view)
        steps = np.unique(np.linspace(0, len(arr) - 1, 48).astype(int))
        a = arr[steps]
        tr = track_from_skeleton(
            a[..., :2], a[..., 2].astype(np.int8), a[..., 3:], steps, view.camera.cuts, (96, 96), FPS
        )
        c = _check(tr)
        assert c["is_jump"] is True, (index, c["failed"])
        back = track_from_skeleton(
            a[::-1, :, :2], a[::-1, :, 2].astype(np.int8), a[::-1, :, 3:], steps, (), (96, 96), FPS
        )
        assert _check(back)["is_jump"] is False
