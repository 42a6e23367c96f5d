"""SynthAerials: a procedural generator of freestyle-skiing aerials jumps, rendered to real video files with exact
FineSkiing annotations. It is the demo's data, the tests' data and a test bed for every model; it is not real
footage (see docs/synth.md).

    from judgemind.synth import generate, sample_spec, render_jump
    generate("data/synth", n=300, seed=0)                  # dataset folder: videos, annotations, splits
    spec = sample_spec(seed=0, index=3)                     # every random choice of jump 3
    for frame in render_jump(spec, size=128, fps=25): ...   # BGR uint8 frames, one at a time

Modules: ``spec`` (sampling a jump), ``course`` (site and ballistics), ``motion`` (skeleton per frame),
``camera`` (shots, cuts, projection), ``render`` (drawing), ``measure`` (what the camera shows of each fault),
``judging`` (true marks and the panel),
``annotate`` (the record), ``writer`` (encoding, resume, assembly), ``preview`` (contact sheet),
``stats`` (score distribution report).
"""

from judgemind.synth.annotate import build_record
from judgemind.synth.camera import JumpView, athlete_boxes, view_jump
from judgemind.synth.judging import JumpScores, score_jump, true_components
from judgemind.synth.measure import ITEMS, Measured, measure, points_for
from judgemind.synth.motion import JOINTS, POINTS, Motion, compute_motion
from judgemind.synth.preview import write_preview
from judgemind.synth.render import render_frames, render_jump
from judgemind.synth.spec import Fault, JumpSpec, SynthSettings, Timeline, sample_spec, timeline
from judgemind.synth.writer import encode_video, generate, make_jump, split_ids

__all__ = [
    "generate",
    "make_jump",
    "encode_video",
    "split_ids",
    "sample_spec",
    "JumpSpec",
    "Fault",
    "SynthSettings",
    "Timeline",
    "timeline",
    "compute_motion",
    "Motion",
    "JOINTS",
    "POINTS",
    "view_jump",
    "JumpView",
    "athlete_boxes",
    "render_jump",
    "render_frames",
    "build_record",
    "score_jump",
    "true_components",
    "points_for",
    "measure",
    "Measured",
    "ITEMS",
    "JumpScores",
    "write_preview",
]
