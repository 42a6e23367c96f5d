"""What the camera shows of each fault: one measured quantity per catalogue item, its visibility threshold, and
the points a judge takes for it.

SynthAerials v2's rule is that the judges score only what is drawn. A fault's severity changes the motion; this
module measures that change on the motion that is rendered (an angle in degrees, a distance in metres) and turns
it into points:

    q            the item's quantity, measured on the jump's motion against the same jump without the item
                 (for the flight distance: against the ideal landing point, for every jump)
    points(q)    0 below the visibility threshold q0; else catalogue min + (q - q0) / (q1 - q0) x (max - min),
                 clipped into the item's catalogue range

Each judge perceives ``q + sigma x z`` (z: the judge's own standard normal draw for the item, ``spec.perception``)
and deducts ``points`` of that, so judges disagree near a threshold and a little everywhere. Nothing that is not
drawn moves the marks. ``ITEMS`` is the table docs/synth.md prints (``python -m judgemind.synth.measure``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from judgemind.rules import load_catalogue
from judgemind.rules.scoring import MARK_STEP
from judgemind.synth import course
from judgemind.synth.motion import compute_motion
from judgemind.synth.spec import SYNTH_ITEMS, Fault, JumpSpec

_DEG = 180.0 / math.pi


@dataclass(frozen=True)
class ItemRule:
    """``quantity`` (what is measured, in ``unit``), visibility threshold ``q0``, quantity ``q1`` at which the
    catalogue maximum is reached, and the judges' perception noise ``sigma`` (same unit)."""

    item: str
    quantity: str
    unit: str
    q0: float
    q1: float
    sigma: float


ITEMS: dict[str, ItemRule] = {
    r.item: r
    for r in (
        ItemRule("early_rotation", "extra backward rotation of the body at the lip", "deg", 4.0, 40.0, 1.5),
        ItemRule("weak_takeoff", "hip and knee flexion left at the lip (no full extension)", "deg", 5.0, 48.0, 2.0),
        ItemRule("short_flight", "landing point short of the ideal point (knoll + 6 m)", "m", 0.6, 4.0, 0.25),
        ItemRule("long_flight", "landing point past the ideal point (knoll + 6 m)", "m", 0.6, 4.0, 0.25),
        ItemRule("bent_knees", "extra knee flexion over the shape's, at its largest", "deg", 4.0, 70.0, 1.5),
        ItemRule("legs_apart", "angle between the legs", "deg", 5.0, 70.0, 1.5),
        ItemRule("crossed_skis", "angle between the skis", "deg", 5.0, 70.0, 1.5),
        ItemRule("arms_flailing", "largest swing of an arm away from its position in the shape", "deg", 8.0, 80.0, 2.5),
        ItemRule("pike_in_layout", "hip flexion in a layout somersault", "deg", 5.0, 60.0, 1.5),
        ItemRule("arch_in_layout", "backward arch of the back in a layout somersault", "deg", 3.0, 30.0, 1.0),
        ItemRule("early_twist", "twist done before the schedule of the code, at its largest", "deg", 15.0, 170.0, 5.0),
        ItemRule(
            "late_twist_finish",
            "twist still to do after the schedule of the code, at its largest",
            "deg",
            15.0,
            130.0,
            5.0,
        ),
        ItemRule("uneven_twists", "twist moved from one somersault to another", "deg", 15.0, 216.0, 5.0),
        ItemRule("loss_of_axis", "tilt of the twist axis out of the somersault plane", "deg", 4.0, 35.0, 1.5),
        ItemRule("landing_imbalance", "pitching plus rolling of the body after touchdown", "deg", 5.0, 48.0, 2.0),
        ItemRule("hard_compression", "extra hip and knee flexion on touchdown", "deg", 5.0, 58.0, 2.0),
        ItemRule("turn_on_landing", "turn of the body on the hill", "deg", 10.0, 110.0, 4.0),
        ItemRule(
            "over_under_rotation", "rotation error at touchdown (too far or not far enough)", "deg", 5.0, 40.0, 2.0
        ),
        ItemRule("hand_drag", "sideways lean that puts a hand on the snow", "deg", 18.0, 40.0, 2.0),
        ItemRule("back_slap", "backward fall of the body onto the snow", "deg", 50.0, 90.0, 4.0),
        ItemRule("body_contact", "sideways fall of the body onto the snow", "deg", 65.0, 90.0, 4.0),
        ItemRule("crash", "rotation of the tumble after touchdown", "deg", 200.0, 475.0, 15.0),
        ItemRule("no_weight_on_skis", "backward rotation onto the back, skis off the snow", "deg", 90.0, 120.0, 4.0),
    )
}
assert set(ITEMS) == set(SYNTH_ITEMS)


@functools.lru_cache(maxsize=1)
def catalogue():
    """The packaged deduction catalogue, loaded once."""

    return load_catalogue()


def points_for(item: str, q: float) -> float:
    """Points (float, not yet on the 0.1 grid) a judge takes for ``item`` seen at quantity ``q``; 0 below the
    visibility threshold."""
    r = ITEMS[item]
    if not q >= r.q0:
        return 0.0
    it = catalogue().get(item)
    lo, hi = float(it.points_min), float(it.points_max)
    frac = min(max((q - r.q0) / (r.q1 - r.q0), 0.0), 1.0)
    return max(lo + frac * (hi - lo), 0.1 if hi > 0 else 0.0)


def points_decimal(item: str, q: float) -> Decimal:
    """``points_for`` on the 0.1 grid (the annotation's noise-free points)."""
    return Decimal(repr(points_for(item, q))).quantize(MARK_STEP, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------------------------
# measuring


def _delta(act, ref, name: str, a: int, b: int) -> np.ndarray:
    n = min(len(act.angles[name]), len(ref.angles[name]))
    a, b = min(a, n - 1), max(min(b, n), min(a, n - 1) + 1)
    return (act.angles[name][a:b] - ref.angles[name][a:b]) * _DEG


def _mean2(act, ref, names, a, b) -> np.ndarray:
    return sum(_delta(act, ref, n, a, b) for n in names) / len(names)


def _measure_fault(spec: JumpSpec, f: Fault, act, ref) -> float:
    item = f.item
    tl = act.timeline
    a, b = tl.fault_frames(f)
    d = functools.partial(_delta, act, ref)
    if item == "early_rotation":
        k = tl.lip - 1
        return float(d("pitch", k, k + 1)[0])
    if item == "weak_takeoff":
        k = tl.lip - 1
        return float(_mean2(act, ref, ("hip_l", "hip_r", "knee_l", "knee_r"), k, k + 1)[0])
    if item == "bent_knees":
        return float(_mean2(act, ref, ("knee_l", "knee_r"), a, b).max())
    if item == "legs_apart":
        return float(2.0 * d("abd", a, b).max())
    if item == "crossed_skis":
        return float(2.0 * d("cross", a, b).max())
    if item == "arms_flailing":
        return float(max(np.abs(d("sh_flex_l", a, b)).max(), np.abs(d("sh_flex_r", a, b)).max()))
    if item == "pike_in_layout":
        return float(_mean2(act, ref, ("hip_l", "hip_r"), a, b).max())
    if item == "arch_in_layout":
        return float((-d("spine", a, b)).max())
    if item in ("early_twist", "late_twist_finish", "uneven_twists"):
        return float(np.abs(d("twist", tl.lip, tl.touch)).max())
    if item in ("loss_of_axis", "hand_drag", "body_contact"):
        return float(np.abs(d("roll", a, b)).max())
    if item == "landing_imbalance":
        return float((np.abs(d("pitch", a, b)) + np.abs(d("roll", a, b))).max())
    if item == "hard_compression":
        return float(_mean2(act, ref, ("hip_l", "hip_r", "knee_l", "knee_r"), a, b).max())
    if item == "turn_on_landing":
        return float(np.abs(d("yaw", a, b)).max())
    if item == "over_under_rotation":
        return float(abs(d("pitch", tl.touch, tl.touch + 1)[0]))
    if item in ("back_slap", "crash", "no_weight_on_skis"):
        return float(d("pitch", a, b).max())
    raise KeyError(item)  # pragma: no cover - every fault item has a measure


@dataclass(frozen=True)
class Measured:
    """One item's measurement: ``value`` in the rule's unit, ``frames`` [start, end) where it shows (None for
    the landing distance), ``severity`` of the generator's fault (None when no fault was drawn, e.g. a short
    flight from the speed spread alone)."""

    item: str
    value: float
    frames: tuple[int, int] | None
    severity: float | None

    @property
    def visible(self) -> bool:
        return self.value >= ITEMS[self.item].q0


def measure(spec: JumpSpec, motion) -> dict[str, Measured]:
    """Every item's measurement on ``motion`` (the jump's motion at the data set's frame rate): the drawn faults,
    and the landing distance of every jump."""

    fps = motion.timeline.fps
    out: dict[str, Measured] = {}
    fl = spec.flight()
    dx = fl.landing_x - course.IDEAL_LANDING_X
    tl = motion.timeline
    flight_frames = tl.stage_frames("flight")
    for item, v in (("short_flight", -dx), ("long_flight", dx)):
        f = spec.fault(item)
        out[item] = Measured(item, round(max(0.0, v), 4), flight_frames, f.severity if f else None)
    for f in spec.faults:
        if f.item in ("short_flight", "long_flight"):
            continue
        ref = compute_motion(spec.with_faults([g for g in spec.faults if g.item != f.item]), fps)
        q = max(0.0, _measure_fault(spec, f, motion, ref))
        out[f.item] = Measured(f.item, round(q, 4), motion.timeline.fault_frames(f), f.severity)
    return out


def table_markdown() -> str:
    """The per-item table of docs/synth.md."""
    cat = catalogue()
    rows = [
        "| item | stage | quantity measured on the motion | unit | visible from (q0) | catalogue max at (q1) "
        "| points | judges' perception s.d. |",
        "|---|---|---|---|---:|---:|---|---:|",
    ]
    for item in SYNTH_ITEMS:
        r, it = ITEMS[item], cat.get(item)
        pts = (
            f"{it.points_min}"
            if it.points_min == it.points_max
            else f"{it.points_min} + (q - q0)/(q1 - q0) x {it.points_max - it.points_min}, to {it.points_max}"
        )
        rows.append(f"| {item} | {it.stage} | {r.quantity} | {r.unit} | {r.q0:g} | {r.q1:g} | {pts} | {r.sigma:g} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(table_markdown())
