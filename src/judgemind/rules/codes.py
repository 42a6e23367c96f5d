"""Aerials jump codes (``bFdFF``) and the degree-of-difficulty (DD) table.

Code system (``docs/rules.md``, "Jump codes and DD"; FIS Data Service codes): a lower-case direction letter (``b`` back,
``f`` front, ``s``/``l`` side or loop), then one symbol per somersault, in order: a shape ``L`` layout, ``T`` tuck,
``P`` pike for a somersault without twist, or a twist ``H`` (1/2), ``F`` (1), ``Ru`` rudy (1 1/2), ``dF`` double
full (2), ``Ra`` randy (2 1/2), ``tF`` triple full (3). Twisting somersaults are laid out. At most 3 somersaults.

The DD table holds only values found in sources (listed in ``docs/rules.md``), each with its era, source tag and
confidence. A DD depends on the season: dataset records carry their own ``dd``, which may legitimately differ from
this table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from judgemind.errors import JudgemindError, UnknownJumpCode

__all__ = [
    "DD_TABLE",
    "DIRECTIONS",
    "MAX_SOMERSAULTS",
    "SYMBOLS",
    "DDEntry",
    "JumpCode",
    "Somersault",
    "dd_entries",
    "dd_entry",
    "dd_for",
    "describe_code",
    "known_codes",
    "parse_jump_code",
]

MAX_SOMERSAULTS = 3
MAX_TWISTS_PER_SOMERSAULT = Fraction(3)

DIRECTIONS = {"b": "back", "f": "front", "s": "side", "l": "loop"}

# symbol -> (shape, twists, name). Two-letter symbols first so that the tokenizer tries them first.
SYMBOLS: dict[str, tuple[str, Fraction, str]] = {
    "Ru": ("layout", Fraction(3, 2), "rudy"),
    "dF": ("layout", Fraction(2), "double full"),
    "Ra": ("layout", Fraction(5, 2), "randy"),
    "tF": ("layout", Fraction(3), "triple full"),
    "L": ("layout", Fraction(0), "layout"),
    "T": ("tuck", Fraction(0), "tuck"),
    "P": ("pike", Fraction(0), "pike"),
    "H": ("layout", Fraction(1, 2), "half"),
    "F": ("layout", Fraction(1), "full"),
}
_SHAPE_SYMBOL = {"layout": "L", "tuck": "T", "pike": "P"}
_TWIST_SYMBOL = {tw: sym for sym, (_, tw, _) in SYMBOLS.items() if tw}


@dataclass(frozen=True)
class Somersault:
    """One somersault: body ``shape`` (``"layout"``, ``"tuck"`` or ``"pike"``) and ``twists`` (0 to 3, halves)."""

    shape: str
    twists: Fraction

    @property
    def symbol(self) -> str:
        return _TWIST_SYMBOL[self.twists] if self.twists else _SHAPE_SYMBOL[self.shape]

    @property
    def name(self) -> str:
        return SYMBOLS[self.symbol][2]


@dataclass(frozen=True)
class JumpCode:
    """A parsed jump code. ``direction`` is the letter (``"b"``); ``somersaults`` one entry per somersault."""

    code: str
    direction: str
    somersaults: tuple[Somersault, ...]

    @property
    def n_somersaults(self) -> int:
        return len(self.somersaults)

    @property
    def total_twists(self) -> Fraction:
        return sum((s.twists for s in self.somersaults), Fraction(0))

    @property
    def twists_per_somersault(self) -> tuple[float, ...]:
        return tuple(float(s.twists) for s in self.somersaults)

    @property
    def shape(self) -> str:
        """``"layout"``, ``"tuck"`` or ``"pike"`` when every somersault has that shape, else ``"mixed"``."""
        shapes = {s.shape for s in self.somersaults}
        return shapes.pop() if len(shapes) == 1 else "mixed"

    @property
    def is_twisting(self) -> bool:
        return self.total_twists > 0


def _bad(code: str, pos: int, why: str) -> UnknownJumpCode:
    return UnknownJumpCode(
        f"bad jump code {code!r}: at position {pos}, {why}; a code is a direction letter (b, f, s, l) then one "
        f"symbol per somersault: L, T, P or H, F, Ru, dF, Ra, tF (e.g. bFdFF)"
    )


def parse_jump_code(code: str) -> JumpCode:
    """Parse a code such as ``"bFdFF"`` (full, double full, full). Letters are case-sensitive.

    Raises :class:`UnknownJumpCode` saying which character at which (0-based) position is wrong.
    """
    if not isinstance(code, str):
        raise UnknownJumpCode(f"a jump code must be a string, got {type(code).__name__} {code!r}")
    if not code:
        raise UnknownJumpCode("empty jump code; give e.g. bFdFF")
    if code[0] not in DIRECTIONS:
        hint = f" (directions are lower case: {code[0].lower()!r})" if code[0].lower() in DIRECTIONS else ""
        raise _bad(code, 0, f"{code[0]!r} is not a direction letter{hint}")
    somersaults: list[Somersault] = []
    i = 1
    while i < len(code):
        two, one = code[i : i + 2], code[i]
        if two in SYMBOLS and len(two) == 2:
            sym = two
        elif one in SYMBOLS:
            sym = one
        elif one == "R":
            raise _bad(code, i, "'R' must be followed by 'u' (rudy) or 'a' (randy)")
        elif one in "dt":
            raise _bad(code, i, f"{one!r} must be followed by 'F' ({'double' if one == 'd' else 'triple'} full)")
        else:
            raise _bad(code, i, f"{one!r} is not a somersault symbol")
        if len(somersaults) == MAX_SOMERSAULTS:
            raise _bad(code, i, f"{code[i:]!r} is more than {MAX_SOMERSAULTS} somersaults (quadruples are not allowed)")
        shape, twists, _ = SYMBOLS[sym]
        somersaults.append(Somersault(shape, twists))
        i += len(sym)
    if not somersaults:
        raise UnknownJumpCode(f"bad jump code {code!r}: no somersault after the direction letter (e.g. bL, bFdFF)")
    return JumpCode(code, code[0], tuple(somersaults))


def _fmt_count(x: Fraction, unit: str) -> str:
    text = str(x.numerator) if x.denominator == 1 else f"{float(x):g}"
    return f"{text} {unit}" + ("" if x == 1 else "s")


def describe_code(code: str) -> str:
    """Plain words, e.g. ``describe_code("bFdFF") == "full - double full - full: 3 somersaults, 4 twists"``.
    Back jumps get no prefix (all aerials jumps are back somersaults); others start with the direction."""
    jc = parse_jump_code(code)
    words = " - ".join(s.name for s in jc.somersaults)
    if jc.direction != "b":
        words = f"{DIRECTIONS[jc.direction]} {words}"
    return f"{words}: {_fmt_count(Fraction(jc.n_somersaults), 'somersault')}, {_fmt_count(jc.total_twists, 'twist')}"


# --------------------------------------------------------------------------------------------------------------
# DD table


@dataclass(frozen=True)
class DDEntry:
    """One DD value found in a source. ``sex``: ``"M"``, ``"W"`` or ``None`` (generic: the era had one value for
    both). ``current``: the value :func:`dd_for` returns for (code, sex); other entries are kept as history.
    ``confidence`` as in docs/rules.md: H (official), M (secondary), I (inferred by arithmetic), U (uncertain).
    """

    code: str
    value: Decimal
    sex: str | None
    era: str
    source: str
    confidence: str
    current: bool = True
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "dd": str(self.value),
            "sex": self.sex,
            "era": self.era,
            "source": self.source,
            "confidence": self.confidence,
            "current": self.current,
            "note": self.note,
        }


def _e(code, value, sex, era, source, confidence, current=True, note=""):
    return DDEntry(code, Decimal(value), sex, era, source, confidence, current, note)


# docs/rules.md, "Jump codes and DD" ("men unless marked W"). Values from ~2005/~2014 predate any women's multiplier and
# are stored as generic (sex None); the 2022 men's values are stored as "M".
DD_TABLE: tuple[DDEntry, ...] = (
    _e("bL", "2.05", None, "~2005, ~2014", "S11, S10", "M"),
    _e("bF", "2.30", None, "~2005", "S11", "M"),
    _e("bdF", "2.70", None, "~2005", "S11", "M"),
    _e("bdF", "2.65", None, "before ~2005", "S11", "M", False, "earlier value"),
    _e("bLT", "2.60", None, "~2005", "S11", "M"),
    _e("bLL", "2.65", None, "~2005", "S11", "M"),
    _e("bFT", "2.85", None, "~2005", "S11", "M"),
    _e("bFP", "2.85", None, "~2005", "S11", "M"),
    _e("bFdF", "3.55", None, "~2005", "S11", "M"),
    _e(
        "bFdF",
        "3.525",
        "W",
        "2018",
        "I",
        "U",
        False,
        "fits Zhang Xin 2018 95.52 = 27.1 x 3.525 truncated; the jump is not confirmed",
    ),
    _e("bLLL", "3.3", None, "~2014", "S10", "M"),
    _e("bFTF", "3.75", None, "~2005", "S11", "M"),
    _e(
        "bFFF",
        "4.293",
        "W",
        "2022 (consistent with 2026)",
        "S19",
        "H-M",
        True,
        "no men's/generic value: the ~2005 source [S11] is cut off at '4.0...'",
    ),
    _e("bLFF", "3.800", "W", "2018", "I, S24", "I", True, "Huskova 2018 96.14 = 25.3 x 3.800 exactly"),
    _e(
        "bLFF",
        "4.028",
        "W",
        "2022",
        "S19",
        "M",
        False,
        "Huskova 2022 final jump, name not given (probably bLFF); 4.028 = 1.06 x 3.800",
    ),
    _e("bFdFF", "4.425", "M", "2022", "S21, S22", "M"),
    _e("bFFdF", "4.525", "M", "2022 (fits 2018 too)", "S22", "M"),
    _e("bdFFF", "4.525", None, "2014", "I", "I", True, "Morris 2014 110.41 = 24.4 x 4.525 exactly"),
    _e("bHRaF", "4.525", None, "~2014", "S10", "M"),
    _e("bFdFdF", "4.900", None, "2014", "I", "I", True, "Jia 2014 95.06 = 19.4 x 4.900 exactly"),
    _e("bdFFdF", "5.000", "M", "2014 [I], 2022 [S21]", "S21, I", "M"),
)

_SEXES = {None: None, "M": "M", "W": "W"}


def _norm_sex(sex) -> str | None:
    key = sex.strip().upper() if isinstance(sex, str) else sex
    if key == "":
        key = None
    if key not in _SEXES:
        raise JudgemindError(f"sex must be 'M', 'W' or None, got {sex!r}")
    return key


def dd_entries(code: str | None = None) -> list[DDEntry]:
    """All table entries (current and history), or those of one code."""
    return [e for e in DD_TABLE if code is None or e.code == code]


_LOOKUP_ORDER = {None: (None, "M", "W"), "M": ("M", None), "W": ("W", None, "M")}


def dd_entry(code: str, sex=None) -> DDEntry:
    """The current entry :func:`dd_for` uses. ``sex="W"``: the women's value, else the generic, else the men's;
    ``sex="M"``: the men's, else the generic (never a women's value); ``sex=None`` (not known): generic, else
    men's, else women's (for codes that only have a women's value, e.g. bFFF). Raises :class:`UnknownJumpCode`."""
    s = _norm_sex(sex)
    code_ = code.strip() if isinstance(code, str) else code
    current = {e.sex: e for e in DD_TABLE if e.code == code_ and e.current}
    if not current:
        raise UnknownJumpCode(_unknown_message(code))
    for key in _LOOKUP_ORDER[s]:
        if key in current:
            return current[key]
    known = ", ".join(f"{e.sex or 'generic'} {e.value} ({e.era})" for e in current.values())
    raise UnknownJumpCode(
        f"no men's or generic DD is known for jump code {code_!r} (known: {known}); "
        f"pass sex='W' (--sex W) if it is a women's jump, or pass --dd to give the DD yourself"
    )


def dd_for(code: str, sex=None) -> Decimal:
    """Current DD of a jump code from the table: the women's value when ``sex == "W"`` and known, else the
    generic/men's value (see :func:`dd_entry` for the exact order). An unknown code raises
    :class:`UnknownJumpCode` listing up to 5 close known codes."""
    return dd_entry(code, sex).value


def known_codes(sex=None) -> list[str]:
    """Codes for which ``dd_for(code, sex)`` has a value, in table order; with ``sex=None`` every code of the
    table (``sex="M"`` leaves out codes that only have a women's value)."""
    s = _norm_sex(sex)
    allowed = set(_LOOKUP_ORDER[s])
    out: list[str] = []
    for e in DD_TABLE:
        if e.current and e.sex in allowed and e.code not in out:
            out.append(e.code)
    return out


def _all_codes() -> list[str]:
    return list(dict.fromkeys(e.code for e in DD_TABLE))


def _unknown_message(code) -> str:
    codes = _all_codes()
    close = difflib.get_close_matches(str(code), codes, n=5, cutoff=0.5)
    listing = f"close known codes: {', '.join(close)}" if close else f"known codes: {', '.join(codes)}"
    return f"unknown jump code {code!r}; {listing}; pass --dd to give the DD yourself"
