"""Score formulas with exact decimals: the current 5-judge aerials format, the old 7-judge split format, diving.

Every mark goes through :func:`to_decimal` (floats via their shortest repr, so ``0.1`` is ``Decimal("0.1")``),
so sums and products are exact. Aerials scores are truncated to 2 decimals (FIS rule 3045.3.1; six published
results fit it, two of them only it, see ``docs/rules.md``, "Aerials, current format"); diving scores are rounded
half-up to 2 decimals (the usual way diving results are published; FineDiving's stored scores carry at most 2
decimals).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction

from judgemind.errors import JudgemindError

__all__ = [
    "COMPONENTS",
    "COMPONENT_RANGES",
    "J_RANGE",
    "MARK_STEP",
    "AerialsScore",
    "DivingScore",
    "JudgeMarks",
    "check_mark",
    "final_score_matches",
    "round_half_up2",
    "score_aerials",
    "score_aerials_legacy",
    "score_diving",
    "to_decimal",
    "truncate2",
]

COMPONENTS = ("air", "form", "landing")
COMPONENT_RANGES = {
    "air": (Decimal("0"), Decimal("2.0")),
    "form": (Decimal("0"), Decimal("5.0")),
    "landing": (Decimal("0"), Decimal("3.0")),
}
MARK_STEP = Decimal("0.1")

AERIALS_JUDGES = 5
LEGACY_AIR_FORM_JUDGES = 5
LEGACY_LANDING_JUDGES = 2
LEGACY_AIR_FORM_RANGE = (Decimal("0"), Decimal("7.0"))
AERIALS_COUNTED_JUDGES = 3  # of the 5 judges' totals: the highest and the lowest are dropped
# J, the judges' total: 3 x (2.0 + 5.0 + 3.0) = 30.0 in the 5-judge format, 21.0 + 9.0 = 30.0 in the old one
J_RANGE = (Decimal("0"), AERIALS_COUNTED_JUDGES * sum(hi for _, hi in COMPONENT_RANGES.values()))
DIVING_RANGE = (Decimal("0"), Decimal("10.0"))
DIVING_STEP = Decimal("0.5")
SYNCHRO_FACTOR = Decimal("0.6")
_HALF_CENT = Decimal("0.005")


# --------------------------------------------------------------------------------------------------------------
# numbers


def to_decimal(x, what: str = "value") -> Decimal:
    """Convert a mark, DD or score to an exact, finite ``Decimal``.

    ``float`` goes through ``repr`` (``0.1`` -> ``Decimal("0.1")``, not the binary expansion); ``str`` is parsed
    as written (surrounding spaces allowed); ``int``/``Fraction`` with a finite decimal expansion are exact.
    NaN, infinity, booleans and other types raise :class:`JudgemindError` naming ``what``.
    """
    if isinstance(x, bool):
        raise JudgemindError(f"{what} must be a number, got the boolean {x!r}")
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, int):
        d = Decimal(x)
    elif isinstance(x, float):
        if not math.isfinite(x):
            raise JudgemindError(f"{what} must be a finite number, got {x!r}")
        d = Decimal(repr(x))
    elif isinstance(x, Fraction):
        d = _fraction_to_decimal(x, what)
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise JudgemindError(f"{what} {x!r} is not a number") from None
    else:
        # numpy scalars and the like: accept anything that is a real number with a float() value.
        try:
            f = float(x)
        except (TypeError, ValueError):
            raise JudgemindError(f"{what} must be a number, got {type(x).__name__} {x!r}") from None
        return to_decimal(f, what)
    if not d.is_finite():
        raise JudgemindError(f"{what} must be a finite number, got {x!r}")
    return d


def _fraction_to_decimal(q: Fraction, what: str) -> Decimal:
    den = q.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        raise JudgemindError(f"{what} {q} has no exact decimal form")
    digits = max(twos, fives)
    scaled = q.numerator * 10**digits // q.denominator
    return Decimal(f"{scaled}e-{digits}")


def _exact(op, *args) -> Decimal:
    """Run ``op`` with enough precision that sums/products of marks and DDs are never rounded."""
    with localcontext() as ctx:
        ctx.prec = 100
        return op(*args)


def _from_cents(cents: int) -> Decimal:
    return Decimal(f"{cents}e-2")


def truncate2(x) -> Decimal:
    """Round toward zero to 0.01, exactly (FIS rule 3045.3.1: published aerials scores are truncated).

    Works on the exact rational value with integers: ``cents = trunc(num * 100 / den)``; e.g.
    ``truncate2(Decimal("118.1475")) == Decimal("118.14")``, ``truncate2(Decimal("-1.239")) == Decimal("-1.23")``.
    """
    d = to_decimal(x)
    num, den = d.as_integer_ratio()
    cents = abs(num) * 100 // den
    return _from_cents(-cents if num < 0 else cents)


def round_half_up2(x) -> Decimal:
    """Round to 0.01 with ties away from zero (how diving scores are published), exactly."""
    d = to_decimal(x)
    num, den = d.as_integer_ratio()
    cents = (abs(num) * 200 + den) // (2 * den)
    return _from_cents(-cents if num < 0 else cents)


def _fmt_range(lo: Decimal, hi: Decimal) -> str:
    return f"{lo:.1f}-{hi:.1f}"


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    return _exact(lambda: value % step) == 0


def _check_value(label: str, value, lo: Decimal, hi: Decimal, step: Decimal) -> str | None:
    try:
        v = to_decimal(value, label)
    except JudgemindError as exc:
        return str(exc)
    if not lo <= v <= hi:
        return f"{label} {v} is outside {_fmt_range(lo, hi)}"
    if not _is_multiple(v, step):
        return f"{label} {v} is not a multiple of {step}"
    return None


def check_mark(component: str, value) -> str | None:
    """Problem text if ``value`` is not a valid mark for ``component`` (air 0-2.0, form 0-5.0, landing 0-3.0, in
    0.1 steps), else ``None``. Examples: ``"air 2.3 is outside 0.0-2.0"``, ``"form 4.25 is not a multiple of 0.1"``.
    """
    if component not in COMPONENT_RANGES:
        raise JudgemindError(f"unknown component {component!r}; use one of {', '.join(COMPONENTS)}")
    lo, hi = COMPONENT_RANGES[component]
    return _check_value(component, value, lo, hi, MARK_STEP)


# --------------------------------------------------------------------------------------------------------------
# current format: 5 judges, each Air + Form + Landing


@dataclass(frozen=True)
class JudgeMarks:
    """One judge's Air, Form and Landing marks (converted to ``Decimal`` on construction; not range-checked:
    call :meth:`problems`)."""

    air: Decimal
    form: Decimal
    landing: Decimal

    def __post_init__(self):
        for name in COMPONENTS:
            object.__setattr__(self, name, to_decimal(getattr(self, name), name))

    @classmethod
    def of(cls, air, form, landing) -> "JudgeMarks":
        return cls(to_decimal(air, "air"), to_decimal(form, "form"), to_decimal(landing, "landing"))

    @classmethod
    def coerce(cls, judge, where: str = "judge") -> "JudgeMarks":
        """Accept a ``JudgeMarks``, an ``(air, form, landing)`` sequence or a ``{"air", "form", "landing"}``
        mapping (other keys are ignored). Errors name ``where``."""
        if isinstance(judge, JudgeMarks):
            return judge
        if isinstance(judge, Mapping):
            missing = [c for c in COMPONENTS if c not in judge]
            if missing:
                raise JudgemindError(f"{where}: missing {', '.join(missing)} (need keys air, form, landing)")
            return cls(*(to_decimal(judge[c], f"{where} {c}") for c in COMPONENTS))
        if isinstance(judge, Sequence) and not isinstance(judge, (str, bytes)):
            if len(judge) != 3:
                raise JudgemindError(f"{where}: need 3 marks (air, form, landing), got {len(judge)}")
            return cls(*(to_decimal(v, f"{where} {c}") for c, v in zip(COMPONENTS, judge)))
        raise JudgemindError(
            f"{where}: expected JudgeMarks, (air, form, landing) or a dict with those keys, got {judge!r}"
        )

    @property
    def total(self) -> Decimal:
        return _exact(lambda: self.air + self.form + self.landing)

    def problems(self) -> list[str]:
        """Every out-of-range or off-grid mark, e.g. ``["air 2.3 is outside 0.0-2.0"]``."""
        out = []
        for name in COMPONENTS:
            p = check_mark(name, getattr(self, name))
            if p:
                out.append(p)
        return out

    def to_dict(self) -> dict:
        return {"air": str(self.air), "form": str(self.form), "landing": str(self.landing)}


@dataclass(frozen=True)
class AerialsScore:
    """Result of an aerials calculation.

    ``judge_totals`` are the per-judge totals (legacy format: the 5 Air+Form marks); ``counted`` (ascending) and
    ``dropped`` (the lowest, then the highest) are 0-based indices into it; ``J`` the judges' total (0-30);
    ``raw = J * dd`` exactly; ``score = truncate2(raw)``.
    ``format`` is ``"aerials5"`` or ``"aerials7"`` (as in ``dataset.json`` ``scoring``). For the legacy format
    ``landing_marks`` holds the 2 landing judges' marks and ``landing_score`` their average x 3.
    """

    judge_totals: tuple[Decimal, ...]
    counted: tuple[int, ...]
    dropped: tuple[int, ...]
    J: Decimal
    dd: Decimal
    raw: Decimal
    score: Decimal
    format: str
    landing_marks: tuple[Decimal, ...] = field(default=())
    landing_score: Decimal | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict; Decimals as strings."""
        d = {
            "format": self.format,
            "judge_totals": [str(t) for t in self.judge_totals],
            "counted": list(self.counted),
            "dropped": list(self.dropped),
            "J": str(self.J),
            "dd": str(self.dd),
            "raw": str(self.raw),
            "score": str(self.score),
        }
        if self.format == "aerials7":
            d["landing_marks"] = [str(m) for m in self.landing_marks]
            d["landing_score"] = None if self.landing_score is None else str(self.landing_score)
        return d


def _check_dd(dd) -> Decimal:
    d = to_decimal(dd, "DD")
    if d <= 0:
        raise JudgemindError(f"DD must be positive, got {d}")
    return d


def _drop_high_low(values: Sequence[Decimal], n_each: int = 1) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indices kept and dropped when the ``n_each`` lowest and highest values are discarded.

    Ties: values are sorted stably by value, so among equal lowest values the earliest judge is dropped and among
    equal highest values the latest judge is dropped (either choice gives the same sum).
    """
    order = sorted(range(len(values)), key=lambda i: values[i])
    dropped = order[:n_each] + order[len(order) - n_each :]
    counted = tuple(sorted(order[n_each : len(order) - n_each]))
    return counted, tuple(dropped)


def _raise_problems(what: str, problems: list[str]) -> None:
    if problems:
        raise JudgemindError(f"{what}: " + "; ".join(problems))


def score_aerials(judges: Sequence, dd) -> AerialsScore:
    """Current FIS format: 5 judges each give Air + Form + Landing; drop the highest and the lowest judge *total*
    (ties: drop one), add the other three (J, max 30.0); score = truncate2(J x DD).

    ``judges``: 5 items, each ``JudgeMarks``, ``(air, form, landing)`` or ``{"air", "form", "landing"}``.
    Raises :class:`JudgemindError` naming the judge (number and 0-based index) and component of every bad mark,
    e.g. ``"bad judge marks: judge 1 of 5 (index 0): air 2.3 is outside 0.0-2.0"``.
    """
    if isinstance(judges, (str, bytes, Mapping)) or not isinstance(judges, Sequence):
        raise JudgemindError(f"judges must be a list of {AERIALS_JUDGES} judges' marks, got {type(judges).__name__}")
    if len(judges) != AERIALS_JUDGES:
        hint = "; for the old 7-judge split format use score_aerials_legacy (CLI: --legacy)" if len(judges) == 7 else ""
        raise JudgemindError(f"the 5-judge aerials format needs exactly 5 judges, got {len(judges)}{hint}")
    marks, problems = [], []
    for i, j in enumerate(judges):
        where = f"judge {i + 1} of {len(judges)} (index {i})"
        try:
            m = JudgeMarks.coerce(j, where)
        except JudgemindError as exc:
            problems.append(str(exc))
            continue
        problems += [f"{where}: {p}" for p in m.problems()]
        marks.append(m)
    _raise_problems("bad judge marks", problems)
    dd_ = _check_dd(dd)
    totals = tuple(m.total for m in marks)
    counted, dropped = _drop_high_low(totals)
    J = _exact(lambda: sum((totals[i] for i in counted), Decimal(0)))
    raw = _exact(lambda: J * dd_)
    return AerialsScore(totals, counted, dropped, J, dd_, raw, truncate2(raw), "aerials5")


def score_aerials_legacy(air_form: Sequence, landing: Sequence, dd) -> AerialsScore:
    """Old FIS split format (7 judges, until about 2012-2014): 5 judges mark Air+Form together on 0-7.0 (drop the
    highest and lowest, add 3: max 21.0); 2 judges mark Landing on 0-3.0 (average x 3: max 9.0).
    J = sum + landing mark; score = truncate2(J x DD). Marks are in 0.1 steps.
    """
    air_form = _as_list(air_form, "air_form")
    landing = _as_list(landing, "landing")
    problems = []
    if len(air_form) != LEGACY_AIR_FORM_JUDGES:
        problems.append(f"need {LEGACY_AIR_FORM_JUDGES} air+form marks, got {len(air_form)}")
    if len(landing) != LEGACY_LANDING_JUDGES:
        problems.append(f"need {LEGACY_LANDING_JUDGES} landing marks, got {len(landing)}")
    _raise_problems("bad legacy (7-judge) marks", problems)
    problems = _check_all("air+form", air_form, LEGACY_AIR_FORM_RANGE, MARK_STEP)
    problems += _check_all("landing", landing, COMPONENT_RANGES["landing"], MARK_STEP)
    _raise_problems("bad legacy (7-judge) marks", problems)
    dd_ = _check_dd(dd)
    af = tuple(to_decimal(v) for v in air_form)
    lm = tuple(to_decimal(v) for v in landing)
    counted, dropped = _drop_high_low(af)
    af_sum = _exact(lambda: sum((af[i] for i in counted), Decimal(0)))
    landing_score = _exact(lambda: sum(lm, Decimal(0)) * 3 / LEGACY_LANDING_JUDGES)
    J = _exact(lambda: af_sum + landing_score)
    raw = _exact(lambda: J * dd_)
    return AerialsScore(af, counted, dropped, J, dd_, raw, truncate2(raw), "aerials7", lm, landing_score)


def _check_all(what: str, values: list, bounds: tuple[Decimal, Decimal], step: Decimal) -> list[str]:
    """Problems of a list of single marks, each naming the judge (number and 0-based index)."""
    out = []
    for i, v in enumerate(values):
        p = _check_value(what, v, bounds[0], bounds[1], step)
        if p:
            out.append(f"{what} judge {i + 1} of {len(values)} (index {i}): {p}")
    return out


def _as_list(values, what: str) -> list:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise JudgemindError(f"{what} must be a list of marks, got {type(values).__name__}")
    return list(values)


# --------------------------------------------------------------------------------------------------------------
# diving (FineDiving / MTL-AQA)


@dataclass(frozen=True)
class DivingScore:
    """Result of a diving calculation. ``J`` is the counted judges' sum (synchro: 0.6 x the sum of 5), so that
    always ``raw = J * dd`` exactly; ``score`` is ``raw`` rounded half-up to 0.01. ``format`` is one of
    ``"diving7"``, ``"diving5"``, ``"diving3"``, ``"synchro5"``; ``counted``/``dropped`` are 0-based indices."""

    J: Decimal
    dd: Decimal
    raw: Decimal
    score: Decimal
    format: str
    counted: tuple[int, ...] = ()
    dropped: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "counted": list(self.counted),
            "dropped": list(self.dropped),
            "J": str(self.J),
            "dd": str(self.dd),
            "raw": str(self.raw),
            "score": str(self.score),
        }


def score_diving(judge_scores: Sequence, dd, synchro: bool = False) -> DivingScore:
    """Diving score from judges' marks (0-10 in 0.5 steps), the way FineDiving's ground truth is built.

    - 7 marks: drop the 2 highest and 2 lowest, add 3, x DD;
    - 5 marks, individual: drop the highest and lowest, add 3, x DD;
    - 5 marks with ``synchro=True`` (FineDiving's synchronised events): 0.6 x DD x sum of all 5;
    - 3 marks: they are already the counted marks: sum x DD.
    The score is rounded half-up to 2 decimals (not truncated as in aerials).
    """
    scores = _as_list(judge_scores, "judge_scores")
    n = len(scores)
    if synchro and n != 5:
        raise JudgemindError(f"synchro diving needs 5 judge marks (FineDiving's synchronised events), got {n}")
    if n not in (3, 5, 7):
        raise JudgemindError(f"diving needs 7, 5 or 3 judge marks, got {n}")
    _raise_problems("bad diving marks", _check_all("score", scores, DIVING_RANGE, DIVING_STEP))
    dd_ = _check_dd(dd)
    vals = tuple(to_decimal(v) for v in scores)
    if synchro:
        counted, dropped, fmt = tuple(range(5)), (), "synchro5"
        J = _exact(lambda: sum(vals, Decimal(0)) * SYNCHRO_FACTOR)
    else:
        if n == 3:
            counted, dropped = (0, 1, 2), ()
        else:
            counted, dropped = _drop_high_low(vals, 2 if n == 7 else 1)
        fmt = f"diving{n}"
        J = _exact(lambda: sum((vals[i] for i in counted), Decimal(0)))
    raw = _exact(lambda: J * dd_)
    return DivingScore(J, dd_, raw, round_half_up2(raw), fmt, counted, dropped)


def final_score_matches(expected, computed) -> bool:
    """True when two final scores agree to 0.01 (|difference| < 0.005: a stored float such as ``95.52`` or
    ``95.52000000001`` matches ``Decimal("95.52")``; ``95.53`` does not)."""
    e = to_decimal(expected, "expected score")
    c = to_decimal(computed, "computed score")
    return _exact(lambda: abs(e - c)) < _HALF_CENT
