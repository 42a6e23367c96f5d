"""From what the camera shows to the panel's marks: true components, five judges, the final score.

SynthAerials v2: every point given or taken is caused by something drawn (docs/synth.md, "Scores"). Each item's
quantity is measured on the jump's motion (:mod:`judgemind.synth.measure`); below its visibility threshold it costs
nothing.

True (noise-free) components, the annotation's ``extra.true``:

    component = its maximum (air 2.0, form 5.0, landing 3.0) - the points of its visible items

clipped at 0, the landing capped (hand contact 2.0, body contact 1.5, no weight on the skis 0.0: each item's
catalogue cap). An item's points = catalogue min + (q - q0) / (q1 - q0) x (max - min) on the 0.1 grid.

Judge j perceives each drawn item at ``q + sigma_item x z_j,item`` (``spec.perception``) and takes the points of
that, then adds their own bias and a small mark noise (``spec.judge_noise``), rounds to 0.1, clips into the
component's range and applies the caps. The athlete's skill changes how often faults happen (``spec.jump_risk``)
but gives or takes no point by itself. The final score is ``judgemind.rules.score_aerials``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from judgemind.rules import score_aerials
from judgemind.rules.compose import contact_cap
from judgemind.rules.names import COMPONENT_MAX, COMPONENTS, DEFAULT_FPS
from judgemind.rules.scoring import MARK_STEP
from judgemind.synth.measure import ITEMS, catalogue, measure, points_decimal, points_for
from judgemind.synth.motion import compute_motion
from judgemind.synth.spec import SYNTH_ITEMS, JumpSpec

_ITEM_INDEX = {k: i for i, k in enumerate(SYNTH_ITEMS)}


@dataclass(frozen=True)
class JumpScores:
    """``true``: noise-free components (floats); ``judges``: 5 x (air, form, landing) Decimal marks;
    ``score``: the rules engine's result (``.score`` truncated, ``.J``); ``points``: visible item -> Decimal
    points; ``measured``: item -> :class:`~judgemind.synth.measure.Measured` (visible or not)."""

    true: dict
    judges: tuple
    score: object
    points: dict
    measured: dict

    @property
    def final(self) -> Decimal:
        return self.score.score


def _motion(spec: JumpSpec, motion, fps: float):
    if motion is not None:
        return motion

    return compute_motion(spec, fps)


def true_components(spec: JumpSpec, motion=None, fps: float = DEFAULT_FPS) -> tuple[dict, dict, dict]:
    """(components, points per visible item, measurements) of ``spec`` without judge noise. ``motion``: the
    jump's motion at the data set's frame rate (computed at ``fps`` when not given)."""

    measured = measure(spec, _motion(spec, motion, fps))
    points = {k: points_decimal(k, m.value) for k, m in measured.items() if m.visible}
    comp = {}
    for c, top in COMPONENT_MAX.items():
        v = top - float(sum((p for i, p in points.items() if catalogue().get(i).component == c), Decimal(0)))
        comp[c] = max(0.0, v)
    cap = contact_cap(points)
    if cap is not None:
        comp["landing"] = min(comp["landing"], float(cap))
    return {c: round(v, 4) for c, v in comp.items()}, points, measured


def _mark(value: float, hi: float) -> Decimal:
    tenths = math.floor(value * 10.0 + 0.5)
    return Decimal(min(max(tenths, 0), int(round(hi * 10)))) * MARK_STEP


def score_jump(spec: JumpSpec, motion=None, fps: float = DEFAULT_FPS) -> JumpScores:

    true, points, measured = true_components(spec, motion, fps)
    cap = contact_cap(points)  # the catalogue's landing caps (hand drag 2.0, body contact 1.5, no weight 0.0)
    judges = []
    for j, (judge, z) in enumerate(zip(spec.judges, spec.judge_noise)):
        seen = {c: 0.0 for c in COMPONENT_MAX}
        for item, m in measured.items():
            zi = spec.perception[j][_ITEM_INDEX[item]] if spec.perception else 0.0
            seen[catalogue().get(item).component] += points_for(item, max(0.0, m.value + ITEMS[item].sigma * zi))
        marks = [
            _mark(COMPONENT_MAX[c] - seen[c] + judge.bias[k] + judge.noise[k] * z[k], COMPONENT_MAX[c])
            for k, c in enumerate(COMPONENTS)
        ]
        judges.append((marks[0], marks[1], marks[2] if cap is None else min(marks[2], cap)))
    result = score_aerials(judges, Decimal(spec.dd))
    return JumpScores(true=true, judges=tuple(judges), score=result, points=points, measured=measured)
