"""Camera switches are a controlled variable: the same jumps under every cut pattern, only the shots differ."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from judgemind.errors import JudgemindError
from judgemind.synth import sample_spec, view_jump
from judgemind.synth.annotate import skeleton_array
from judgemind.synth.spec import CUT_MODES, HEAVY_MIN_GAP, SynthSettings
from judgemind.synth.writer import make_jump

INDICES = (0, 3, 7, 12)
# Record fields that depend on the camera: the athlete's box, the cut frames and the camera block of ``extra``.
SHOT_FIELDS = ("boxes", "cuts")


def _record(mode: str, index: int) -> dict:
    settings = SynthSettings(n=20, seed=11, size=64, fps=10, render=False, cuts=mode)
    return json.loads(make_jump(settings, index))


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict]]:
    return {m: [_record(m, i) for i in INDICES] for m in CUT_MODES}


def _without_shots(rec: dict) -> dict:
    rec = {k: v for k, v in rec.items() if k not in SHOT_FIELDS}
    rec["extra"] = {k: v for k, v in rec["extra"].items() if k != "camera"}
    return rec


def test_the_same_jumps_under_every_pattern(records):
    """Athletes, codes, faults, judges, marks, stages and timings are identical; only boxes/cuts/camera differ."""
    base = [_without_shots(r) for r in records["broadcast"]]
    for mode in ("none", "heavy"):
        assert [_without_shots(r) for r in records[mode]] == base, mode
    for mode in CUT_MODES:
        assert all(r["extra"]["camera"]["cuts_mode"] == mode for r in records[mode])


def test_none_is_one_shot_and_heavy_cuts_more(records):
    for r in records["none"]:
        assert r.get("cuts", []) == [] and len(r["extra"]["camera"]["shots"]) == 1
    # the first shot is the same under every pattern
    first = [r["extra"]["camera"]["shots"][0]["position"] for r in records["broadcast"]]
    assert [r["extra"]["camera"]["shots"][0]["position"] for r in records["none"]] == first
    assert [r["extra"]["camera"]["shots"][0]["position"] for r in records["heavy"]] == first
    for b, h in zip(records["broadcast"], records["heavy"]):
        assert 3 <= len(h["cuts"]) <= 6 and len(h["cuts"]) >= len(b["cuts"])
        gaps = np.diff([0, *h["cuts"], h["frames"][1]])
        assert gaps.min() >= int(HEAVY_MIN_GAP * 10) - 1  # 0.3 s at 10 fps, up to a frame of rounding
    assert sum(len(r["cuts"]) for r in records["heavy"]) > sum(len(r["cuts"]) for r in records["broadcast"])


def test_heavy_cuts_fall_where_broadcast_never_cuts():
    """Broadcast cuts only near take-off, mid-flight and touchdown; heavy cuts anywhere, mid-flight included."""

    def outside_broadcast_windows(s, t):
        lip, fl = s.inrun_time, s.flight_time
        td = lip + fl
        windows = [(lip - 0.35, lip + 0.25), (lip + 0.35 * fl, lip + 0.65 * fl), (td - 0.25, td + 0.3)]
        return not any(a <= t <= b for a, b in windows)

    broadcast = [sample_spec(5, i, cuts="broadcast") for i in range(30)]
    heavy = [sample_spec(5, i, cuts="heavy") for i in range(30)]
    assert not any(outside_broadcast_windows(s, shot.start) for s in broadcast for shot in s.shots[1:])
    in_flight_elsewhere = [
        shot.start
        for s in heavy
        for shot in s.shots[1:]
        if s.inrun_time < shot.start < s.inrun_time + s.flight_time and outside_broadcast_windows(s, shot.start)
    ]
    assert len(in_flight_elsewhere) >= 10


def test_skeleton_in_the_world_is_the_same_whatever_the_cuts():
    a, b = sample_spec(11, 3, cuts="none"), sample_spec(11, 3, cuts="heavy")
    assert dataclasses.replace(a, shots=(), cuts="") == dataclasses.replace(b, shots=(), cuts="")
    va, vb = view_jump(a, 64, 10), view_jump(b, 64, 10)
    np.testing.assert_array_equal(skeleton_array(va)[..., 3:], skeleton_array(vb)[..., 3:])


def test_unknown_pattern_is_refused():
    with pytest.raises(JudgemindError, match="none, broadcast, heavy"):
        sample_spec(0, 0, cuts="many")
