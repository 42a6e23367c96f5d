"""Changing a data set one record at a time (the annotate page of ``judgemind serve``): a record is validated by the
same rules as ``judgemind data validate`` and appended to (or replaces its old line in) ``annotations.jsonl``,
under the data set's lock, atomically.

    rec = save_record("data/mine", record_dict, split="train", base=None)   # a new record
    rec = save_record("data/mine", record_dict, split="train", base=line_hash(old_line))   # a correction

Every writer that changes a data set in place holds :func:`dataset_lock` while it reads and rewrites the files, so
two savers (two browser tabs, two servers) never lose each other's records: the second one re-reads what the first
wrote. The other records' lines are kept byte for byte; ``dataset.json`` changes only in its ``splits``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from judgemind.data.dataset import ANNOTATIONS_FILE, DATASET_FILE, dumps_record, read_meta, read_numbered_records
from judgemind.data.records import Problem, Record, record_from_dict
from judgemind.data.validate import validate_record
from judgemind.errors import JudgemindError, ValidationError
from judgemind.rules import load_catalogue
from judgemind.utils.atomic import atomic_write_bytes, atomic_write_text
from judgemind.utils.lock import FileLock

DATASET_LOCK = ".judgemind-data.lock"  # held by every writer that changes a data set in place


class EditConflict(JudgemindError):
    """The stored record changed since the editor opened it (another tab or another person saved it)."""


def dataset_lock(root: str | os.PathLike) -> FileLock:
    """The data set's writer lock (blocking: a second saver waits for the first)."""
    return FileLock(Path(root) / DATASET_LOCK, blocking=True, what=f"data set {root}")


def line_hash(line: str | None) -> str:
    """What an editor remembers of the record it opened: the sha256 of its stored line ('' for a new record)."""
    return "" if line is None else hashlib.sha256(line.rstrip("\n").encode("utf-8")).hexdigest()


def stored_lines(root: str | os.PathLike) -> dict[str, str]:
    """``{record id: its line in annotations.jsonl}`` (lines that do not parse are left out)."""
    path = Path(root) / ANNOTATIONS_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    numbered, _ = read_numbered_records(root)
    return {rec.id: lines[n - 1] for n, rec in numbered}


def save_record(
    root: str | os.PathLike,
    fields: Mapping[str, Any],
    *,
    split: str | None,
    base: str | None,
    video_frames: int | None = None,
    before_write: Callable[[], None] | None = None,
) -> Record:
    """Validate ``fields`` (one record as its JSON line holds it; numbers may be ``Decimal``) and store it.

    ``base``: :func:`line_hash` of the stored line the edit started from (``''`` or None: a new record, whose id
    must be free). ``split``: the split the record belongs to afterwards (removed from the others; None: in no
    split). ``video_frames``: the video's frame count, so that frames past its end are refused. ``before_write``:
    called under the lock once the record is valid, before anything is written (e.g. to copy its video in). Raises
    :class:`ValidationError` listing every problem (nothing written), :class:`EditConflict` when the stored record
    is not the one the edit started from. Returns the stored record."""

    root = Path(root)
    afile = str(root / ANNOTATIONS_FILE)
    rec, probs = record_from_dict(dict(fields), afile)
    with dataset_lock(root):
        meta, mprobs = read_meta(root)
        if meta is None:
            raise ValidationError(f"{root}: {DATASET_FILE} cannot be read", mprobs)
        if split is not None and split not in meta.splits:
            probs.append(
                Problem(
                    str(root / DATASET_FILE),
                    f"no split {split!r} (splits: {', '.join(meta.splits)})",
                    field="splits",
                    rule="splits",
                )
            )
        numbered, rprobs = read_numbered_records(root)
        if rprobs:
            raise ValidationError(
                f"{afile} has problems of its own; fix them (`judgemind data validate {root}`) before saving", rprobs
            )
        if rec is not None:
            catalogue = load_catalogue() if meta.scoring.startswith("aerials") else None
            probs += validate_record(rec, meta, root, afile, None, video_frames, catalogue)
        errors = [p for p in probs if p.level == "error"]
        if errors:
            raise ValidationError(f"record {fields.get('id')!r} was not saved: {len(errors)} problem(s)", errors)
        assert rec is not None
        path = root / ANNOTATIONS_FILE
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        at = next((n - 1 for n, r in numbered if r.id == rec.id), None)
        now = line_hash(lines[at] if at is not None else None)
        if (base or "") != now:
            raise EditConflict(
                f"record {rec.id!r} "
                + ("was saved by someone else" if at is not None else "was deleted")
                + " since this editor opened it"
                + ("" if base else " (the id is taken: choose another id, or open the record to correct it)")
                + "; nothing was saved: reload to see the stored record"
            )
        if before_write is not None:
            before_write()
        line = dumps_record(rec)
        if at is None:
            lines.append(line)
        else:
            lines[at] = line
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
        _set_split(root, rec.id, split)
    return rec


def _set_split(root: Path, rid: str, split: str | None) -> None:
    """Put ``rid`` into ``split`` only (dataset.json's other keys and layout kept as they are)."""
    path = root / DATASET_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    splits = doc.get("splits", {})
    changed = False
    for name, ids in splits.items():
        want = name == split
        if (rid in ids) != want:
            splits[name] = [i for i in ids if i != rid] + ([rid] if want else [])
            changed = True
    if changed:
        atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
