"""The deduction catalogue: a versioned data file (``catalogue_v1.json``) listing every deduction item a judge may
name, with its stage, component, a one-sentence description and the range of points it costs.

``points_min``/``points_max`` are deducted from the component's points (air 2.0, form 5.0, landing 3.0); e.g.
``hand_drag`` costs 1.0-1.4 landing points (landing 1.6-2.0, the handbook band) and caps landing at 2.0.
Items with ``estimate: true`` have ranges this project estimated where the handbook text was not found.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from judgemind.errors import JudgemindError, ValidationError
from judgemind.rules.names import STAGES
from judgemind.rules.scoring import COMPONENT_RANGES, COMPONENTS, MARK_STEP, to_decimal

__all__ = [
    "CATALOGUE_FILE",
    "CATALOGUE_V1_IDS",
    "Catalogue",
    "DeductionItem",
    "load_catalogue",
]

CATALOGUE_FILE = "catalogue_v1.json"
# The ids fixed by docs/architecture.md, in catalogue order.
CATALOGUE_V1_IDS = (
    "early_rotation",
    "weak_takeoff",
    "short_flight",
    "long_flight",
    "bent_knees",
    "legs_apart",
    "crossed_skis",
    "arms_flailing",
    "pike_in_layout",
    "arch_in_layout",
    "early_twist",
    "late_twist_finish",
    "uneven_twists",
    "loss_of_axis",
    "landing_imbalance",
    "hard_compression",
    "turn_on_landing",
    "over_under_rotation",
    "hand_drag",
    "back_slap",
    "body_contact",
    "crash",
    "no_weight_on_skis",
)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_REQUIRED = ("id", "stage", "component", "name", "description", "points_min", "points_max")
_OPTIONAL = ("landing_cap", "exclusive_group", "motion", "source", "estimate", "note")


@dataclass(frozen=True)
class DeductionItem:
    """One catalogue item. ``points_min``..``points_max``: deduction from the component's points;
    ``landing_cap``: highest landing mark allowed when the item occurs (hand drag 2.0, body contact 1.5, ...);
    ``exclusive_group``: the name of a group of items of which a judge names at most one (short / long flight:
    "flight length"); the judge sheet shows a group as one line with its most probable member; ``motion``: the fault
    is seen over time (rotation or twist timing, a landing), not in one frame, so the sheet's evidence is a short
    strip of frames."""

    id: str
    stage: str
    component: str
    name: str
    description: str
    points_min: Decimal
    points_max: Decimal
    landing_cap: Decimal | None = None
    exclusive_group: str | None = None
    motion: bool = False
    source: str | None = None
    estimate: bool = False
    note: str = ""

    def check_points(self, points) -> str | None:
        """Problem text if ``points`` is outside this item's range, else ``None``."""
        p = to_decimal(points, f"{self.id} points")
        if not self.points_min <= p <= self.points_max:
            return f"{self.id} points {p} outside {self.points_min}-{self.points_max}"
        return None

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "stage": self.stage,
            "component": self.component,
            "name": self.name,
            "description": self.description,
            "points_min": str(self.points_min),
            "points_max": str(self.points_max),
        }
        if self.landing_cap is not None:
            d["landing_cap"] = str(self.landing_cap)
        if self.exclusive_group is not None:
            d["exclusive_group"] = self.exclusive_group
        if self.motion:
            d["motion"] = True
        if self.source is not None:
            d["source"] = self.source
        d["estimate"] = self.estimate
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class Catalogue:
    """A loaded catalogue: ``version`` and the items in file order. ``reference`` is the file's ``source`` text."""

    version: str
    items: tuple[DeductionItem, ...]
    reference: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __contains__(self, item_id) -> bool:
        return item_id in self.ids

    def index(self, item_id: str) -> int:
        """Position of ``item_id`` in the catalogue (stable class index for models)."""
        ids = self.ids
        if item_id not in ids:
            raise JudgemindError(self._unknown(item_id))
        return ids.index(item_id)

    def get(self, item_id: str) -> DeductionItem:
        """The item with this id; an unknown id raises :class:`JudgemindError` naming it and close ids."""
        return self.items[self.index(item_id)]

    def by_stage(self, stage: str) -> tuple[DeductionItem, ...]:
        if stage not in STAGES:
            raise JudgemindError(f"unknown stage {stage!r}; use one of {', '.join(STAGES)}")
        return tuple(i for i in self.items if i.stage == stage)

    def by_component(self, component: str) -> tuple[DeductionItem, ...]:
        if component not in COMPONENTS:
            raise JudgemindError(f"unknown component {component!r}; use one of {', '.join(COMPONENTS)}")
        return tuple(i for i in self.items if i.component == component)

    def _unknown(self, item_id) -> str:
        close = difflib.get_close_matches(str(item_id), self.ids, n=5, cutoff=0.5)
        hint = f"close ids: {', '.join(close)}" if close else f"known ids: {', '.join(self.ids)}"
        return f"unknown deduction item {item_id!r} in catalogue v{self.version}; {hint}"

    def to_dict(self) -> dict:
        return {"version": self.version, "source": self.reference, "items": [i.to_dict() for i in self.items]}

    @classmethod
    def from_dict(cls, d, source: str = "<dict>") -> "Catalogue":
        """Build and validate a catalogue; every problem is reported (``ValidationError.problems``), each naming
        ``source``, the item and the field."""
        if not isinstance(d, dict):
            raise JudgemindError(f"{source}: a catalogue must be a JSON object, got {type(d).__name__}")
        problems: list[str] = []
        version = d.get("version")
        if not isinstance(version, str) or not version:
            problems.append(f"{source}: field 'version' must be a non-empty string, got {version!r}")
        reference = d.get("source", "")
        if not isinstance(reference, str):
            problems.append(f"{source}: field 'source' must be a string")
            reference = ""
        raw_items = d.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            problems.append(f"{source}: field 'items' must be a non-empty list")
            raw_items = []
        extra = sorted(set(d) - {"version", "source", "items"})
        if extra:
            problems.append(f"{source}: unknown top-level field(s) {', '.join(extra)}")
        items, seen = [], set()
        for n, raw in enumerate(raw_items):
            item, item_problems = _parse_item(raw, f"{source}: item {n}")
            problems += item_problems
            if item is not None:
                if item.id in seen:
                    problems.append(f"{source}: item {n} ({item.id!r}): duplicate id")
                seen.add(item.id)
                items.append(item)
        if problems:
            raise ValidationError(f"invalid deduction catalogue {source}: {problems[0]}", problems)
        return cls(version, tuple(items), reference)


def _parse_item(raw, where: str) -> tuple[DeductionItem | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: must be an object, got {type(raw).__name__}"]
    item_id = raw.get("id")
    if isinstance(item_id, str):
        where = f"{where} ({item_id!r})"
    problems = [f"{where}: missing field {k!r}" for k in _REQUIRED if k not in raw]
    problems += [f"{where}: unknown field {k!r}" for k in sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))]
    if problems:
        return None, problems

    def bad(field: str, why: str) -> None:
        problems.append(f"{where}: field {field!r} {why}")

    if not isinstance(item_id, str) or not _ID_RE.match(item_id):
        bad("id", f"must be a snake_case string, got {item_id!r}")
    if raw["stage"] not in STAGES:
        bad("stage", f"must be one of {', '.join(STAGES)}, got {raw['stage']!r}")
    component = raw["component"]
    if component not in COMPONENTS:
        bad("component", f"must be one of {', '.join(COMPONENTS)}, got {component!r}")
    for f in ("name", "description"):
        if not isinstance(raw[f], str) or not raw[f].strip():
            bad(f, "must be a non-empty string")
    for f in ("source", "note"):
        if f in raw and not isinstance(raw[f], str):
            bad(f, "must be a string")
    group = raw.get("exclusive_group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        bad("exclusive_group", f"must be a non-empty string (the group's name), got {group!r}")
    for f in ("estimate", "motion"):
        if f in raw and not isinstance(raw[f], bool):
            bad(f, f"must be true or false, got {raw[f]!r}")

    def number(field: str) -> Decimal | None:
        value = raw[field]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            bad(field, f'must be a decimal string such as "0.1", got {value!r}')
            return None
        try:
            v = to_decimal(value, field)
        except JudgemindError as exc:
            bad(field, str(exc))
            return None
        if v % MARK_STEP != 0:
            bad(field, f"{v} is not a multiple of 0.1")
        return v

    lo, hi = number("points_min"), number("points_max")
    top = COMPONENT_RANGES[component][1] if component in COMPONENT_RANGES else None
    if lo is not None and hi is not None:
        if not Decimal(0) <= lo <= hi:
            bad("points_min", f"{lo} must be >= 0 and <= points_max {hi}")
        if top is not None and hi > top:
            bad("points_max", f"{hi} is more than the {top} {component} points")
    cap = None
    if raw.get("landing_cap") is not None:
        cap = number("landing_cap")
        if component != "landing":
            bad("landing_cap", f"only landing items may cap the landing mark (component is {component!r})")
        if cap is not None and not Decimal(0) <= cap <= COMPONENT_RANGES["landing"][1]:
            bad("landing_cap", f"{cap} is outside 0.0-3.0")
    if problems:
        return None, problems
    return (
        DeductionItem(
            id=item_id,
            stage=raw["stage"],
            component=component,
            name=raw["name"].strip(),
            description=raw["description"].strip(),
            points_min=lo,
            points_max=hi,
            landing_cap=cap,
            exclusive_group=group.strip() if group else None,
            motion=raw.get("motion", False),
            source=raw.get("source"),
            estimate=raw.get("estimate", False),
            note=raw.get("note", ""),
        ),
        [],
    )


def _read(text: str, source: str) -> Catalogue:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgemindError(
            f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix the file"
        ) from None
    return Catalogue.from_dict(data, source=source)


@functools.lru_cache(maxsize=1)
def _packaged() -> Catalogue:
    ref = resources.files("judgemind.rules").joinpath(CATALOGUE_FILE)
    return _read(ref.read_text(encoding="utf-8"), f"judgemind/rules/{CATALOGUE_FILE}")


def load_catalogue(path=None) -> Catalogue:
    """Load a catalogue file; with no ``path`` the packaged ``catalogue_v1.json`` (loaded once and cached)."""
    if path is None:
        return _packaged()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JudgemindError(f"deduction catalogue {p} does not exist; give an existing file or omit it") from None
    except OSError as exc:
        raise JudgemindError(f"cannot read deduction catalogue {p}: {exc.strerror}") from None
    return _read(text, str(p))
