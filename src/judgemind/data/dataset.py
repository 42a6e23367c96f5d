"""FineSkiing dataset folders: read and write ``dataset.json`` + ``annotations.jsonl``, the :class:`Dataset` type.

    for rec in ds.split("train"): ...
    write_dataset("out", meta, records)     # atomic: both files appear complete or not at all

Loading *with* validation is :func:`judgemind.data.validate.load_dataset` (also ``judgemind.data.load_dataset``);
this module only parses (:func:`read_meta`, :func:`read_records`) and knows nothing of the rules.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from judgemind.data.records import (
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    DatasetMeta,
    Problem,
    Record,
    record_from_dict,
)
from judgemind.data.skeleton import layout_from_dict
from judgemind.errors import JudgemindError
from judgemind.rules.names import SCORING_FORMATS, STAGE_LABELS
from judgemind.utils.atomic import atomic_path, atomic_write_text

DATASET_FILE = "dataset.json"
MAX_FPS = 1000.0  # frames per second; high-speed cameras stay below
ANNOTATIONS_FILE = "annotations.jsonl"


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: its folder, ``dataset.json`` and the records in file order."""

    root: Path
    meta: DatasetMeta
    records: tuple[Record, ...]

    def __post_init__(self):
        object.__setattr__(self, "_by_id", {r.id: r for r in self.records})

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def get(self, record_id: str) -> Record:
        try:
            return self._by_id[record_id]  # type: ignore[attr-defined]
        except KeyError:
            raise JudgemindError(f"{self.root}: no record with id {record_id!r}") from None

    def split(self, name: str) -> list[Record]:
        """Records of a split, in the split list's order. Unknown or empty split -> error."""
        if name == "all":
            return list(self.records)
        if name not in self.meta.splits:
            raise JudgemindError(
                f"{self.root / DATASET_FILE}: no split {name!r} (splits: {', '.join(self.meta.splits) or 'none'})"
            )
        ids = self.meta.splits[name]
        if not ids:
            raise JudgemindError(f"{self.root / DATASET_FILE}: split {name!r} is empty")
        return [self.get(i) for i in ids]

    def video_path(self, rec: Record) -> Path:
        return self.root / rec.video


def _json_default(o: Any):
    if isinstance(o, Decimal):
        # Shortest exact decimal text: 4.425 stays 4.425, 118.10 -> 118.1
        return float(o) if o == Decimal(repr(float(o))) else str(o)
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


def dumps_record(rec: Record | Mapping) -> str:
    d = rec.to_dict() if isinstance(rec, Record) else rec
    return json.dumps(d, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def read_meta(root: str | os.PathLike) -> tuple[DatasetMeta | None, list[Problem]]:
    root = Path(root)
    path = root / DATASET_FILE
    f = str(path)
    if not root.is_dir():
        return None, [Problem(str(root), "dataset folder does not exist", rule="exists")]
    if not path.is_file():
        return None, [Problem(f, f"missing {DATASET_FILE} (is {root} a FineSkiing dataset folder?)", rule="exists")]
    try:
        d = _loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError) as e:
        # ValueError: an integer of more than 4300 digits; RecursionError: nesting too deep
        return None, [Problem(f, f"not valid JSON: {str(e)[:200] or type(e).__name__}", rule="json")]
    probs: list[Problem] = []
    if not isinstance(d, dict):
        return None, [Problem(f, "expected a JSON object", rule="type")]
    for k in ("name", "fps", "splits"):
        if k not in d:
            probs.append(Problem(f, "missing required field", field=k, rule="required"))
    if probs:
        return None, probs
    version = d.get("schema_version", 1)
    if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
        probs.append(
            Problem(
                f,
                f"schema version {version!r} is not supported (this judgemind reads versions "
                f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))})",
                field="schema_version",
                rule="version",
            )
        )
        version = SCHEMA_VERSION
    skeleton = None
    if d.get("skeleton") is not None:
        skeleton, why = layout_from_dict(d["skeleton"])
        if why:
            probs.append(Problem(f, why, field="skeleton", rule="skeleton"))
        elif version < 2:
            probs.append(Problem(f, "skeletons need schema_version 2", field="schema_version", rule="version"))
    try:
        if isinstance(d["fps"], (bool, str)):
            raise TypeError
        fps = float(d["fps"])
        if not 0 < fps <= MAX_FPS:  # also refuses NaN and Infinity (1e999), which JSON cannot hold
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        probs.append(
            Problem(f, f"fps must be a number in (0, {MAX_FPS:g}], got {str(d['fps'])[:40]}", field="fps", rule="type")
        )
        fps = 0.0
    scoring = d.get("scoring", "aerials5")
    if scoring not in SCORING_FORMATS:
        probs.append(
            Problem(
                f, f"unknown scoring {scoring!r} (one of {', '.join(SCORING_FORMATS)})", field="scoring", rule="schema"
            )
        )
    stage_names = d.get("stage_names", list(STAGE_LABELS))
    if not (isinstance(stage_names, list) and len(stage_names) == 3 and all(isinstance(x, str) for x in stage_names)):
        probs.append(
            Problem(
                f,
                f"stage_names must be a list of 3 display names (take-off, flight, landing), got {stage_names!r}",
                field="stage_names",
                rule="type",
            )
        )
    splits = d["splits"]
    if not isinstance(splits, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in splits.values()
    ):
        probs.append(Problem(f, "splits must map split names to lists of record ids", field="splits", rule="type"))
        splits = {}
    if probs:
        return None, probs
    meta = DatasetMeta(
        name=str(d["name"]),
        fps=fps,
        splits={k: tuple(v) for k, v in splits.items()},
        scoring=scoring,
        stage_names=tuple(stage_names),
        catalogue_version=str(d.get("catalogue_version", "1")),
        schema_version=int(version),
        synthetic=bool(d.get("synthetic", False)),
        source=str(d.get("source", "")),
        description=str(d.get("description", "")),
        extra=d.get("extra") or {},
        skeleton=skeleton,
    )
    return meta, []


def read_records(root: str | os.PathLike) -> tuple[list[Record], list[Problem]]:
    """Parse every line of ``annotations.jsonl``; returns the good records and every structural problem."""
    numbered, problems = read_numbered_records(root)
    return [rec for _, rec in numbered], problems


def read_numbered_records(root: str | os.PathLike) -> tuple[list[tuple[int, Record]], list[Problem]]:
    """Like :func:`read_records`, with each record's line number in ``annotations.jsonl`` (from 1)."""
    path = Path(root) / ANNOTATIONS_FILE
    f = str(path)
    if not path.is_file():
        return [], [Problem(f, f"missing {ANNOTATIONS_FILE}", rule="exists")]
    records: list[tuple[int, Record]] = []
    problems: list[Problem] = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(
                    Problem(f, f"line is not UTF-8 text ({e.reason} at byte {e.start})", line=lineno, rule="json")
                )
                continue
            if not line.strip():
                continue
            try:
                d = _loads(line)
            except (json.JSONDecodeError, RecursionError, ValueError) as e:
                why = (
                    f"{e.msg} at column {e.colno}"
                    if isinstance(e, json.JSONDecodeError)
                    else "nested too deeply"
                    if isinstance(e, RecursionError)
                    else str(e)[:200]
                )
                problems.append(Problem(f, f"malformed JSON line: {why}", line=lineno, rule="json"))
                continue
            rec, probs = record_from_dict(d, f, lineno)
            problems.extend(probs)
            if rec is not None:
                records.append((lineno, rec))
    return records, problems


def write_dataset(root: str | os.PathLike, meta: DatasetMeta, records: Iterable[Record | Mapping]) -> None:
    """Write ``dataset.json`` and ``annotations.jsonl`` atomically (each file complete or absent).

    ``annotations.jsonl`` is written first so that a folder with a ``dataset.json`` always has its records.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with atomic_path(root / ANNOTATIONS_FILE) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(dumps_record(rec) + "\n")
    write_meta(root, meta)


def write_meta(root: str | os.PathLike, meta: DatasetMeta) -> None:
    """Write ``dataset.json`` atomically."""
    atomic_write_text(Path(root) / DATASET_FILE, json.dumps(meta.to_dict(), indent=2, default=_json_default) + "\n")
