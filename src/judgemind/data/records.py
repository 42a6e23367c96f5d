"""FineSkiing records: typed, immutable, validated once at the boundary.

A *record* is one jump (or dive) of a dataset: one line of ``annotations.jsonl``. Inside the pipeline code reads
named fields of :class:`Record`; nobody indexes tuples by position. Numbers that the rules engine uses (marks, DD,
final score, deduction points) are :class:`decimal.Decimal` so that ``J x DD`` truncation is exact.

JSON layout of one record (schema v1)::

    {"id": "jump_0001", "video": "videos/jump_0001.mp4", "frames": [0, 250],
     "action_code": "bFdFF", "dd": 4.425, "sex": "M", "event": "...", "athlete": "...",
     "stages": {"takeoff": [0, 80], "flight": [80, 170], "landing": [170, 250]},
     "judges": [{"air": 1.8, "form": 4.4, "landing": 2.7}, ...],
     "final_score": 118.14,
     "deductions": [{"item": "bent_knees", "stage": "flight", "points": 0.3, "frames": [120, 140], "severity": 0.4}],
     "boxes": {"0": [x0, y0, x1, y1], ...}, "cuts": [95, 180], "extra": {...}}

Schema v2 adds the optional ``"skeleton": "skeletons/jump_0001.npy"`` (per-frame 2D + visibility + 3D points of
the layout declared in dataset.json; see :mod:`judgemind.data.skeleton`). Version-1 data sets load unchanged.

Frames are half-open ``[start, end)`` indices of decoded video frames, counted from 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from judgemind.limits import MAX_ID_CHARS, max_frames
from judgemind.rules.names import COMPONENTS, STAGE_LABELS, STAGES


def stage_at(stages: Mapping[str, Any], frame):
    """The one stage-of-frame rule: the index into STAGES of the stage holding ``frame`` (an int, or a numpy array
    of frames for an array of indices) = how many of the later stages' starts it has reached. The stages are
    contiguous and in order, so frames outside the jump are clamped to the nearest stage."""
    index = 0
    for s in STAGES[1:]:
        index = index + (frame >= stages[s][0])
    return index


SCHEMA_VERSION = 2
SUPPORTED_SCHEMA_VERSIONS = (1, 2)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset: where (file, line, record, field), which rule, and how bad."""

    file: str
    message: str
    record: str | None = None
    field: str | None = None
    line: int | None = None
    rule: str = "schema"
    level: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        parts = [where]
        if self.record is not None:
            parts.append(f"record {self.record!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return f"{self.level}: {', '.join(parts)}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class JudgeScore:
    """One judge's marks. Aerials (current format): ``air``, ``form``, ``landing``.
    Aerials legacy 7-judge format: ``air_form`` (0-7.0) for the 5 Air+Form judges or ``landing`` for the 2 landing
    judges. Diving: ``score`` (0-10, 0.5 steps)."""

    air: Decimal | None = None
    form: Decimal | None = None
    landing: Decimal | None = None
    air_form: Decimal | None = None
    score: Decimal | None = None

    @property
    def total(self) -> Decimal:
        if self.score is not None:
            return self.score
        parts = [v for v in (self.air, self.form, self.landing, self.air_form) if v is not None]
        return sum(parts, Decimal(0))

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Deduction:
    """A deduction item seen in the jump: catalogue ``item`` id, ``stage``, ``points`` taken off, and optionally the
    frames ``[start, end)`` where it is visible and a ``severity`` in [0, 1]."""

    item: str
    stage: str
    points: Decimal
    frames: tuple[int, int] | None = None
    severity: float | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"item": self.item, "stage": self.stage, "points": self.points}
        if self.frames is not None:
            d["frames"] = list(self.frames)
        if self.severity is not None:
            d["severity"] = self.severity
        return d


@dataclass(frozen=True)
class Record:
    """One jump. See the module docstring for the JSON layout; ``validate_record`` checks the rules."""

    id: str
    video: str
    frames: tuple[int, int]
    action_code: str
    dd: Decimal
    stages: Mapping[str, tuple[int, int]]
    judges: tuple[JudgeScore, ...]
    final_score: Decimal
    deductions: tuple[Deduction, ...] = ()
    sex: str | None = None
    event: str | None = None
    athlete: str | None = None
    synchro: bool = False
    boxes: Mapping[int, tuple[float, float, float, float]] | None = None
    cuts: tuple[int, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    skeleton: str | None = None  # schema v2: path of the skeleton array file, relative to the data set root

    @property
    def n_frames(self) -> int:
        return self.frames[1] - self.frames[0]

    @property
    def stages_known(self) -> bool:
        """False when the stage boundaries are nominal, not annotated (``extra.stages_known = false``, e.g. the
        MTL-AQA adapter): such records must not be used to train or evaluate stage segmentation."""
        return self.extra.get("stages_known", True) is not False

    def stage_of_frame(self, frame: int) -> int:
        """Index into STAGES of the stage that holds ``frame`` (frames outside are clamped to the nearest stage)."""
        return int(stage_at(self.stages, frame))

    def component_means(self) -> dict[str, Decimal]:
        """Mean mark per component over the judges that gave one (the panel's consensus per component)."""
        out = {}
        for c in COMPONENTS:
            vals = [getattr(j, c) for j in self.judges if getattr(j, c) is not None]
            if vals:
                out[c] = sum(vals, Decimal(0)) / len(vals)
        return out

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "id": self.id,
            "video": self.video,
            "frames": list(self.frames),
            "action_code": self.action_code,
            "dd": self.dd,
        }
        for k in ("sex", "event", "athlete"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.synchro:
            d["synchro"] = True
        d["stages"] = {s: list(self.stages[s]) for s in STAGES if s in self.stages}
        d["judges"] = [j.to_dict() for j in self.judges]
        d["final_score"] = self.final_score
        d["deductions"] = [x.to_dict() for x in self.deductions]
        if self.boxes is not None:
            d["boxes"] = {str(k): [round(float(v), 2) for v in b] for k, b in sorted(self.boxes.items())}
        if self.cuts:
            d["cuts"] = list(self.cuts)
        if self.skeleton is not None:
            d["skeleton"] = self.skeleton
        if self.extra:
            d["extra"] = dict(self.extra)
        return d


@dataclass(frozen=True)
class DatasetMeta:
    """Contents of ``dataset.json``."""

    name: str
    fps: float
    splits: Mapping[str, tuple[str, ...]]
    scoring: str = "aerials5"
    stage_names: tuple[str, ...] = STAGE_LABELS
    catalogue_version: str = "1"
    schema_version: int = SCHEMA_VERSION
    synthetic: bool = False
    source: str = ""
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    skeleton: Any = None  # schema v2: a judgemind.data.skeleton.SkeletonLayout when records carry skeletons

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "schema_version": self.schema_version,
            "fps": self.fps,
            "scoring": self.scoring,
            "stage_names": list(self.stage_names),
            "catalogue_version": self.catalogue_version,
            "synthetic": self.synthetic,
            "source": self.source,
            "description": self.description,
            "splits": {k: list(v) for k, v in self.splits.items()},
            **({"skeleton": self.skeleton.to_dict()} if self.skeleton is not None else {}),
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


# --------------------------------------------------------------------------------------------------------------
# Parsing: dict (from JSON, floats as Decimal) -> Record, collecting every problem instead of stopping at the first.


class _Collector:
    def __init__(self, file: str, line: int | None, record: str | None):
        self.file, self.line, self.record = file, line, record
        self.problems: list[Problem] = []

    def add(self, field: str | None, message: str, rule: str = "schema", level: str = "error") -> None:
        self.problems.append(Problem(self.file, message, self.record, field, self.line, rule, level))


# Numbers in annotation files are read as exact decimals; one with a huge exponent (1e400000000) is cheap to
# parse but would take minutes to turn into an int and overflows decimal arithmetic, so magnitudes are bounded.
_MAX_ADJUSTED = 30


def _dec(c: _Collector, value: Any, fname: str) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        c.add(fname, f"expected a number, got {type(value).__name__} {_short(value)}", "type")
        return None
    if isinstance(value, int) and value.bit_length() > 100:
        c.add(fname, f"{_short(value)} is far outside any valid value", "range")
        return None
    try:
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        c.add(fname, f"expected a number, got {_short(value)}", "type")
        return None
    if not d.is_finite():
        c.add(fname, f"{_short(value)} is not a finite number", "type")
        return None
    if d and not -_MAX_ADJUSTED <= d.adjusted() <= _MAX_ADJUSTED:
        c.add(fname, f"{_short(value)} is far outside any valid value", "range")
        return None
    return d


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int(c: _Collector, value: Any, fname: str) -> int | None:

    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        c.add(fname, f"expected an integer frame index, got {_short(value)}", "type")
        return None
    if isinstance(value, Decimal) and (not value.is_finite() or value.adjusted() > 18):
        c.add(
            fname,
            f"{_short(value)} exceeds the largest frame index ({max_frames() - 1}; raise "
            f"JUDGEMIND_MAX_FRAMES if your videos are longer)",
            "range",
        )
        return None
    if int(value) != value:
        c.add(fname, f"expected an integer frame index, got {_short(value)}", "type")
        return None
    if abs(int(value)) >= max_frames():
        c.add(
            fname,
            f"{_short(value)} exceeds the largest frame index ({max_frames() - 1}; raise "
            f"JUDGEMIND_MAX_FRAMES if your videos are longer)",
            "range",
        )
        return None
    return int(value)


def _text_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be used as a name (id, file path), or None. Names end up in file names, JSON and HTML:
    they must be valid Unicode text without control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} holds a character that is not valid Unicode text (a lone surrogate)"
    bad = next((ch for ch in value if ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None:
        return f"{what} holds the control character {bad!r}"
    return None


def _interval(c: _Collector, value: Any, fname: str) -> tuple[int, int] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        c.add(fname, f"expected [start, end), got {value!r}", "type")
        return None
    a, b = _int(c, value[0], fname + "[0]"), _int(c, value[1], fname + "[1]")
    if a is None or b is None:
        return None
    if not (0 <= a < b):
        c.add(fname, f"[{a}, {b}) is not a non-empty interval of frames with 0 <= start < end", "interval")
        return None
    return a, b


def _opt_str(c: _Collector, d: Mapping, key: str) -> str | None:
    v = d.get(key)
    if v is not None and not isinstance(v, str):
        c.add(key, f"expected a string, got {type(v).__name__}", "type")
        return None
    return v


def _plain(value: Any) -> Any:
    """JSON-native copy of free metadata: numbers read as Decimal become float, tuples become lists (so that
    ``extra`` round-trips through ``annotations.jsonl`` unchanged and can be dumped with plain ``json``)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_RECORD_KEYS = {
    "id",
    "video",
    "frames",
    "action_code",
    "dd",
    "sex",
    "event",
    "athlete",
    "synchro",
    "stages",
    "judges",
    "final_score",
    "deductions",
    "boxes",
    "cuts",
    "extra",
    "skeleton",
}
_REQUIRED = ("id", "video", "frames", "action_code", "dd", "stages", "judges", "final_score")


def record_from_dict(
    d: Any, file: str = "annotations.jsonl", line: int | None = None
) -> tuple[Record | None, list[Problem]]:
    """Build a Record from parsed JSON. Returns ``(record or None, problems)``; structural problems only —
    the scoring/rules checks are in :func:`judgemind.data.validate.validate_record`."""
    rid = d.get("id") if isinstance(d, Mapping) and isinstance(d.get("id"), str) else None
    c = _Collector(file, line, rid)
    if not isinstance(d, Mapping):
        c.add(None, f"a record must be a JSON object, got {type(d).__name__}", "type")
        return None, c.problems
    for key in _REQUIRED:
        if key not in d:
            c.add(key, "missing required field", "required")
    for key in d:
        if key not in _RECORD_KEYS:
            c.add(key, f"unknown field (known: {', '.join(sorted(_RECORD_KEYS))})", "schema")
    if c.problems:
        return None, c.problems
    if not isinstance(d["id"], str) or not d["id"]:
        c.add("id", f"expected a non-empty string, got {_short(d['id'])}", "type")
    else:
        why = _text_problem(d["id"], "the id")
        if why is None and len(d["id"]) > MAX_ID_CHARS:
            why = f"the id has {len(d['id'])} characters; at most {MAX_ID_CHARS} are allowed"
        if why is None and d["id"] != d["id"].strip():
            why = "the id starts or ends with white space"
        if why:
            c.record = None  # the id itself cannot be shown as is
            c.add("id", f"{why} ({_short(d['id'])})", "id")
    if not isinstance(d["video"], str) or not d["video"]:
        c.add("video", f"expected a path relative to the dataset root, got {_short(d['video'])}", "type")
    else:
        why = _text_problem(d["video"], "the video path")
        if why:
            c.add("video", f"{why} ({_short(d['video'])})", "path")
    if not isinstance(d["action_code"], str) or not d["action_code"]:
        c.add("action_code", f"expected a non-empty string, got {d['action_code']!r}", "type")
    frames = _interval(c, d["frames"], "frames")
    dd = _dec(c, d["dd"], "dd")
    final = _dec(c, d["final_score"], "final_score")

    stages: dict[str, tuple[int, int]] = {}
    if not isinstance(d["stages"], Mapping):
        c.add("stages", "expected an object {takeoff: [s, e), flight: [s, e), landing: [s, e)}", "type")
    else:
        for s in d["stages"]:
            if s not in STAGES:
                c.add(f"stages.{s}", f"unknown stage (stages are {', '.join(STAGES)})", "schema")
        for s in STAGES:
            if s not in d["stages"]:
                c.add(f"stages.{s}", "missing stage", "required")
            else:
                iv = _interval(c, d["stages"][s], f"stages.{s}")
                if iv:
                    stages[s] = iv

    judges: list[JudgeScore] = []
    if not isinstance(d["judges"], list) or not d["judges"]:
        c.add("judges", "expected a non-empty list of judge marks", "type")
    else:
        for i, j in enumerate(d["judges"]):
            if not isinstance(j, Mapping) or not j:
                c.add(f"judges[{i}]", f"expected an object of marks, got {j!r}", "type")
                continue
            vals = {}
            for k, v in j.items():
                if k not in (*COMPONENTS, "air_form", "score"):
                    c.add(f"judges[{i}].{k}", "unknown mark (air, form, landing, air_form or score)", "schema")
                    continue
                vals[k] = _dec(c, v, f"judges[{i}].{k}")
            judges.append(JudgeScore(**vals))

    deductions: list[Deduction] = []
    raw_ded = d.get("deductions", [])
    if not isinstance(raw_ded, list):
        c.add("deductions", "expected a list", "type")
        raw_ded = []
    for i, x in enumerate(raw_ded):
        f = f"deductions[{i}]"
        if not isinstance(x, Mapping):
            c.add(f, f"expected an object, got {x!r}", "type")
            continue
        for k in ("item", "stage", "points"):
            if k not in x:
                c.add(f"{f}.{k}", "missing required field", "required")
        unknown = set(x) - {"item", "stage", "points", "frames", "severity"}
        for k in sorted(unknown):
            c.add(f"{f}.{k}", "unknown field", "schema")
        if not {"item", "stage", "points"} <= set(x):
            continue
        pts = _dec(c, x["points"], f"{f}.points")
        iv = _interval(c, x["frames"], f"{f}.frames") if x.get("frames") is not None else None
        sev = x.get("severity")
        if sev is not None:
            sev_d = _dec(c, sev, f"{f}.severity")
            sev = float(sev_d) if sev_d is not None else None
        if not isinstance(x["item"], str):
            c.add(f"{f}.item", "expected a catalogue item id (string)", "type")
        if x["stage"] not in STAGES:
            c.add(f"{f}.stage", f"unknown stage {x['stage']!r} (stages are {', '.join(STAGES)})", "schema")
        if pts is not None and isinstance(x["item"], str):
            deductions.append(Deduction(x["item"], str(x["stage"]), pts, iv, sev))

    boxes = None
    if d.get("boxes") is not None:
        if not isinstance(d["boxes"], Mapping):
            c.add("boxes", "expected an object {frame: [x0, y0, x1, y1]}", "type")
        else:
            boxes = {}
            for k, b in d["boxes"].items():
                try:
                    fk = int(k)
                except (TypeError, ValueError):
                    c.add(f"boxes.{k}", "box keys must be frame indices", "type")
                    continue
                if not isinstance(b, (list, tuple)) or len(b) != 4:
                    c.add(f"boxes.{k}", f"expected [x0, y0, x1, y1], got {b!r}", "type")
                    continue
                vals = [_dec(c, v, f"boxes.{k}") for v in b]
                if any(v is None for v in vals):
                    continue
                x0, y0, x1, y1 = (float(v) for v in vals)
                if not (x1 > x0 and y1 > y0):
                    c.add(f"boxes.{k}", f"box {b!r} has no area (need x1 > x0 and y1 > y0)", "box")
                    continue
                boxes[fk] = (x0, y0, x1, y1)

    cuts: list[int] = []
    if d.get("cuts") is not None:
        if not isinstance(d["cuts"], list):
            c.add("cuts", "expected a list of frame indices", "type")
        else:
            for i, v in enumerate(d["cuts"]):
                iv = _int(c, v, f"cuts[{i}]")
                if iv is not None:
                    cuts.append(iv)
    synchro = d.get("synchro", False)
    if not isinstance(synchro, bool):
        c.add("synchro", "expected true or false", "type")
        synchro = False
    extra = d.get("extra") or {}
    if not isinstance(extra, Mapping):
        c.add("extra", "expected an object", "type")
        extra = {}
    extra = _plain(extra)
    sex, event, athlete = _opt_str(c, d, "sex"), _opt_str(c, d, "event"), _opt_str(c, d, "athlete")
    skeleton = d.get("skeleton")
    if skeleton is not None and (not isinstance(skeleton, str) or not skeleton or "\x00" in skeleton):
        c.add(
            "skeleton",
            f"expected the path of the skeleton array file relative to the dataset root, got {skeleton!r}",
            "type",
        )
        skeleton = None

    if any(p.level == "error" for p in c.problems) or frames is None or dd is None or final is None:
        return None, c.problems
    rec = Record(
        id=d["id"],
        video=d["video"],
        frames=frames,
        action_code=d["action_code"],
        dd=dd,
        stages=stages,
        judges=tuple(judges),
        final_score=final,
        deductions=tuple(deductions),
        sex=sex,
        event=event,
        athlete=athlete,
        synchro=synchro,
        boxes=boxes,
        cuts=tuple(cuts),
        extra=dict(extra),
        skeleton=skeleton,
    )
    return rec, c.problems
