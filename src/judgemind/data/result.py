"""The scored jump: :class:`ScoreResult`, the one typed, frozen result that ``judgemind.infer.score_video`` returns,
``judgemind.report`` renders and ``judgemind.cli`` prints, and whose :meth:`~ScoreResult.to_json` is what
``result.json`` holds (read back with :meth:`~ScoreResult.from_json`).

The values keep their JSON form, so a result read from ``result.json`` equals the one that was written: **marks and
scores are exact decimals written as strings** (``"1.8"``, ``"94.69"``: the rules engine truncates ``J x DD`` with
exact decimal arithmetic, and a float would not keep ``94.69``); model outputs that are not marks (probabilities,
raw component values) are JSON numbers; frames are lists. Read a string with ``decimal.Decimal(result.final_score)``.
Keys that only some results carry (components of a model that has none, the demo's ``truth``, a round's ``round``)
are ``None`` here and absent from the JSON.

The JSON document is versioned (``schema_version``, :data:`RESULT_SCHEMA_VERSION`) and described by the JSON Schema
that ships beside this module (``result.schema.json``, draft 2020-12; every field in words: docs/result.md);
:func:`validate_result` checks a document against it. Adding an optional key: a field here (default ``None``, in
``_OPTIONAL`` and in ``to_json``'s order) and one line under ``properties`` in the schema.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from judgemind.errors import JudgemindError
from judgemind.utils import clean_json, open_regular
from judgemind.utils.atomic import atomic_write_text

__all__ = ["ScoreResult", "RESULT_SCHEMA_VERSION", "RESULT_SCHEMA_FILE", "result_schema", "validate_result"]

RESULT_SCHEMA_VERSION = 1
RESULT_SCHEMA_FILE = Path(__file__).with_name("result.schema.json")
MAX_RESULT_BYTES = 64 << 20  # a result.json holds one jump: a few hundred kB at most

# Keys written only when the result has them (None here means: absent from result.json).
_OPTIONAL = (
    "components",
    "components_raw",
    "bands",
    "raw",
    "landing_cap_note",
    "all_deduction_probs",
    "all_deduction_scores",
    "deduction_calibration",
    "ood_thresholds",
    "ood_note",
    "jump_check",
    "feature_check",
    "truth",
    "round",
)


@dataclass(frozen=True)
class ScoreResult:
    """One scored jump; the fields in result.json's order (the optional ones last). Marks and scores (``dd``,
    ``J``, ``final_score``, ``raw``, ``components``) are exact decimals as strings; see docs/result.md for every
    field.

    A result that :meth:`judgemind.Judge.score <judgemind.api.Judge.score>` returns also carries the frames its
    judge sheet shows (a private field, not part of the JSON and not compared): :meth:`write_sheet` writes
    result.json, sheet.html and timeline.png with the bytes ``judgemind score`` writes. A result read back from
    JSON has no frames: :meth:`write_json` still writes its result.json."""

    video: str
    video_name: str
    frames: list
    fps: float | None
    action_code: str
    code_description: str | None
    dd: str
    J: str | None
    final_score: str
    stages: dict | None
    deductions: list
    deduction_threshold: float | None  # the one threshold of every item; None: per item (deduction_calibration)
    cuts: list
    steps: dict
    provenance: dict
    notes: list
    intervals: dict
    in_distribution: bool
    ood_reasons: list
    ood_signals: dict
    panel: dict | None
    components: dict | None = None  # the consensus judge's marks (aerials models with components)
    components_raw: dict | None = None
    bands: dict | None = None
    raw: str | None = None  # J x DD before truncation
    landing_cap_note: str | None = None
    all_deduction_probs: dict | None = None  # calibrated probabilities (absent for a run without calibration)
    all_deduction_scores: dict | None = None  # the deduction head's raw outputs (not probabilities)
    deduction_calibration: dict | None = None  # calibrated or not, how, and each item's threshold
    ood_thresholds: Any = None  # written when the run has an OOD reference (ood_note otherwise)
    ood_note: str | None = None
    jump_check: dict | None = None  # "is this an aerials jump?" (judgemind.data.jumpcheck; None: no skeleton track)
    feature_check: dict | None = None  # the softer "features unlike training" warning (None: no calibration)
    truth: dict | None = None  # the annotated panel's score (judgemind demo)
    round: dict | None = None  # the inputs of a round's jump (judgemind score on many videos)
    schema_version: int = RESULT_SCHEMA_VERSION
    # what writes the judge sheet (frames decoded when the video was scored; handed in by judgemind.api, which
    # renders through judgemind.report): never serialised, never compared, kept by with_()
    _sheet: Callable[[ScoreResult, Path], dict] | None = dataclasses.field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The result.json document: ``schema_version`` first, then the keys in the order they have always had."""
        doc: dict[str, Any] = {"schema_version": self.schema_version}
        for key in (
            "video",
            "video_name",
            "frames",
            "fps",
            "action_code",
            "code_description",
            "dd",
            "components",
            "components_raw",
            "bands",
            "J",
            "final_score",
            "raw",
            "landing_cap_note",
            "all_deduction_probs",
            "all_deduction_scores",
            "stages",
            "deductions",
            "deduction_threshold",
            "deduction_calibration",
            "cuts",
            "steps",
            "provenance",
            "notes",
            "intervals",
            "in_distribution",
            "ood_reasons",
            "ood_signals",
        ):
            self._put(doc, key)
        if self.ood_note is None:
            doc["ood_thresholds"] = self.ood_thresholds
        else:
            doc["ood_note"] = self.ood_note
        for key in ("jump_check", "feature_check"):
            self._put(doc, key)
        for key in ("panel", "truth", "round"):
            self._put(doc, key)
        return doc

    def _put(self, doc: dict, key: str) -> None:
        value = getattr(self, key)
        if value is not None or key not in _OPTIONAL:
            doc[key] = value

    def json_text(self) -> str:
        """The text of result.json (what ``judgemind score`` writes): :meth:`to_json`, indented, UTF-8 safe, no
        NaN (a non-finite number is written as null), one trailing newline."""
        return json.dumps(clean_json(self.to_json()), indent=2, default=str, allow_nan=False) + "\n"

    def write_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`json_text` to ``path`` atomically (complete or absent); returns the path."""
        path = Path(path)
        atomic_write_text(path, self.json_text())
        return path

    def write_sheet(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write ``result.json``, ``sheet.html`` (the judge sheet) and ``timeline.png`` into ``out_dir`` (made when
        missing; held under its lock while written, so two writers never mix their files), the same bytes as
        ``judgemind score VIDEO --out OUT_DIR``. Returns ``{"result": path, "sheet": path, "timeline": path}``.
        Only a result fresh from :meth:`judgemind.Judge.score <judgemind.api.Judge.score>` carries the frames the
        sheet shows; one read from JSON raises :class:`JudgemindError`."""
        if self._sheet is None:
            raise JudgemindError(
                f"{self.video_name}: this result carries no frames for a judge sheet (it was read from JSON); "
                f"score the video with judgemind.Judge.score to write a sheet, or write result.json alone with "
                f"write_json"
            )
        return self._sheet(self, Path(out_dir))

    def with_sheet(self, writer: Callable[[ScoreResult, Path], dict]) -> ScoreResult:
        """A copy whose :meth:`write_sheet` calls ``writer(result, out_dir)`` (``judgemind.api`` hands in one that
        holds the decoded frames and renders through ``judgemind.report``)."""
        return dataclasses.replace(self, _sheet=writer)

    @classmethod
    def read(cls, path: str | os.PathLike) -> ScoreResult:
        """The result of a ``result.json`` file, checked against the JSON Schema (:func:`validate_result`) first;
        errors name the file and the field."""
        path = Path(path)
        with open_regular(path, "result file") as fh:
            raw = fh.read(MAX_RESULT_BYTES + 1)
        if len(raw) > MAX_RESULT_BYTES:
            raise JudgemindError(f"{path}: over {MAX_RESULT_BYTES >> 20} MB; not a judgemind result.json")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise JudgemindError(f"{path}: not a JSON document ({str(e)[:200] or type(e).__name__})") from None
        validate_result(doc, str(path))
        return cls.from_json(doc, str(path))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str = "result") -> ScoreResult:
        """A result from its JSON document (``result.json``, or the dict ``score_video`` builds). Raises
        :class:`JudgemindError` naming ``where`` and the missing or unknown keys. Field types are checked by
        :func:`validate_result` (the JSON Schema), not here: :meth:`read` does both."""
        if not isinstance(doc, Mapping):
            raise JudgemindError(f"{where}: a score result must be a JSON object, got {type(doc).__name__}")
        fields = [f for f in dataclasses.fields(cls) if not f.name.startswith("_")]
        names = {f.name for f in fields}
        required = {
            f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        unknown, missing = sorted(set(doc) - names), sorted(required - set(doc))
        if unknown or missing:
            raise JudgemindError(
                f"{where}: not a judgemind score result"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
            )
        version = doc.get("schema_version", RESULT_SCHEMA_VERSION)
        if version != RESULT_SCHEMA_VERSION:
            raise JudgemindError(
                f"{where}: schema_version {version!r} is not {RESULT_SCHEMA_VERSION}; score the "
                f"video again with this judgemind version"
            )
        return cls(**dict(doc))

    def with_(self, **changes) -> ScoreResult:
        """A copy with ``changes`` (the result is frozen), e.g. ``res.with_(round={...})``."""
        return dataclasses.replace(self, **changes)


@functools.lru_cache(maxsize=1)
def result_schema() -> dict:
    """The JSON Schema (draft 2020-12) of result.json, read once from :data:`RESULT_SCHEMA_FILE`."""
    return json.loads(RESULT_SCHEMA_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema  # noqa: PLC0415 -- start-up time: only checking a result needs it

    schema = result_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def field_path(path) -> str:
    """``deductions[0].probability`` from a JSON path's parts (``["deductions", 0, "probability"]``)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the document)"


def _message(error) -> str:
    """One line for a schema error: for "any of" rules the alternatives (not the whole document), else the
    validator's message, cut short."""
    import jsonschema  # noqa: PLC0415 -- start-up time: only checking a result needs it

    if error.validator in ("anyOf", "oneOf") and error.context:
        if all(c.validator == "required" for c in error.context):
            return "needs one of: " + " or ".join(sorted({c.message for c in error.context}))
        error = jsonschema.exceptions.best_match(error.context)
    text = error.message
    return text if len(text) <= 300 else text[:297] + "..."


def validate_result(doc: Any, where: str = "result", max_errors: int = 5) -> None:
    """Check a result.json document against the shipped JSON Schema (:func:`result_schema`). Raises
    :class:`JudgemindError` naming ``where`` and, for each of the first ``max_errors`` problems, the field (e.g.
    ``deductions[0].probability``) and what is wrong with it."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    lines = [f"{field_path(e.absolute_path)}: {_message(e)}" for e in errors[:max_errors]]
    more = f" (and {len(errors) - max_errors} more)" if len(errors) > max_errors else ""
    version = doc.get("schema_version") if isinstance(doc, Mapping) else None
    hint = (
        f"; it declares schema_version {version!r}, this judgemind reads {RESULT_SCHEMA_VERSION}"
        if version != RESULT_SCHEMA_VERSION
        else ""
    )
    raise JudgemindError(
        f"{where}: not a valid judgemind result (schema {RESULT_SCHEMA_FILE.name}): " + "; ".join(lines) + more + hint
    )
