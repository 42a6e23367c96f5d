"""The scored jump: :class:`ScoreResult`, the one typed, frozen result that ``judgemind.infer.score_video`` returns,
``judgemind.report`` renders and ``judgemind.cli`` prints, and whose :meth:`~ScoreResult.to_json` is what
``result.json`` holds (read back with :meth:`~ScoreResult.from_json`).

The values keep their JSON form (marks and scores as exact decimal strings, frames as lists), so a result read from
``result.json`` equals the one that was written. Keys that only some results carry (components of a model that has
none, the demo's ``truth``, a round's ``round``) are ``None`` here and absent from the JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from judgemind.errors import JudgemindError

__all__ = ["ScoreResult", "RESULT_SCHEMA_VERSION"]

RESULT_SCHEMA_VERSION = 1

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
    """One scored jump; the fields in result.json's order (the optional ones last)."""

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

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str = "result") -> ScoreResult:
        """A result from its JSON document (``result.json``, or the dict ``score_video`` builds). Raises
        :class:`JudgemindError` naming ``where`` and the missing or unknown keys."""
        if not isinstance(doc, Mapping):
            raise JudgemindError(f"{where}: a score result must be a JSON object, got {type(doc).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
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
