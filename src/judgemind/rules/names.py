"""The names and ranges every part of judgemind shares, defined once: import them, never retype them.

    STAGES          ("takeoff", "flight", "landing")     stage ids, in order (records, models, reports)
    STAGE_LABELS    ("take-off", "flight", "landing")    their display names (default ``dataset.json`` stage_names)
    COMPONENTS      ("air", "form", "landing")           the judges' marks, in order
    COMPONENT_RANGES {component: (Decimal lo, Decimal hi)}  exact mark ranges (0-2.0, 0-5.0, 0-3.0)
    COMPONENT_MAX   {component: float hi}                the top marks as floats, for numeric code (models, metrics)
    SCORING_FORMATS ("aerials5", "aerials7", "diving")   the panels the rules engine scores (``dataset.json`` scoring)
    J_MAX           30.0                                 the top judges' total J of an aerials jump (score <= J x DD)
    DIVING_MAX      10.0                                 the top mark of one diving judge
    DEFAULT_FPS     25.0                                 the frame rate assumed where a video or data set states none

``COMPONENTS`` and ``COMPONENT_RANGES`` live with the marking rules in :mod:`judgemind.rules.scoring`; this module
re-exports them beside the rest so that one import gives every shared name.
"""

from __future__ import annotations

from judgemind.rules.scoring import COMPONENT_RANGES, COMPONENTS, DIVING_RANGE, J_RANGE

__all__ = [
    "STAGES",
    "STAGE_LABELS",
    "COMPONENTS",
    "COMPONENT_RANGES",
    "COMPONENT_MAX",
    "SCORING_FORMATS",
    "J_MAX",
    "DIVING_MAX",
    "DEFAULT_FPS",
]

STAGES: tuple[str, ...] = ("takeoff", "flight", "landing")
STAGE_LABELS: tuple[str, ...] = ("take-off", "flight", "landing")
COMPONENT_MAX: dict[str, float] = {c: float(hi) for c, (_, hi) in COMPONENT_RANGES.items()}
SCORING_FORMATS: tuple[str, ...] = ("aerials5", "aerials7", "diving")
J_MAX: float = float(J_RANGE[1])
DIVING_MAX: float = float(DIVING_RANGE[1])
DEFAULT_FPS: float = 25.0
