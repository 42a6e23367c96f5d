"""Checking keyword options that come from users (``--set KEY=VALUE``, ``--locator-set``, a stored manifest)
against the signature of the class they configure, before the class sees them.

A value must have the type of the parameter's annotation (``int``, ``float``, ``str``, ``bool``, optionally None),
be finite, and lie within generous bounds; sizes that make memory grow (``steps``, image sides, batch sizes) have
their own limits (see :mod:`judgemind.limits`). Anything else is a :class:`JudgemindError` naming the option.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any, Callable

from judgemind.errors import JudgemindError
from judgemind.limits import max_steps

_INT_MAX = 1_000_000
# options whose size drives memory or time: (largest value, why)
_SIDE_OPTIONS = {
    "short_side",
    "in_size",
    "size",
    "crop_size",
    "fg_size",
    "global_size",
    "work_width",
    "pose_size",
    "max_side",
}
_INT_LIMITS = {
    "batch": 4096,
    "batch_clips": 4096,
    "clip_len": 1024,
    "n_frames": 4096,
    "dim": 1 << 16,
    "detect_every": 10_000,
    "motion_gap": 10_000,
    "frame_step": 10_000,
    "stride": 10_000,
}
_MAX_SIDE = 4096


def _kinds(annotation: Any, default: Any) -> set[str] | None:
    """The accepted kinds ({"int", "float", "str", "bool", "none"}) of a parameter, or None for "anything"."""

    if annotation is inspect.Parameter.empty:
        if default is None or default is inspect.Parameter.empty:
            return None
        annotation = type(default).__name__
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    tokens = set(re.findall(r"[A-Za-z_]+", text))
    kinds = tokens & {"int", "float", "str", "bool"}
    if not kinds or tokens & {"Any", "list", "tuple", "dict", "Sequence", "Mapping", "List", "Tuple"}:
        return None
    if "None" in tokens or "Optional" in tokens or default is None:
        kinds.add("none")
    return kinds


def check_options(fn: Callable, options: dict, what: str) -> dict:
    """``options`` checked against the keyword parameters of ``fn`` (a class or function); returns them."""

    params = {
        n: p
        for n, p in inspect.signature(fn).parameters.items()
        if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise JudgemindError(
            f"{what} has no option {', '.join(unknown)}; its options are {', '.join(params) or 'none'}"
        )
    for name, value in options.items():
        p = params[name]
        kinds = _kinds(p.annotation, p.default)
        if value is None:
            if kinds is not None and "none" not in kinds:
                raise JudgemindError(f"{what} option {name!r} needs a value")
            continue
        _check_value(what, name, value, kinds)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            if name == "steps":
                hi, lo = max_steps(), 1
            elif name == "seed":
                hi, lo = 2**32 - 1, 0
            elif name in _SIDE_OPTIONS:
                hi, lo = _MAX_SIDE, 1
            else:
                hi, lo = _INT_LIMITS.get(name, _INT_MAX), 0
            if not lo <= value <= hi:
                extra = " (raise JUDGEMIND_MAX_STEPS to allow more)" if name == "steps" else ""
                raise JudgemindError(f"{what} option {name}={value} is outside [{lo}, {hi}]{extra}")
        elif isinstance(value, float) and not -1e6 <= value <= 1e6:
            raise JudgemindError(f"{what} option {name}={value} is outside [-1e6, 1e6]")
    return options


def _check_value(what: str, name: str, value: Any, kinds: set[str] | None) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise JudgemindError(f"{what} option {name}={value}: must be a finite number")
    if kinds is None:  # free-form (e.g. a list of channel widths): plain JSON of bounded size only
        _check_plain(what, name, value)
        return
    kind = "bool" if isinstance(value, bool) else type(value).__name__
    ok = kind in kinds or (kind == "int" and "float" in kinds)
    if not ok:
        want = " or ".join(sorted(k for k in kinds if k != "none"))
        raise JudgemindError(f"{what} option {name}={_short(value)}: expected {want}, got {kind}")


def _check_plain(what: str, name: str, value: Any, depth: int = 0) -> None:
    if depth > 3:
        raise JudgemindError(f"{what} option {name}: nested too deeply")
    if isinstance(value, (list, tuple)):
        if len(value) > 64:
            raise JudgemindError(f"{what} option {name}: at most 64 values")
        for v in value:
            _check_plain(what, name, v, depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        if not 0 <= value <= _INT_MAX:
            raise JudgemindError(f"{what} option {name}: {value} is outside [0, {_INT_MAX}]")
    elif isinstance(value, float):
        if not math.isfinite(value) or not 0 <= value <= 1e6:
            raise JudgemindError(f"{what} option {name}: {value} is outside [0, 1e6]")
    else:
        raise JudgemindError(f"{what} option {name}: {type(value).__name__} values are not allowed")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
