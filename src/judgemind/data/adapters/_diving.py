"""What the diving adapters share: number conversion, judge-mark repair, the score check against the rules engine,
reproduction statistics, and the deterministic validation split."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from judgemind.data.records import JudgeScore, Record
from judgemind.data.safe_pickle import safe_load_pickle
from judgemind.errors import JudgemindError
from judgemind.rules import round_half_up2, score_diving, to_decimal
from judgemind.rules.names import STAGE_LABELS
from judgemind.rules.scoring import DIVING_STEP, SYNCHRO_FACTOR

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
# Some published scores are off in their last digit (80.85 -> 80.8, 34.65 -> 34.7, 85.75 -> 85.78).
LAST_DIGIT = Decimal("0.05")
MAX_JUDGE_SHIFT = Decimal("1.0")  # "judges": the counted marks' sum is off by a half or a whole point
VAL_FRACTION = 0.2
VAL_SEED = 0
# display names of the stages of a dive (the third, stored as "landing", is the entry)
STAGE_NAMES = (*STAGE_LABELS[:2], "entry")

# Score-check categories, most to least benign (the order of the statistics table).
CHECKS = ("exact", "rounded", "dd", "judges", "invalid_mark", "other")
CHECK_TEXT = {
    "exact": "reproduced to the cent",
    "rounded": "off by 0.05 or less (the published score was rounded or mistyped in its last digit)",
    "dd": "the score fits another DD (annotated DD differs from the one used for the score)",
    "judges": "the score fits counted marks summing to 0.5 or 1.0 more or less than the judges' marks",
    "invalid_mark": "a judge mark is not a valid diving mark (typo); repaired, see extra.judge_scores_raw",
    "other": "no simple explanation",
}
REPRODUCED = ("exact", "rounded")


def dec(x: Any, what: str) -> Decimal:
    """Exact decimal of a stored number (a float via its shortest repr: ``66.0`` -> ``66.0``, ``4.425``)."""

    try:
        return to_decimal(float(x) if not isinstance(x, (int, Decimal, str)) else x, what)
    except (TypeError, ValueError) as e:
        raise JudgemindError(f"{what}: expected a number, got {x!r}") from e


@contextlib.contextmanager
def sample_fields(where: str):
    """Turn the errors of reading one pickled sample with fields of the wrong type or size (a list where a number
    belongs, a number with a huge exponent, ...) into a :class:`JudgemindError` naming the sample. Pickles hold
    plain data only (the safe unpickler), so these are the only ways a sample can be malformed."""
    try:
        yield
    except JudgemindError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError) as e:
        raise JudgemindError(
            f"{where}: a field has the wrong type or an impossible value ({type(e).__name__}: {str(e)[:120]})"
        ) from None


def repair_marks(raw: Sequence[Decimal]) -> tuple[list[Decimal], str | None]:
    """Valid diving marks (0-10 in half points) from annotated ones, and a note when some had to be repaired.

    A mark above 10 lost its decimal point (``45.0`` -> ``4.5``); a mark off the half-point grid is rounded to the
    nearest half point (``8.9`` -> ``9.0``). The published final score is never changed.
    """
    out, notes = [], []
    for i, v in enumerate(raw):
        w = v
        if w > 10:
            w = w / 10
        if w % DIVING_STEP:
            w = (w / DIVING_STEP).to_integral_value() * DIVING_STEP
        w = min(max(w, Decimal(0)), Decimal(10))
        if w != v:
            notes.append(f"judge {i + 1}: {v} -> {w}")
        out.append(w)
    return out, ("; ".join(notes) or None)


@dataclass(frozen=True)
class ScoreCheck:
    """How the annotated final score compares with the rules engine (``judgemind.rules.score_diving``)."""

    check: str  # one of CHECKS
    engine: Decimal  # the rules engine's score
    reason: str | None  # short text for ``extra.score_mismatch`` (None when exact)


def check_score(
    marks: Sequence[Decimal], dd: Decimal, synchro: bool, annotated: Decimal, repaired: str | None = None
) -> ScoreCheck:
    """Compare ``annotated`` with ``score_diving(marks, dd, synchro)`` and say what kind of disagreement it is."""

    result = score_diving(marks, dd, synchro=synchro)
    engine, J = result.score, result.J  # J: counted marks' sum (synchro: 0.6 x the sum of 5)
    diff = annotated - engine
    if repaired:
        how = "agrees" if abs(diff) < CENT / 2 else f"gives {engine}"
        return ScoreCheck(
            "invalid_mark", engine, f"invalid judge mark(s) repaired ({repaired}); the rules engine then {how}"
        )
    if abs(diff) < CENT / 2:
        return ScoreCheck("exact", engine, None)
    if abs(diff) <= LAST_DIGIT:
        return ScoreCheck(
            "rounded",
            engine,
            f"published score {annotated} is within 0.05 of the rules score {engine} (rounded or mistyped last digit)",
        )
    if J > 0:
        implied_dd = (annotated / J).quantize(TENTH)
        if (
            implied_dd != dd
            and Decimal(1) <= implied_dd <= Decimal(5)
            and abs(round_half_up2(J * implied_dd) - annotated) < CENT / 2
        ):
            return ScoreCheck("dd", engine, f"score {annotated} = DD {implied_dd} x judges; annotated DD is {dd}")
    factor = SYNCHRO_FACTOR if synchro else Decimal(1)
    if dd > 0:
        implied = annotated / (dd * factor)
        implied_sum = (implied / DIVING_STEP).to_integral_value() * DIVING_STEP
        if (
            abs(round_half_up2(implied_sum * dd * factor) - annotated) < CENT / 2
            and abs(implied_sum - J / factor) <= MAX_JUDGE_SHIFT
        ):
            J_marks = J / factor
            return ScoreCheck(
                "judges",
                engine,
                f"score {annotated} implies counted marks summing to {implied_sum}, "
                f"the judges give {J_marks} ({implied_sum - J_marks:+})",
            )
    return ScoreCheck("other", engine, f"published score {annotated}, rules engine {engine} (difference {diff:+})")


def judge_scores(marks: Iterable[Decimal]) -> tuple[JudgeScore, ...]:
    return tuple(JudgeScore(score=m) for m in marks)


def group_of(rec: Record) -> str:
    """Judging group of a diving record for statistics: ``7 judges``, ``3 judges``, ``5 judges (synchro)``."""
    n = len(rec.judges)
    return f"{n} judges" + (" (synchro)" if rec.synchro else "")


def mismatch_pattern(rec: Record) -> str | None:
    """A short key for how a record's published score departs from the rules (``"DD 3.4 -> 3.3"``,
    ``"counted marks -0.5"``), or None when it is reproduced. Used to summarise the mismatches."""

    chk = rec.extra.get("score_check")
    if chk in (None, *REPRODUCED):
        return None
    if chk == "invalid_mark":
        return "invalid judge mark"
    res = score_diving([j.score for j in rec.judges], rec.dd, synchro=rec.synchro)
    if chk == "dd" and res.J > 0:
        return f"DD {rec.dd} -> {(rec.final_score / res.J).quantize(TENTH)}"
    if chk == "judges":
        factor = SYNCHRO_FACTOR if rec.synchro else Decimal(1)
        implied = (rec.final_score / (rec.dd * factor) / DIVING_STEP).to_integral_value() * DIVING_STEP
        return f"counted marks {implied - res.J / factor:+}"
    diff = rec.final_score - res.score
    return f"other (published {'higher' if diff > 0 else 'lower'} by {'< 1' if abs(diff) < 1 else '>= 1'})"


def reproduction_stats(records: Iterable[Record]) -> dict:
    """Per judging group: how many published scores the rules engine reproduces, and the mismatch categories.

    Reads ``extra.score_check`` written by the adapters. Returns ``{group: {"n", "exact", "reproduced", "share",
    "checks": {category: count}}, ..., "all": {...}}``; ``reproduced`` = exact + rounded (within 0.05).
    """
    groups: dict[str, Counter] = {}
    patterns: dict[str, Counter] = {}
    for rec in records:
        chk = rec.extra.get("score_check", "other")
        pat = mismatch_pattern(rec)
        for g in (group_of(rec), "all"):
            groups.setdefault(g, Counter())[chk] += 1
            if pat:
                patterns.setdefault(g, Counter())[pat] += 1
    out = {}
    for g in sorted(groups, key=lambda s: (s == "all", s)):
        c = groups[g]
        n = sum(c.values())
        rep = sum(c[k] for k in REPRODUCED)
        out[g] = {
            "n": n,
            "exact": c["exact"],
            "reproduced": rep,
            "share": rep / n if n else 0.0,
            "checks": {k: c[k] for k in CHECKS if c[k]},
            "patterns": dict(patterns.get(g, Counter()).most_common()),
        }
    return out


def format_reproduction_stats(stats: dict, title: str) -> str:
    lines = [f"{title}: published scores the rules engine reproduces (exact, or within 0.05)"]
    for g, s in stats.items():
        parts = ", ".join(f"{k} {v}" for k, v in s["checks"].items())
        lines.append(f"  {g:<20} {s['reproduced']:>5}/{s['n']:<5} {100 * s['share']:6.2f} %   ({parts})")
    if stats:
        for g, s in stats.items():
            if g != "all" and s["patterns"]:
                pats = ", ".join(f"{k}: {v}" for k, v in s["patterns"].items())
                lines.append(f"  mismatches, {g}: {pats}")
        used = {k for s in stats.values() for k in s["checks"]}
        lines.append("  where " + "; ".join(f"{k} = {v}" for k, v in CHECK_TEXT.items() if k in used))
    return "\n".join(lines)


def seeded_val(train_ids: Sequence[str], fraction: float = VAL_FRACTION, seed: int = VAL_SEED) -> list[str]:
    """A deterministic validation subset of ``train_ids`` (``round(fraction * n)`` ids, in train order)."""
    k = round(fraction * len(train_ids))
    chosen = set(random.Random(seed).sample(sorted(train_ids), k))
    return [i for i in train_ids if i in chosen]


def read_official_splits(
    src: Path, files: Sequence[tuple[str, str]], sample_id: Callable[[Any, str], str], ids: set[str], records_file: str
) -> dict[str, list[str]]:
    """The official split lists (``(split name, pickle file)`` pairs) as record ids, each id checked against the
    converted records. ``sample_id(key, where)`` turns one pickled sample key into a record id."""

    splits: dict[str, list[str]] = {}
    for name, f in files:
        lst = safe_load_pickle(src / f)
        if not isinstance(lst, (list, tuple)):
            raise JudgemindError(f"{src / f}: expected a list of sample ids, got {type(lst).__name__}")
        splits[name] = [sample_id(k, str(src / f)) for k in lst]
        missing = [i for i in splits[name] if i not in ids]
        if missing:
            raise JudgemindError(f"{src / f}: {len(missing)} sample(s) not in {records_file}, e.g. {missing[0]}")
    return splits
