"""The FineSkiing record of a synthetic jump: stages, judges, final score, deductions, boxes, cuts, truth.

Everything comes from the spec and its :class:`~judgemind.synth.camera.JumpView` (motion + cameras), never from
pixels, so an annotation-only run (``render=False``) writes exactly the same records as a rendered one.
"""

from __future__ import annotations

import math
from decimal import Decimal

from judgemind.data.records import STAGES, Deduction, JudgeScore, Record
from judgemind.synth.camera import JumpView, athlete_boxes, shot_frames
from judgemind.synth.judging import score_jump
from judgemind.synth.spec import GENERATOR_VERSION, JumpSpec

VIDEO_DIR = "videos"


def video_name(spec: JumpSpec) -> str:
    return f"{VIDEO_DIR}/{spec.id}.mp4"


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def build_record(spec: JumpSpec, view: JumpView) -> Record:
    """One ``annotations.jsonl`` record for ``spec`` as seen through ``view``."""
    tl = view.timeline
    scores = score_jump(spec)
    stage_order = {s: i for i, s in enumerate(STAGES)}
    deductions = []
    for f in sorted(spec.faults, key=lambda f: (stage_order[f.stage], tl.fault_frames(f)[0], f.item)):
        deductions.append(Deduction(item=f.item, stage=f.stage, points=scores.points[f.item],
                                    frames=tl.fault_frames(f), severity=_r(f.severity, 3)))
    fl = spec.flight()
    shots = [{"kind": spec.shots[i].kind, "frames": [a, b], "position": [_r(v, 2) for v in spec.shots[i].position],
              "athlete_height_frac": _r(spec.shots[i].frac, 3)}
             for i, a, b in shot_frames(spec, tl)]
    true = scores.true
    extra = {
        "synthetic": True,
        "generator": f"judgemind.synth SynthAerials v{GENERATOR_VERSION}",
        "index": spec.index,
        "true": {"air": _r(true["air"]), "form": _r(true["form"]), "landing": _r(true["landing"]),
                 "total": _r(true["air"] + true["form"] + true["landing"])},
        "athlete_quality": _r(spec.athlete.quality),
        "execution": _r(spec.execution),
        "takeoff": {"speed_mps": _r(spec.speed, 3), "ideal_speed_mps": _r(spec.ideal_speed, 3),
                    "angle_deg": _r(math.degrees(spec.takeoff_angle), 2), "kicker_height_m": spec.kicker_height},
        "flight": {"time_s": _r(spec.flight_time, 3), "apex_m": _r(fl.apex, 2), "landing_x_m": _r(fl.landing_x, 2)},
        "camera": {"shots": shots, "size": view.size},
        "light": spec.scene.light,
    }
    boxes = athlete_boxes(view)
    judges = tuple(JudgeScore(air=a, form=f, landing=l) for a, f, l in scores.judges)
    return Record(
        id=spec.id, video=video_name(spec), frames=(0, tl.n_frames), action_code=spec.code, dd=Decimal(spec.dd),
        stages={"takeoff": tl.stage_frames("takeoff"), "flight": tl.stage_frames("flight"),
                "landing": tl.stage_frames("landing")},
        judges=judges, final_score=scores.final, deductions=tuple(deductions), sex=spec.sex,
        event="SynthAerials (synthetic)", athlete=spec.athlete.id, boxes=boxes, cuts=tuple(view.camera.cuts),
        extra=extra)
