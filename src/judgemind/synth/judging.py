"""From a jump's faults to the panel's marks: true components, five noisy judges, the final score.

True (noise-free) components:

    air     = min(2.0, 1.47 + 0.12 skill) - sum of air points
    form    = min(5.0, 3.45 + 0.30 skill) - sum of form points
    landing = min(3.0, 2.80 + 0.13 skill) - sum of landing points, then the landing caps
              (hand contact <= 2.0, body contact <= 1.5, and each item's catalogue cap); with a hand or body on
              the snow the base is min(3.0, 2.95 + 0.08 skill), so that e.g. a crash (2.5-2.9 points) lands in
              the handbook's 0.1-0.5 band

each clipped at 0, where ``skill`` = 0.6 x athlete quality + 0.8 x this jump's execution draw (so the score is not
a function of the fault list alone) and an item's points = catalogue min + severity x (max - min), on the 0.1 grid.
Judge j's mark = true + bias_j + noise_j x z (z standard normal, stored in the spec), rounded to 0.1, clipped into
the component's range and capped like the truth. The final score is ``judgemind.rules.score_aerials``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from judgemind.synth.spec import JumpSpec

COMPONENT_MAX = {"air": 2.0, "form": 5.0, "landing": 3.0}
_BASE = {"air": (1.47, 0.12), "form": (3.45, 0.3), "landing": (2.8, 0.13)}
_CONTACT_LANDING_BASE = (2.95, 0.08)
_TENTH = Decimal("0.1")
HAND_ITEMS = ("hand_drag",)
BODY_ITEMS = ("back_slap", "body_contact", "crash")


@functools.lru_cache(maxsize=1)
def _catalogue():
    from judgemind.rules import load_catalogue

    return load_catalogue()


def fault_points(item: str, severity: float) -> Decimal:
    """Points an item costs at ``severity``: min + severity x (max - min), on the 0.1 grid, inside the item's
    catalogue range."""
    it = _catalogue().get(item)
    raw = it.points_min + Decimal(repr(float(severity))) * (it.points_max - it.points_min)
    pts = raw.quantize(_TENTH, rounding=ROUND_HALF_UP)
    return min(max(pts, it.points_min), it.points_max)


@dataclass(frozen=True)
class JumpScores:
    """``true``: noise-free components (floats); ``judges``: 5 x (air, form, landing) Decimal marks;
    ``score``: the rules engine's result (``.score`` truncated, ``.J``)."""

    true: dict
    judges: tuple
    score: object
    points: dict  # item -> Decimal points

    @property
    def final(self) -> Decimal:
        return self.score.score


def landing_cap(items) -> float | None:
    caps = [float(_catalogue().get(i).landing_cap) for i in items if _catalogue().get(i).landing_cap is not None]
    return min(caps) if caps else None


def true_components(spec: JumpSpec) -> tuple[dict, dict]:
    """(components, points per item) of ``spec`` without judge noise."""
    points = {f.item: fault_points(f.item, f.severity) for f in spec.faults}
    comp = {}
    skill = spec.skill
    contact = bool(set(points) & set(HAND_ITEMS + BODY_ITEMS))
    for c, (base, slope) in _BASE.items():
        if c == "landing" and contact:
            # a hand or body on the snow: the item's catalogue range is the handbook's band counted from 3.0
            base, slope = _CONTACT_LANDING_BASE
        v = min(COMPONENT_MAX[c], base + slope * skill)
        v -= float(sum((p for i, p in points.items() if _catalogue().get(i).component == c), Decimal(0)))
        comp[c] = max(0.0, v)
    cap = landing_cap(points)
    if cap is not None:
        comp["landing"] = min(comp["landing"], cap)
    return {c: round(v, 4) for c, v in comp.items()}, points


def _mark(value: float, hi: float) -> Decimal:
    tenths = math.floor(value * 10.0 + 0.5)
    return Decimal(min(max(tenths, 0), int(round(hi * 10)))) * _TENTH


def score_jump(spec: JumpSpec) -> JumpScores:
    from judgemind.rules import apply_landing_caps, score_aerials

    true, points = true_components(spec)
    items = set(points)
    cap = landing_cap(items)
    hand = bool(items & set(HAND_ITEMS))
    body = bool(items & set(BODY_ITEMS))
    judges = []
    for judge, z in zip(spec.judges, spec.judge_noise):
        marks = []
        for k, c in enumerate(("air", "form", "landing")):
            marks.append(_mark(true[c] + judge.bias[k] + judge.noise[k] * z[k], COMPONENT_MAX[c]))
        land = apply_landing_caps(marks[2], hand_contact=hand, body_contact=body)
        if cap is not None:
            land = min(land, Decimal(str(cap)))
        judges.append((marks[0], marks[1], land))
    result = score_aerials(judges, Decimal(spec.dd))
    return JumpScores(true=true, judges=tuple(judges), score=result, points=points)
