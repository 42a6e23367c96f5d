"""The one composer: a model's prediction of one jump -> the official score the rules give it.

Every command that reports a score goes through :func:`compose_official` (``judgemind evaluate``, ``predict``,
``bench``, ``score`` and the calibration of a run), so one video gets one official score whichever command asks.

* ``aerials5`` with predicted Air/Form/Landing: one consensus judge whose marks are the predictions on the judges'
  grid (:func:`to_mark`: clipped to the component's range, rounded half-up to 0.1), given five times ->
  :func:`judgemind.rules.score_aerials` (J = 3 x the judge's total, score = J x DD truncated to 2 decimals).
* ``aerials7`` (the old 7-judge split format) with predicted components: five Air+Form judges marking
  ``min(air + form, 7.0)`` and two landing judges marking ``landing`` ->
  :func:`judgemind.rules.score_aerials_legacy`.
* otherwise (``diving``, or a model without components): the model's own score, clipped at 0, rounded half-up to
  2 decimals for diving (as the diving results are) and truncated to 2 decimals for aerials.

**Landing caps and predicted contact (one decision for every command):** a *predicted* landing contact (the
deduction head's probability of hand drag, back slap, body contact, crash, no weight on the skis) never caps the
landing mark. The landing component is trained on the panel's landing marks, which already carry the caps the
judges applied, so capping again from a probability would count the same fault twice and make the score jump at
an arbitrary probability threshold. ``contact`` is only for contact that is *known* (annotated, or asserted by a
user); then the lowest ``landing_cap`` of the named catalogue items caps the consensus landing mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

from judgemind.errors import JudgemindError
from judgemind.rules.catalogue import load_catalogue
from judgemind.rules.names import J_MAX, SCORING_FORMATS
from judgemind.rules.scoring import (
    COMPONENT_RANGES,
    COMPONENTS,
    LEGACY_AIR_FORM_RANGE,
    MARK_STEP,
    round_half_up2,
    score_aerials,
    score_aerials_legacy,
    truncate2,
)


@dataclass(frozen=True)
class OfficialScore:
    """What :func:`compose_official` returns.

    ``score``: the official score; ``source``: ``"components"`` (composed from the consensus judge's marks) or
    ``"score"`` (the model's own score); ``marks``: the consensus judge's Air/Form/Landing (after a known-contact
    cap), None for ``source == "score"``; ``J``: the judges' total (None for ``source == "score"``); ``raw``:
    J x DD before truncation, or the clipped model score; ``uncapped_landing``: the landing mark before a
    known-contact cap lowered it (None when no cap changed it)."""

    score: Decimal
    scoring: str
    source: str
    raw: Decimal
    J: Decimal | None = None
    marks: dict[str, Decimal] | None = None
    uncapped_landing: Decimal | None = None


def to_mark(value: float, component: str) -> Decimal:
    """A predicted component on the judges' grid: clipped to its range, rounded half-up to 0.1."""
    lo, hi = COMPONENT_RANGES[component]
    v = Decimal(repr(min(max(float(value), float(lo)), float(hi))))
    return v.quantize(MARK_STEP, rounding=ROUND_HALF_UP)


def official_score_max(scoring: str, dd):
    """The highest official score of a jump (or an array of jumps) of difficulty ``dd`` under ``scoring``:
    ``J_MAX x DD`` for aerials, None (no ceiling used) for diving."""
    return J_MAX * dd if scoring.startswith("aerials") else None


def contact_cap(items: Iterable[str]) -> Decimal | None:
    """The lowest ``landing_cap`` of the deduction-catalogue items ``items`` (None when none of them caps)."""

    cat = load_catalogue()
    caps = [cap for cap in (cat.get(item).landing_cap for item in items) if cap is not None]  # unknown id: error
    return min(caps) if caps else None


def compose_official(
    model_score: float, dd, scoring: str, components: Sequence[float] | None = None, contact: Iterable[str] = ()
) -> OfficialScore:
    """The official score of one jump from a model's prediction (see the module docstring for the rules and the
    landing-cap decision).

    ``model_score``: the model's continuous score; ``dd``: the degree of difficulty (Decimal or string);
    ``scoring``: ``aerials5`` | ``aerials7`` | ``diving``; ``components``: predicted (air, form, landing) or None;
    they are used only when all three are finite and the format is an aerials one; ``contact``: catalogue ids of
    landing contact known to have happened (never predicted contact)."""
    if scoring not in SCORING_FORMATS:
        raise JudgemindError(f"unknown scoring {scoring!r}; use one of {', '.join(SCORING_FORMATS)}")
    dd = Decimal(str(dd))
    comps = None if components is None else [float(c) for c in components]
    if comps is not None and scoring.startswith("aerials") and len(comps) == 3 and all(map(math.isfinite, comps)):
        marks = {c: to_mark(v, c) for c, v in zip(COMPONENTS, comps)}
        cap = contact_cap(contact)
        uncapped = None
        if cap is not None and marks["landing"] > cap:
            uncapped, marks["landing"] = marks["landing"], cap
        if scoring == "aerials5":
            sc = score_aerials([(marks["air"], marks["form"], marks["landing"])] * 5, dd)
        else:
            af = min(marks["air"] + marks["form"], LEGACY_AIR_FORM_RANGE[1])
            sc = score_aerials_legacy([af] * 5, [marks["landing"]] * 2, dd)
        return OfficialScore(sc.score, scoring, "components", sc.raw, sc.J, marks, uncapped)
    raw = Decimal(repr(max(float(model_score), 0.0)))
    return OfficialScore(round_half_up2(raw) if scoring == "diving" else truncate2(raw), scoring, "score", raw)


def explain_official(scoring: str, source: str) -> str:
    """One sentence for a result sheet: how :func:`compose_official` made the score (``source`` as in
    :class:`OfficialScore`)."""
    if source == "components" and scoring == "aerials5":
        how = (
            "that of one consensus judge given five times: the predicted Air, Form and Landing rounded to 0.1, "
            "J = 3 x total, J x DD truncated to 2 decimals"
        )
    elif source == "components" and scoring == "aerials7":
        how = (
            "the old 7-judge format: five Air+Form judges marking the predicted Air + Form (at most 7.0) and two "
            "landing judges marking the predicted Landing, each rounded to 0.1; J = the 3 middle Air+Form marks + "
            "3 x the landing average, J x DD truncated to 2 decimals"
        )
    elif scoring == "diving":
        how = "the model's score rounded half-up to 2 decimals, as diving scores are published"
    else:
        how = "the model's score truncated to 2 decimals"
    return (
        f"The score is {how}; predicted landing contact does not cap the landing mark (`judgemind evaluate` "
        f"composes its scores the same way)."
    )
