"""The FineSkiing record of a synthetic jump: stages, judges, final score, deductions, boxes, cuts, skeleton, truth.

Everything comes from the spec and its :class:`~judgemind.synth.camera.JumpView` (motion + cameras), never from
pixels, so an annotation-only run (``render=False``) writes exactly the same records as a rendered one.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from judgemind.data.records import Deduction, JudgeScore, Record
from judgemind.data.skeleton import OCCLUDED, OUT_OF_FRAME, SKELETON_DIR, SKELETON_POINTS, VISIBLE
from judgemind.rules.names import COMPONENTS, STAGES
from judgemind.synth.camera import NEAR, JumpView, athlete_boxes, shot_frames
from judgemind.synth.judging import score_jump
from judgemind.synth.measure import ITEMS
from judgemind.synth.motion import POINTS, P
from judgemind.synth.spec import FAULT_STAGE, GENERATOR_VERSION, JumpSpec

VIDEO_DIR = "videos"
assert POINTS == SKELETON_POINTS


def video_name(spec: JumpSpec) -> str:
    return f"{VIDEO_DIR}/{spec.id}.mp4"


def skeleton_name(spec: JumpSpec) -> str:
    return f"{SKELETON_DIR}/{spec.id}.npy"


_TORSO = [P["l_shoulder"], P["r_shoulder"], P["r_hip"], P["l_hip"]]
_ON_TORSO = set(_TORSO) | {P["neck"], P["pelvis"]}


def skeleton_array(view: JumpView) -> np.ndarray:
    """(T, 19, 6) float32: u, v (pixels), visibility (0 out of the picture, 1 hidden behind the torso, 2 visible)
    and x, y, z (world metres) of every point of ``POINTS`` in every frame, exactly as drawn."""
    uv, depth, size = view.uv, view.depth, view.size
    inside = (depth > NEAR) & np.isfinite(uv).all(-1)
    u, v = np.nan_to_num(uv[..., 0], nan=-1.0), np.nan_to_num(uv[..., 1], nan=-1.0)
    inside &= (u >= 0) & (u <= size) & (v >= 0) & (v <= size)
    # hidden: inside the torso's projected quadrilateral and farther from the camera than the torso
    quad = np.nan_to_num(uv[:, _TORSO], nan=0.0)  # (T, 4, 2)
    edge = np.roll(quad, -1, axis=1) - quad  # (T, 4, 2)
    rel = np.nan_to_num(uv, nan=0.0)[:, :, None, :] - quad[:, None]  # (T, N, 4, 2)
    cross = edge[:, None, :, 0] * rel[..., 1] - edge[:, None, :, 1] * rel[..., 0]
    in_quad = (cross > 0).all(-1) | (cross < 0).all(-1)
    behind = depth > depth[:, _TORSO].mean(axis=1, keepdims=True) + 0.05
    hidden = inside & in_quad & behind
    hidden[:, sorted(_ON_TORSO)] = False
    vis = np.where(inside, np.where(hidden, OCCLUDED, VISIBLE), OUT_OF_FRAME)
    uv_out = np.where(inside[..., None], uv, np.where(np.isfinite(uv), uv, np.nan))
    return np.concatenate([uv_out, vis[..., None], view.motion.points], axis=-1).astype(np.float32)


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def build_record(spec: JumpSpec, view: JumpView) -> Record:
    """One ``annotations.jsonl`` record for ``spec`` as seen through ``view``."""
    tl = view.timeline
    scores = score_jump(spec, view.motion)
    stage_order = {s: i for i, s in enumerate(STAGES)}
    deductions = []
    visible = [m for m in scores.measured.values() if m.visible]
    for m in sorted(visible, key=lambda m: (stage_order[FAULT_STAGE[m.item]], m.frames[0], m.item)):
        deductions.append(
            Deduction(
                item=m.item,
                stage=FAULT_STAGE[m.item],
                points=scores.points[m.item],
                frames=m.frames,
                severity=None if m.severity is None else _r(m.severity, 3),
            )
        )
    measured = {
        k: {
            "value": _r(m.value, 3),
            "unit": ITEMS[k].unit,
            "visible": m.visible,
            **({"severity": _r(m.severity, 3)} if m.severity is not None else {}),
        }
        for k, m in sorted(scores.measured.items())
    }
    fl = spec.flight()
    shots = [
        {
            "kind": spec.shots[i].kind,
            "frames": [a, b],
            "position": [_r(v, 2) for v in spec.shots[i].position],
            "athlete_height_frac": _r(spec.shots[i].frac, 3),
        }
        for i, a, b in shot_frames(spec, tl)
    ]
    true = scores.true
    extra = {
        "synthetic": True,
        "generator": f"judgemind.synth SynthAerials v{GENERATOR_VERSION}",
        "index": spec.index,
        "true": {c: _r(true[c]) for c in COMPONENTS} | {"total": _r(sum(true[c] for c in COMPONENTS))},
        "measured": measured,
        "athlete_quality": _r(spec.athlete.quality),
        "execution": _r(spec.execution),
        "takeoff": {
            "speed_mps": _r(spec.speed, 3),
            "ideal_speed_mps": _r(spec.ideal_speed, 3),
            "angle_deg": _r(math.degrees(spec.takeoff_angle), 2),
            "kicker_height_m": spec.kicker_height,
        },
        "flight": {"time_s": _r(spec.flight_time, 3), "apex_m": _r(fl.apex, 2), "landing_x_m": _r(fl.landing_x, 2)},
        "camera": {"shots": shots, "size": view.size, "cuts_mode": spec.cuts},
        "light": spec.scene.light,
    }
    boxes = athlete_boxes(view)
    judges = tuple(JudgeScore(air=a, form=f, landing=l) for a, f, l in scores.judges)
    return Record(
        id=spec.id,
        video=video_name(spec),
        frames=(0, tl.n_frames),
        action_code=spec.code,
        dd=Decimal(spec.dd),
        stages={s: tl.stage_frames(s) for s in STAGES},
        judges=judges,
        final_score=scores.final,
        deductions=tuple(deductions),
        sex=spec.sex,
        event="SynthAerials (synthetic)",
        athlete=spec.athlete.id,
        boxes=boxes,
        cuts=tuple(view.camera.cuts),
        extra=extra,
        skeleton=skeleton_name(spec),
    )
