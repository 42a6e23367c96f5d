"""Grade bands for Air, Form and Landing marks, and the hard landing caps.

Landing: the 8 official bands of FIS Judging Handbook 2018 rule 6004.3.1.1 (``docs/rules.md``, "Landing bands and
caps"), with the caps "any hand contact: landing max 2.0; any body contact: landing max 1.5" and "no weight on the
skis: 0.0". Air and Form have no official word scale; the bands here are this project's own (``official=False``), so
that reports can say something like "good" for every component. Every tuple is ordered from the best band
(index 0) down to the worst, and the bands of a component are contiguous on the 0.1 grid and cover its range.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from judgemind.errors import JudgemindError
from judgemind.rules.compose import contact_cap
from judgemind.rules.scoring import COMPONENT_RANGES, COMPONENTS, to_decimal

__all__ = [
    "AIR_BANDS",
    "FORM_BANDS",
    "GRADE_BANDS",
    "CONTACT_CAP_ITEMS",
    "LANDING_BANDS",
    "GradeBand",
    "apply_landing_caps",
    "band_index",
    "band_of",
    "landing_band",
    "landing_cap",
]


@dataclass(frozen=True)
class GradeBand:
    """Marks ``lo``..``hi`` (inclusive, 0.1 grid) of one component, with a short name and a judge's description.
    ``official`` is True only for the handbook's landing bands."""

    component: str
    lo: Decimal
    hi: Decimal
    name: str
    description: str
    official: bool

    def contains(self, value) -> bool:
        """``lo <= value <= hi``."""
        v = to_decimal(value, f"{self.component} mark")
        return self.lo <= v <= self.hi

    @property
    def label(self) -> str:
        """``"2.6-2.9"`` or ``"3.0"`` for a one-value band."""
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"

    def to_dict(self) -> dict:
        return {
            "component": self.component,
            "lo": str(self.lo),
            "hi": str(self.hi),
            "name": self.name,
            "description": self.description,
            "official": self.official,
        }


def _bands(component: str, official: bool, rows) -> tuple[GradeBand, ...]:
    return tuple(GradeBand(component, Decimal(lo), Decimal(hi), name, desc, official) for lo, hi, name, desc in rows)


# FIS Judging Handbook 2018, 6004.3.1.1 "Applicable ranges for landing" (paraphrased).
LANDING_BANDS = _bands(
    "landing",
    True,
    [
        ("3.0", "3.0", "excellent", "Excellent landing."),
        ("2.6", "2.9", "good", "Good balance, little compression."),
        (
            "2.1",
            "2.5",
            "slight imbalance",
            "No hand touch; slight imbalance, or hard compression on landing or ski-away.",
        ),
        (
            "1.6",
            "2.0",
            "hand drag / hard compression",
            "No body contact but hand(s) dragging; hard compression with or without moderate imbalance.",
        ),
        (
            "1.1",
            "1.5",
            "light back slap / severe imbalance",
            "Light back slap; severe turn of 45 degrees or more toward the landing hill; turning around on the "
            "hill without falling or touching; severe imbalance.",
        ),
        (
            "0.6",
            "1.0",
            "body contact / hard back slap",
            "Immediate body contact on landing; hard back slap, or punching forward with snow contact and return "
            "to the skis; severe over- or under-rotation.",
        ),
        (
            "0.1",
            "0.5",
            "minimal weight / crash",
            "Minimal weight on the skis; sliding on back or side without returning to the skis; immediate crash.",
        ),
        ("0.0", "0.0", "no weight on skis", "No weight on the skis."),
    ],
)

# Project-defined: Air = take-off (about 1.0) + height and distance (about 1.0), docs/rules.md "Components".
AIR_BANDS = _bands(
    "air",
    False,
    [
        ("1.8", "2.0", "excellent", "Powerful, well-timed take-off and ideal height and distance."),
        ("1.4", "1.7", "good", "Solid take-off with good height; lands in or near the ideal zone."),
        (
            "1.0",
            "1.3",
            "fair",
            "A noticeable take-off fault (weak extension or early set) or somewhat short or long.",
        ),
        ("0.5", "0.9", "weak", "Weak or early take-off and clearly short or long flight."),
        ("0.0", "0.4", "poor", "Very poor take-off; little height, landing on or near the knoll."),
    ],
)

# Project-defined, following the handbook's form-break sizes (minor <= 25 %, medium <= 50 %, major <= 100 % of
# the form points at stake, docs/rules.md "Components").
FORM_BANDS = _bands(
    "form",
    False,
    [
        ("4.6", "5.0", "excellent", "Body in line, legs straight, skis tight and parallel, twists finished on time."),
        ("4.0", "4.5", "good", "Small, brief form breaks in one part of the jump."),
        ("3.3", "3.9", "minor breaks", "Minor form breaks (bent knees, loose skis, arms) or a slightly late twist."),
        ("2.5", "3.2", "medium breaks", "Medium form breaks, or minor breaks through most of the jump."),
        ("1.3", "2.4", "major breaks", "Major form breaks: wrong body shape, loss of axis or badly timed twists."),
        ("0.0", "1.2", "very poor", "Form lost through most of the jump; shape and twists out of control."),
    ],
)

GRADE_BANDS = {"air": AIR_BANDS, "form": FORM_BANDS, "landing": LANDING_BANDS}

# The catalogue item whose ``landing_cap`` is each contact's cap: the catalogue (rules/catalogue_v1.json) is the one
# source of the caps (hand contact 2.0, body contact 1.5, no weight on the skis 0.0).
CONTACT_CAP_ITEMS = {"hand_contact": "hand_drag", "body_contact": "body_contact", "no_weight": "no_weight_on_skis"}


def band_index(component: str, value) -> int:
    """Index in ``GRADE_BANDS[component]`` (0 = best band) of the band holding ``value``.

    A value between two bands' grid points (e.g. an averaged prediction 2.55) belongs to the band below it
    (the band with the largest ``lo <= value``). Out-of-range values raise :class:`JudgemindError`.
    """
    if component not in GRADE_BANDS:
        raise JudgemindError(f"unknown component {component!r}; use one of {', '.join(COMPONENTS)}")
    v = to_decimal(value, f"{component} mark")
    lo, hi = COMPONENT_RANGES[component]
    if not lo <= v <= hi:
        raise JudgemindError(f"{component} {v} is outside {lo:.1f}-{hi:.1f}; no grade band holds it")
    bands = GRADE_BANDS[component]
    for i, band in enumerate(bands):  # best first, so the first band with lo <= v is the one below v
        if band.lo <= v:
            return i
    raise AssertionError("bands do not cover the range")  # pragma: no cover - guarded by tests


def band_of(component: str, value) -> GradeBand:
    """The :class:`GradeBand` of ``component`` that holds ``value`` (see :func:`band_index`)."""
    return GRADE_BANDS[component][band_index(component, value)]


def landing_band(value) -> GradeBand:
    """The official landing band of a landing mark, e.g. ``landing_band("1.8").name`` is
    ``"hand drag / hard compression"``."""
    return band_of("landing", value)


def landing_cap(hand_contact: bool = False, body_contact: bool = False, no_weight: bool = False) -> Decimal | None:
    """Highest landing mark allowed: hand contact -> 2.0, body contact -> 1.5, no weight on the skis -> 0.0
    (the catalogue's caps of ``CONTACT_CAP_ITEMS``; the strongest that applies wins); ``None`` when no cap applies."""
    flags = {"hand_contact": hand_contact, "body_contact": body_contact, "no_weight": no_weight}
    return contact_cap(item for flag, item in CONTACT_CAP_ITEMS.items() if flags[flag])


def apply_landing_caps(
    value, hand_contact: bool = False, body_contact: bool = False, no_weight: bool = False
) -> Decimal:
    """``value`` lowered to the cap of :func:`landing_cap` where one applies (a lower value is kept)."""
    v = to_decimal(value, "landing mark")
    cap = landing_cap(hand_contact=hand_contact, body_contact=body_contact, no_weight=no_weight)
    return v if cap is None or v <= cap else cap
