"""Changing a data set one record at a time (the annotate page of ``judgemind serve``): a new record is appended by
:func:`judgemind.data.append.append_records`; a corrected one replaces its own line in ``annotations.jsonl``.
Both are validated by the rules of ``judgemind data validate`` and written under the data set's lock
(:func:`judgemind.data.append.dataset_lock`), atomically.

    rec = save_record("data/mine", record_dict, split="train", base="")                   # a new record
    rec = save_record("data/mine", record_dict, split="train", base=line_hash(old_line))  # a correction

A correction names the stored line it started from (``base``): when someone else saved the record meanwhile (another
tab, another server), the save is refused instead of silently undoing theirs. The other records' lines are kept
byte for byte; ``dataset.json`` changes only in its ``splits``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from judgemind.data.append import append_records, dataset_lock
from judgemind.data.dataset import (
    ANNOTATIONS_FILE,
    DATASET_FILE,
    dumps_record,
    read_meta,
    read_numbered_records,
    write_meta,
)
from judgemind.data.records import Problem, Record, record_from_dict
from judgemind.data.validate import validate_record
from judgemind.errors import JudgemindError, ValidationError
from judgemind.rules import load_catalogue
from judgemind.utils.atomic import atomic_write_bytes


class EditConflict(JudgemindError):
    """The stored record changed since the editor opened it (another tab or another person saved it)."""


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
    videos: Mapping[str, str | os.PathLike] | None = None,
) -> Record:
    """Validate ``fields`` (one record as its JSON line holds it; numbers may be ``Decimal``) and store it.

    ``base``: :func:`line_hash` of the stored line a correction started from; ``''`` or None: a new record, whose
    id must be free (appended by :func:`~judgemind.data.append.append_records`, which copies ``videos`` ``{path in
    the data set: file}`` in). ``split``: the split the record belongs to afterwards (None: in no split; a
    correction is removed from its other splits). ``video_frames``: the video's frame count, so that frames past
    its end are refused (a correction; a new record's video is probed). Raises :class:`ValidationError` listing
    every problem (nothing written), :class:`EditConflict` when the stored record is not the one the correction
    started from. Returns the stored record."""

    root = Path(root)
    afile = str(root / ANNOTATIONS_FILE)
    # parsed first, so that the line written holds numbers as the record writer writes them ("0.4" typed -> 0.4)
    rec, probs = record_from_dict(json.loads(dumps_record(fields), parse_float=Decimal), afile)
    if not base:
        return append_records(root, [rec if rec is not None else fields], split=split, videos=videos)[0]
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
        lines = path.read_text(encoding="utf-8").splitlines()
        at = next((n - 1 for n, r in numbered if r.id == rec.id), None)
        if at is None or line_hash(lines[at]) != base:
            raise EditConflict(
                f"record {rec.id!r} was "
                + ("deleted" if at is None else "saved by someone else")
                + " since this editor opened it; nothing was saved: reload to see the stored record"
            )
        lines[at] = dumps_record(rec)
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
        splits = {k: _in_split(tuple(v), rec.id, k == split) for k, v in meta.splits.items()}
        if splits != {k: tuple(v) for k, v in meta.splits.items()}:
            write_meta(root, dataclasses.replace(meta, splits=splits))
    return rec


def _in_split(ids: tuple[str, ...], rid: str, want: bool) -> tuple[str, ...]:
    """A split's ids with ``rid`` in it (appended when missing) or out of it; unchanged when already so."""
    if (rid in ids) == want:
        return ids
    return ids + (rid,) if want else tuple(i for i in ids if i != rid)
