"""Adding jumps to a FineSkiing data set while others may be adding too: :func:`append_records`.

    append_records("data/mine", [record_dict, ...], split="train", videos={"videos/j1.mp4": "/footage/j1.mp4"})

Everything happens under the data set's lock (:func:`dataset_lock`, ``DATASET/.dataset.lock``; a writer waits for
the one before it, so two writers lose nothing): the data set is read (``dataset.json``, every record id), each new
record is written to its JSON line and parsed back from it, then checked by the validator of ``judgemind data
validate`` (:func:`judgemind.data.validate.validate_record`: schema, rules, final score, catalogue, its video's
length), ids must be new; only then are the videos copied in (atomically; a file already there with the same
content is kept), ``annotations.jsonl`` rewritten with the new lines appended and ``dataset.json`` with the new ids
in ``split`` (each file atomically, in that order, so a crash between them leaves records in no split, never a split
naming a missing record). A record that fails writes nothing at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Mapping, Sequence

from judgemind.data.dataset import (
    ANNOTATIONS_FILE,
    DATASET_FILE,
    dumps_record,
    read_meta,
    read_numbered_records,
    write_meta,
)
from judgemind.data.records import DatasetMeta, Problem, Record, record_from_dict
from judgemind.data.validate import validate_record
from judgemind.errors import JudgemindError, ValidationError
from judgemind.rules import load_catalogue
from judgemind.utils import display_text
from judgemind.utils.atomic import atomic_path, atomic_write_text, sha256_file
from judgemind.utils.lock import FileLock
from judgemind.video.probe import probe_video

DATASET_LOCK = ".dataset.lock"  # held by every writer of a data set's annotations (hidden: loaders skip it)


def dataset_lock(root: str | os.PathLike, blocking: bool = True) -> FileLock:
    """The exclusive lock of the data set at ``root`` (``root/.dataset.lock``): writers of ``annotations.jsonl``
    and ``dataset.json`` hold it; ``blocking``: wait for the writer before (else :class:`LockBusy`)."""
    return FileLock(Path(root) / DATASET_LOCK, blocking=blocking, what=f"data set {root}")


def _video_frames(path: Path, rec: Record, file: str, line: int, problems: list[Problem]) -> int | None:
    """The number of frames of a record's video (``path``: where it is now), or None and a problem."""
    if not path.is_file():
        problems.append(
            Problem(file, f"video file {display_text(path)} does not exist", rec.id, "video", line, "video")
        )
        return None
    try:
        return probe_video(path).n_frames
    except JudgemindError as e:
        problems.append(Problem(file, str(e), rec.id, "video", line, "video"))
        return None


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b)


def append_records(
    root: str | os.PathLike,
    records: Sequence[Mapping | Record],
    *,
    split: str | None = "train",
    meta: DatasetMeta | None = None,
    videos: Mapping[str, str | os.PathLike] | None = None,
) -> list[Record]:
    """Append ``records`` (dicts in the annotation layout, or :class:`Record`) to the data set at ``root`` and list
    their ids in ``split`` (None: in no split); see the module docstring. ``meta``: the ``dataset.json`` of a data
    set that does not exist yet (ignored when it does). ``videos``: ``{path in the data set: file}`` to copy in
    (a record's video that is not copied must already be in the data set). Returns the records as parsed back from
    their lines. Raises :class:`ValidationError` (every problem, with its record and field) or
    :class:`JudgemindError`; nothing is written then."""
    root = Path(root)
    videos = {str(k): Path(v) for k, v in (videos or {}).items()}
    if root.exists() and not root.is_dir():
        raise JudgemindError(f"{root} exists and is not a folder; give a data set folder")
    if not records:
        raise JudgemindError(f"{root}: no records to add")
    root.mkdir(parents=True, exist_ok=True)
    with dataset_lock(root):
        meta, ids, old = _read_for_append(root, meta)
        afile = str(root / ANNOTATIONS_FILE)
        lines, parsed, problems = [], [], []
        catalogue = load_catalogue() if meta.scoring.startswith("aerials") else None
        first = len(old.splitlines()) + 1
        for k, raw in enumerate(records):
            line = dumps_record(raw)
            rec, probs = record_from_dict(json.loads(line, parse_float=Decimal), afile, first + k)
            problems += probs
            if rec is None:
                continue
            if rec.id in ids:
                problems.append(
                    Problem(
                        afile,
                        "a record with this id is already in the data set; give the new one another id",
                        rec.id,
                        "id",
                        first + k,
                        "unique",
                    )
                )
                continue
            ids.add(rec.id)
            frames = _video_frames(videos.get(rec.video, root / rec.video), rec, afile, first + k, problems)
            problems += validate_record(rec, meta, root, afile, first + k, frames, catalogue)
            lines.append(line)
            parsed.append(rec)
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise ValidationError(f"{root}: {len(errors)} problem(s) in the new records, nothing was added", errors)
        copies = [(rel, src) for rel, src in videos.items() if _needs_copy(root, rel, src)]  # all checked first
        for rel, src in copies:
            with atomic_path(root / rel) as tmp:
                shutil.copyfile(src, tmp)
        text = old + ("" if not old or old.endswith("\n") else "\n") + "".join(x + "\n" for x in lines)
        atomic_write_text(root / ANNOTATIONS_FILE, text)
        if split is not None:
            splits = dict(meta.splits)
            splits[split] = (*splits.get(split, ()), *(r.id for r in parsed))
            meta = dataclasses.replace(meta, splits=splits)
        if split is not None or not (root / DATASET_FILE).is_file():
            write_meta(root, meta)
    return parsed


def _read_for_append(root: Path, meta: DatasetMeta | None) -> tuple[DatasetMeta, set[str], str]:
    """(meta, ids, annotations text) of the data set at ``root``, or of a new one made with ``meta``."""
    if not (root / DATASET_FILE).is_file():
        if (root / ANNOTATIONS_FILE).exists():
            raise JudgemindError(
                f"{root} has {ANNOTATIONS_FILE} but no {DATASET_FILE}; it is not a FineSkiing data set folder"
            )
        if meta is None:
            raise JudgemindError(f"{root} is not a FineSkiing data set (no {DATASET_FILE})")
        return meta, set(), ""
    found, problems = read_meta(root)
    if found is None:
        raise ValidationError(
            f"{root / DATASET_FILE}: cannot be read ({'; '.join(p.message for p in problems)}); fix it first "
            f"(`judgemind data validate {root}`)",
            problems,
        )
    numbered, problems = read_numbered_records(root)
    bad = [p for p in problems if p.level == "error"]
    if bad:
        raise ValidationError(
            f"{root / ANNOTATIONS_FILE}: {len(bad)} line(s) cannot be read (first: {bad[0]}); fix them before "
            f"adding records (`judgemind data validate {root}`)",
            bad,
        )
    text = (root / ANNOTATIONS_FILE).read_text(encoding="utf-8") if (root / ANNOTATIONS_FILE).is_file() else ""
    return found, {rec.id for _, rec in numbered}, text


def _needs_copy(root: Path, rel: str, src: Path) -> bool:
    """Whether ``src`` must be copied to ``root/rel``: False when the same content is there already; an error when
    other content is."""
    dest = root / rel
    if not (dest.exists() or dest.is_symlink()):
        return True
    if dest.is_file() and _same_file(dest, src):
        return False
    raise JudgemindError(
        f"{display_text(dest)} exists with other content than {display_text(src)}; rename the video or remove the "
        f"file from the data set; nothing was added"
    )
