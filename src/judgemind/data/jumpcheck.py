"""Is this an aerials jump? A test of the jump's structure -- take-off, flight, landing -- not of the estimator.

:func:`jump_values` reads a :class:`~judgemind.data.track.SkeletonTrack` (the skeleton track the model read: the
data set's annotated skeletons, or the raw track of AerialsPose / MediaPipe) and measures, per sub-test, one value;
:func:`check_jump` compares them with thresholds (:func:`fit_jump_reference`, set on a calibration split: val's
calib half, ``judgemind.runs.calibrate``) and gives each a margin. Nothing here reads the scoring model.

The flight is found from the body alone: per time step, the torso axis (pelvis -> neck) in the picture, median
filtered over 3 steps, counts as *upright* above +0.3 of its length pointing up and *inverted* below -0.3
(hysteresis); a somersault turns it upside down and back, a person walking never does. Steps whose pose an
estimator cannot be trusted with are left out: the pelvis or neck out of the picture, their confidence under
:data:`MIN_CONFIDENCE`, an estimated athlete under :data:`MIN_BOX_PX` pixels tall (AerialsPose on SynthAerials
renders: the sign of the axis is wrong in 12 % of the steps under 16 px and in 25-46 % under confidence 0.8,
against 1-2 % otherwise). The **flight** runs from the last upright step before the main group of inverted
episodes (episodes less than :data:`EPISODE_GAP` s apart; the group with the most inverted steps) to the first
upright step after it.

Sub-tests (value, unit; a jump has a large value, a non-jump a value near ``null``):

=================  =====================================================================================  =====
test               value                                                                                  null
=================  =====================================================================================  =====
``tracking``       share of consecutive steps where the athlete's box keeps its size (x2) and moves less   0.5
                   than its size: one athlete followed (a detector jumping between people: ~0.5)
``somersault``     turning of the torso axis in the picture during the flight (degrees; >= 360 per         0
                   somersault)
``approach``       seconds before the flight (in-run and kicker: a clip that starts in the air has ~0)     0
``landing``        seconds after the flight (touchdown and out-run: a clip that ends in the air has ~0)    0
``flight_time``    seconds of the flight: inside a plausible range (two-sided)                            --
``back_rotation``  net rotation of the torso in the course's vertical plane, degrees, positive for a      0
                   back somersault (aerials are back somersaults): a clip played backwards is negative.
                   Only where the 3D pose is known, not guessed (annotated skeletons: AerialsPose's 3D
                   cannot tell a side view from its mirror image)
``travel``         the slowest step of the pelvis down the course (m/s): a jump moves forward all the     0
                   time; played backwards or cut and re-ordered it moves back. Only with a known world
                   trajectory (annotated skeletons; the refiner's trajectory is a learned guess)
``forward``        on the snow (before and after the flight), the athlete's motion (its box's centre)     0
                   against the background (the camera's measured motion) along the skis' direction: +1
                   skiing forward, -1 backwards (a reversed clip). Only where the camera's motion and the
                   skis are measured (AerialsPose tracks); not measured below :data:`MIN_FORWARD_WEIGHT`
=================  =====================================================================================  =====

Thresholds (:func:`fit_jump_reference`): for a one-sided test, ``q`` = the calibration split's conformal lower
quantile (1 %) of the genuine jumps' values and the threshold halfway between ``q`` and ``null``; the margin is
``(value - threshold) / scale`` with ``scale = max(q - threshold, floor)`` -- +1 at ``q``, 0 at the threshold, -1
at ``null`` -- so it never divides by a near-zero spread. ``flight_time``: thresholds at half the 1 % quantile and
twice the 99 % quantile, margins in factors of two (log2). A test the calibration split cannot measure (e.g.
``forward`` for a run on annotated skeletons) uses the documented default (:data:`DEFAULTS`, measured on
SynthAerials renders). A test the video cannot measure is reported with ``value`` None and does not count;
``is_jump`` needs the four structural tests measured and every measured test passed.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from judgemind.data.skeleton import SKELETON_POINTS
from judgemind.evaluate.conformal import conformal_quantile

__all__ = [
    "TESTS",
    "STRUCTURE_TESTS",
    "DEFAULTS",
    "jump_values",
    "fit_jump_reference",
    "check_jump",
    "describe_failures",
]

UP = 0.3  # |vertical component| of the unit torso axis that counts as upright / inverted (hysteresis)
MIN_CONFIDENCE = 0.8  # pelvis and neck confidence for a step to count (estimated tracks)
MIN_BOX_PX = 16.0  # an estimated athlete smaller than this (pixels tall) gives no trustworthy torso direction
EPISODE_GAP = 0.6  # s: inverted episodes closer than this belong to one flight
HIDDEN_GAP = 0.5  # s of unreadable body between upright steps that may hide a flight (the check then cannot tell)
MIN_TURN_RATE = 120.0  # degrees/s of the torso axis in the picture: the body is rotating (a somersault: 300+)
TRACK_SIZE = 2.0  # the athlete's box may grow or shrink by this factor between steps (a turning body: skis)
TRAVEL_SPAN = 0.4  # s: the pelvis's progress down the course is measured over this span
MIN_FORWARD_WEIGHT = 20.0  # pixels of measured motion on the snow below which ``forward`` is not measured
ALPHA = 0.01  # the calibration quantile of genuine jumps' values

# name -> (unit, null, floor of the scale); flight_time is two-sided (null None)
TESTS: dict[str, tuple[str, float | None, float]] = {
    "tracking": ("share", 0.5, 0.05),
    "somersault": ("degrees", 0.0, 45.0),
    "approach": ("s", 0.0, 0.1),
    "landing": ("s", 0.0, 0.1),
    "flight_time": ("s", None, 0.2),
    "back_rotation": ("degrees", 0.0, 45.0),
    "travel": ("m/s", 0.0, 0.5),
    "forward": ("cosine", 0.0, 0.1),
}
STRUCTURE_TESTS = ("tracking", "somersault", "approach", "landing", "flight_time")
# thresholds used when the calibration split cannot measure a test or holds fewer than MIN_CALIB jumps:
# (threshold, scale) or, for flight_time, (low, high). SYNTHETIC: fitted by the rule below on the bench preset's val
# calib half (150 jumps, annotated skeletons); ``forward`` on AerialsPose tracks of 40 test renders (the genuine
# jumps' smallest value was -0.09, the reversed clips' largest -0.08). docs/reliability.md, "Is this a jump?"
DEFAULTS: dict[str, tuple[float, float]] = {
    "tracking": (0.67, 0.17),
    "somersault": (116.0, 116.0),
    "approach": (0.05, 0.1),
    "landing": (0.05, 0.1),
    "flight_time": (0.3, 8.6),
    "back_rotation": (171.0, 171.0),
    "travel": (1.76, 1.76),
    "forward": (0.0, 0.4),
}
MIN_CALIB = 30  # genuine jumps a calibration split needs to set its own thresholds (else DEFAULTS)

_P = {n: i for i, n in enumerate(SKELETON_POINTS)}
_TIPS = [_P["l_ski_tip"], _P["r_ski_tip"]]
_TAILS = [_P["l_ski_tail"], _P["r_ski_tail"]]


def _median3(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Median over 3 consecutive rows of ``x`` (N, D), the rows not ``ok`` left out (NaN where none is left). An end
    row's missing neighbour is extrapolated from the next two rows, so a steady motion keeps its first and last
    row and a single wrong row at an end is outvoted."""
    y = np.where(ok[:, None], np.asarray(x, np.float64), np.nan)
    if len(y) < 3:
        return y
    pad = np.concatenate([2 * y[1:2] - y[2:3], y, 2 * y[-2:-1] - y[-3:-2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
        return np.nanmedian(np.stack([pad[:-2], pad[1:-1], pad[2:]]), axis=0)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > 1e-9, v / np.maximum(n, 1e-9), np.nan)


def _wrap(d: np.ndarray) -> np.ndarray:
    return (np.asarray(d, np.float64) + 180.0) % 360.0 - 180.0


def _annotated(track) -> bool:
    return str(track.source).startswith("annotated")


def _reliable(track) -> np.ndarray:
    """(N,) steps whose torso direction can be trusted (see the module docstring)."""
    vis = np.asarray(track.visibility) > 0
    conf = np.asarray(track.confidence, np.float64)
    ok = np.asarray(track.found, bool) & vis[:, _P["pelvis"]] & vis[:, _P["neck"]]
    ok &= np.minimum(conf[:, _P["pelvis"]], conf[:, _P["neck"]]) >= MIN_CONFIDENCE
    if not _annotated(track):
        box = np.asarray(track.box, np.float64)
        ok &= np.nan_to_num(box[:, 3] - box[:, 1]) >= MIN_BOX_PX
    return ok


def _states(up: np.ndarray) -> np.ndarray:
    """+1 upright, -1 inverted, 0 not yet known, per step (hysteresis on the vertical component ``up``)."""
    s, out = 0, np.zeros(len(up), int)
    for i, u in enumerate(up):
        if np.isfinite(u):
            if u > UP:
                s = 1
            elif u < -UP:
                s = -1
        out[i] = s
    return out


def _main_flight(states: np.ndarray, t: np.ndarray, turn: np.ndarray) -> tuple[int, int, np.ndarray] | None:
    """(first, last) step of the flight and its turning inverted steps, or None without one. ``turn`` (N,): the
    axis's turning (degrees) since the previous step. The core is the inverted steps that turn (or neighbour a
    step that does) -- a crash's body lying head down, still, is not flight -- grouped by :data:`EPISODE_GAP`;
    the group with the most steps, widened over the steps that keep turning at :data:`MIN_TURN_RATE` or more
    (the kicker before, the opening before touchdown after)."""
    n = len(states)
    dt = np.diff(t, prepend=t[0])
    active = np.abs(turn) >= MIN_TURN_RATE * np.maximum(dt, 1e-6)
    near = active | np.concatenate([active[1:], [False]]) | np.concatenate([[False], active[:-1]])
    inv = np.flatnonzero((states == -1) & near)
    if not len(inv):
        return None
    groups, cur = [], [inv[0]]
    for i in inv[1:]:
        if t[i] - t[cur[-1]] > EPISODE_GAP:
            groups.append(cur)
            cur = []
        cur.append(i)
    groups.append(cur)
    g = np.asarray(max(groups, key=len))
    a, b = int(g[0]), int(g[-1])
    while a > 0 and active[a]:
        a -= 1
    while b + 1 < n and active[b + 1]:
        b += 1
    return a, b, g


def jump_values(track) -> tuple[dict[str, float | None], dict[str, str]]:
    """``(values, why)``: the value of every sub-test of :data:`TESTS` for ``track`` (None where it cannot be
    measured, with the reason in ``why``)."""
    n = len(track)
    vals: dict[str, float | None] = dict.fromkeys(TESTS)
    why: dict[str, str] = {}
    fr = np.asarray(track.frames, np.float64)
    t = (fr - fr[0]) / float(track.fps or 25.0) if n else fr
    uv = np.nan_to_num(np.asarray(track.uv, np.float64))
    ok = _reliable(track) if n else np.zeros(0, bool)
    axis = np.stack([uv[:, _P["neck"], 0] - uv[:, _P["pelvis"], 0], uv[:, _P["pelvis"], 1] - uv[:, _P["neck"], 1]], 1)
    axis = _unit(_median3(_unit(axis), ok))  # image y up
    states = _states(axis[:, 1])
    theta = np.degrees(np.arctan2(axis[:, 0], axis[:, 1]))
    turn = np.nan_to_num(_wrap(np.diff(theta, prepend=theta[:1])))  # 0 next to an unreliable step
    flight = _main_flight(states, t, turn) if n else None
    hidden = _hidden_stretch(ok, np.asarray(track.found, bool), states, t) if flight is None and n else 0.0
    if flight is None and hidden >= HIDDEN_GAP:
        for k in ("somersault", "approach", "landing", "flight_time"):
            why[k] = (
                f"the body could not be read for {hidden:.1f} s between upright steps (athlete under "
                f"{MIN_BOX_PX:g} px, not found or unsure): a flight there cannot be seen"
            )
    elif flight is None:
        vals["somersault"] = 0.0
        for k in ("approach", "landing", "flight_time"):
            why[k] = "no flight: the body is never upside down"
    else:
        a, b, _ = flight
        vals["somersault"] = float(np.abs(turn[a + 1 : b + 1]).sum())
        vals["approach"] = float(t[a] - t[0])
        vals["landing"] = float(t[-1] - t[b])
        vals["flight_time"] = float(t[b] - t[a])
    vals["tracking"] = _tracking(track)
    if vals["tracking"] is None:
        why["tracking"] = "fewer than two consecutive steps with the athlete found"
    _world_values(track, t, vals, why)
    _forward_value(track, uv, states, flight, vals, why)
    return vals, why


def _hidden_stretch(ok: np.ndarray, found: np.ndarray, states: np.ndarray, t: np.ndarray) -> float:
    """Seconds of the longest run of unreadable steps where the athlete was found (too small or unsure to read),
    with readable upright steps on both sides, in a clip readable for at least half its steps (else 0: nobody to
    see is not a hidden flight)."""
    if ok.mean() < 0.5:
        return 0.0
    best, i, n = 0.0, 0, len(ok)
    while i < n:
        if ok[i]:
            i += 1
            continue
        j = i
        while j < n and not ok[j]:
            j += 1
        if i > 0 and j < n and states[i - 1] == 1 and found[i:j].mean() >= 0.8:
            best = max(best, float(t[j] - t[i - 1]))
        i = j
    return best


def _tracking(track) -> float | None:
    """Share of consecutive steps (same shot, the athlete found in both) where the athlete's box keeps its size
    (within a factor of :data:`TRACK_SIZE`) and moves less than its own size: one athlete followed, not a
    detector jumping between people."""
    box = np.nan_to_num(np.asarray(track.box, np.float64))
    size = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    centre = np.stack([box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]], 1) / 2.0
    found = np.asarray(track.found, bool) & (size > 0)
    if not _annotated(track):
        found &= size >= MIN_BOX_PX  # an estimator cannot size a few-pixel athlete
    pair = found[1:] & found[:-1] & ~track.cut_before()[1:]
    if not pair.any():
        return None
    s0, s1 = size[:-1][pair], size[1:][pair]
    moved = np.linalg.norm(centre[1:][pair] - centre[:-1][pair], axis=1) / np.sqrt(s0 * s1)
    kept = np.abs(np.log(s1 / s0)) <= math.log(TRACK_SIZE)
    return float(np.mean(kept & (moved <= 1.0)))


def _world_values(track, t: np.ndarray, vals: dict, why: dict) -> None:
    """``back_rotation`` and ``travel`` from a known 3D pose and trajectory (annotated skeletons only)."""
    if not _annotated(track) or track.world_rel is None:
        why["back_rotation"] = why["travel"] = "needs a known 3D pose and world trajectory (annotated skeletons)"
        return
    w = np.asarray(track.world_rel, np.float64)
    a = w[:, _P["neck"]] - w[:, _P["pelvis"]]
    ok = np.isfinite(a).all(1) & (np.linalg.norm(np.nan_to_num(a), axis=1) > 1e-6)
    a = _median3(_unit(np.nan_to_num(a)), ok)
    phi = np.degrees(np.arctan2(a[:, 0], a[:, 2]))  # x down the course, z up: back somersault = phi decreasing
    phi = phi[np.isfinite(phi)]
    vals["back_rotation"] = float(-_wrap(np.diff(phi)).sum()) if len(phi) > 1 else 0.0
    tr = track.trajectory
    if tr is None or len(t) < 2:
        why["travel"] = "needs a known world trajectory (annotated skeletons)"
        return
    x = np.asarray(tr, np.float64)[:, 0]
    j = np.searchsorted(t, t + TRAVEL_SPAN)  # each step against the first one TRAVEL_SPAN s later (noise / 4)
    keep = j < len(t)
    if not keep.any():
        why["travel"] = f"the clip is shorter than {TRAVEL_SPAN} s"
        return
    i, j = np.flatnonzero(keep), j[keep]
    vals["travel"] = float(((x[j] - x[i]) / (t[j] - t[i])).min())


def _forward_value(track, uv: np.ndarray, states: np.ndarray, flight, vals: dict, why: dict) -> None:
    """``forward``: on the snow, the athlete's motion against the background along the skis' direction."""
    cam = np.asarray(track.camera, np.float64)
    if not (cam[:, 3] > 0).any():
        why["forward"] = "the camera's motion was not measured (annotated skeletons carry none)"
        return
    n = len(track)
    W, H = (float(v) for v in track.frame_size)
    vis = np.asarray(track.visibility) > 0
    found = np.asarray(track.found, bool)
    skis = uv[:, _TIPS].mean(1) - uv[:, _TAILS].mean(1)
    skis = np.stack([skis[:, 0], -skis[:, 1]], 1)
    has_skis = found & vis[:, _TIPS + _TAILS].all(1) & (np.linalg.norm(skis, axis=1) > 1e-6)
    air = np.zeros(n, bool)
    if flight is not None:
        air[flight[0] : flight[1] + 1] = True
    cut = track.cut_before()
    box = np.nan_to_num(np.asarray(track.box, np.float64))
    c = np.stack([box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]], 1) / 2.0  # steadier than one point (measured)
    num = den = 0.0
    for i in range(1, n):
        if cut[i] or cam[i, 3] <= 0 or air[i] or states[i] != 1 or not (found[i - 1] and has_skis[i]):
            continue
        v = np.array([c[i, 0] - c[i - 1, 0] - cam[i, 0] * W, -(c[i, 1] - c[i - 1, 1] - cam[i, 1] * H)])
        num += float(v @ _unit(skis[i])) * cam[i, 3]
        den += float(np.linalg.norm(v)) * cam[i, 3]
    if den < MIN_FORWARD_WEIGHT:
        why["forward"] = (
            f"too little measured motion on the snow ({den:.0f} px, need {MIN_FORWARD_WEIGHT:.0f}) or no skis"
        )
        return
    vals["forward"] = num / den


# -- thresholds and the check ------------------------------------------------------------------------------------


def _lower_q(values: np.ndarray) -> float:
    """The conformal lower ``ALPHA`` quantile (the smallest value when there are too few)."""
    q = -conformal_quantile(-values, ALPHA)
    return float(q if math.isfinite(q) else values.min())


def fit_jump_reference(rows: list[dict]) -> dict:
    """Thresholds of every sub-test from the :func:`jump_values` of genuine jumps (a calibration split). Tests the
    split cannot measure, or measures on fewer than :data:`MIN_CALIB` jumps, keep :data:`DEFAULTS`
    (``"from": "default"``)."""
    tests: dict[str, dict[str, Any]] = {}
    for name, (unit, null, floor) in TESTS.items():
        v = np.array([r[name] for r in rows if r.get(name) is not None], np.float64)
        v = v[np.isfinite(v)]
        if len(v) < MIN_CALIB:
            v = v[:0]
        d = DEFAULTS[name]
        if null is None:  # two-sided, in factors of two
            if len(v) and v.min() > 0:
                q_lo = _lower_q(v)
                q_hi = float(-_lower_q(-v))
                lo, hi = max(q_lo / 2.0, floor), 2.0 * q_hi
                tests[name] = {"low": lo, "high": hi, "q_low": q_lo, "q_high": q_hi, "n": len(v), "from": "calib"}
            else:
                tests[name] = {"low": d[0], "high": d[1], "n": 0, "from": "default"}
            continue
        if len(v):
            q = _lower_q(v)
            th = null + 0.5 * max(q - null, floor)
            tests[name] = {"threshold": th, "scale": max(q - th, floor), "q": q, "n": len(v), "from": "calib"}
        else:
            tests[name] = {"threshold": d[0], "scale": d[1], "n": 0, "from": "default"}
        tests[name]["unit"] = unit
    tests["flight_time"]["unit"] = TESTS["flight_time"][0]
    return {
        "alpha": ALPHA,
        "rule": "one-sided: threshold halfway between the calib split's 1 % quantile q of genuine jumps and the "
        "value of a non-jump; margin = (value - threshold) / max(q - threshold, floor). flight_time: half the 1 % "
        "and twice the 99 % quantile, margin in factors of two",
        "tests": tests,
    }


def _default_reference() -> dict:
    return fit_jump_reference([])


def check_jump(values: dict, why: dict | None = None, reference: dict | None = None) -> dict:
    """``{"is_jump", "margin", "tests": {name: {"value", "threshold", "margin", "passed"[, "note"]}}, "failed",
    "thresholds_from"}`` of one video's :func:`jump_values` against a reference (:func:`fit_jump_reference`;
    None: the built-in defaults). ``margin``: the smallest margin of the measured tests."""
    ref = reference or _default_reference()
    why = why or {}
    tests: dict[str, dict[str, Any]] = {}
    for name, (unit, null, floor) in TESTS.items():
        r = ref["tests"].get(name) or _default_reference()["tests"][name]
        v = values.get(name)
        if null is None:
            th: Any = [round(r["low"], 4), round(r["high"], 4)]
            m = None if v is None else min(math.log2(max(v, 1e-9) / r["low"]), math.log2(r["high"] / max(v, 1e-9)))
        else:
            th = round(float(r["threshold"]), 4)
            m = None if v is None else (v - r["threshold"]) / max(float(r["scale"]), floor)
        entry: dict[str, Any] = {
            "value": None if v is None else round(float(v), 4),
            "threshold": th,
            "unit": unit,
            "margin": None if m is None else round(float(m), 3),
            "passed": None if m is None else bool(m >= 0),
        }
        if v is None:
            entry["note"] = why.get(name, "not measured")
        tests[name] = entry
    measured = [k for k, e in tests.items() if e["passed"] is not None]
    failed = [k for k in measured if not tests[k]["passed"]]
    missing = [k for k in STRUCTURE_TESTS if tests[k]["passed"] is None]
    margins = [tests[k]["margin"] for k in measured]
    return {
        "is_jump": False if failed else (None if missing else True),
        "margin": None if not margins else min(margins),
        "failed": failed,
        "not_measured": missing,
        "tests": tests,
        "thresholds_from": _source(ref),
    }


def _source(ref: dict) -> str:
    """Where a reference's thresholds come from, in words."""
    froms = [e.get("from") for e in ref["tests"].values()]
    where = ref.get("calibrated_on")
    if "calib" not in froms:
        return "defaults (SynthAerials bench preset)" + (
            f"; {where} has fewer than {MIN_CALIB} jumps to calibrate on" if where else ""
        )
    if "default" in froms:
        return f"{where} (defaults for {', '.join(k for k, e in ref['tests'].items() if e.get('from') == 'default')})"
    return str(where)


GLOSS = {
    "tracking": "the athlete is not followed from step to step",
    "somersault": "the body never turns upside down",
    "approach": "no take-off before the flight",
    "landing": "no landing after the flight",
    "flight_time": "an implausible flight time",
    "back_rotation": "not a back somersault (played backwards?)",
    "travel": "the athlete moves back up the course (played backwards or re-ordered?)",
    "forward": "the athlete skis backwards (played backwards?)",
}


def describe_failures(check: dict) -> list[str]:
    """One sentence per failed sub-test of a :func:`check_jump` result: what it means, its value, threshold and
    margin."""
    out = []
    for name in check["failed"]:
        e = check["tests"][name]
        th = e["threshold"]
        bound = f"outside {th[0]:g}-{th[1]:g}" if isinstance(th, list) else f"below {th:g}"
        out.append(f"{GLOSS[name]}: {name} {e['value']:.3g} {e['unit']} is {bound} (margin {e['margin']:+.2f})")
    return out
