"""FineDiving annotations -> FineSkiing records (scoring ``"diving"``).

Reads the annotation pickles of the FineDiving release (with :func:`judgemind.data.safe_pickle.safe_load_pickle`):

- ``FineDiving_coarse_annotation.pkl``: dive number, untrimmed start/end frame, judges' marks, DD, score;
- ``FineDiving_fine-grained_annotation.pkl``: the sub-action label of every frame of the trimmed dive;
- ``Sub_action_Types_Table.pkl``: label id -> name;
- ``train_split.pkl`` / ``test_split.pkl``: the official split (2251 / 749).

One record per ``(video, instance)``:

- ``id`` ``"<video>__<instance>"`` (e.g. ``FINADivingWorldCup2021_Men3m_final_r1__8``; the numeric videos
  ``01``..``26`` are MTL-AQA dives and get the same ids from the MTL-AQA adapter);
- ``video`` ``videos/<video>/<instance>.mp4``, the *trimmed* dive; ``frames`` ``[0, n)`` with ``n`` = the number of
  labelled frames. FineDiving hands out jpg frames (``FINADiving_MTL_256s/<video>/<instance>/*.jpg``, kept in
  ``extra.frames_dir``); encode each such folder into ``videos/<video>/<instance>.mp4`` (frame i of the folder in
  sorted order = frame i of the video). The untrimmed frame range is kept in ``extra.untrimmed_frames``;
- ``stages`` from the labels: take-off = the frames before the first frame whose label is not a take-off group
  (Forward, Back, Reverse, Inward, Arm.*), flight = from there to the first ``Entry`` frame, entry (stored as
  ``landing``) = from the first ``Entry`` frame to the end. 14 dives (all armstand twisters) have no ``Entry``
  label: their entry starts at their last sub-action run (the convention of the TSA/PSNet step labels: start of
  the last category), flagged ``extra.entry_labelled = false``. One dive has a stray label after its first
  ``Entry`` frame (``extra.stage_note``);
- ``judges`` ``{"score": x}`` (7 marks; 3 = already the counted marks; 5 = synchronised events, ``synchro``);
  ``dd``, ``final_score`` = the published ``dive_score`` (never changed), ``action_code`` = dive number;
- ``extra.score_check`` (see :mod:`._diving`) and, when the rules engine disagrees, ``extra.score_mismatch``
  (validation then warns instead of failing). Judges' marks that are not valid diving marks (3 typos) are repaired
  (``45.0`` -> ``4.5``) and the originals kept in ``extra.judge_scores_raw``.

Splits: ``train`` + ``val`` = the official train split, ``test`` = the official test split. ``val`` is the 450
dives of the Spot event-spotting split (``spot_event_labels/val.json`` beside the annotation folder, all of them in
the official train split) when that file is there, else a seeded 20 % of the train split; ``dataset.json``
``extra.val_split`` says which.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from judgemind.data.adapters._diving import (
    STAGE_NAMES,
    check_score,
    dec,
    judge_scores,
    read_official_splits,
    repair_marks,
    sample_fields,
    seeded_val,
)
from judgemind.data.records import DatasetMeta, Record
from judgemind.data.safe_pickle import safe_load_pickle
from judgemind.errors import JudgemindError
from judgemind.rules.names import DEFAULT_FPS, STAGES

COARSE_FILE = "FineDiving_coarse_annotation.pkl"
FINE_FILE = "FineDiving_fine-grained_annotation.pkl"
TYPES_FILE = "Sub_action_Types_Table.pkl"
TRAIN_FILE = "train_split.pkl"
TEST_FILE = "test_split.pkl"
SPOT_VAL = Path("..") / "spot_event_labels" / "val.json"
TAKEOFF_NAMES = frozenset({"Forward", "Back", "Reverse", "Inward", "Arm.Forward", "Arm.Back", "Arm.Reverse"})
ENTRY_NAME = "Entry"
FRAMES_ROOT = "FINADiving_MTL_256s"
# FineDiving does not publish a frame rate (its broadcast sources are 25 fps (PAL) or 29.97/30 fps): DEFAULT_FPS.

AUTO = "auto"


def record_id(video: str, instance: int) -> str:
    return f"{video}__{instance}"


def _sex(video: str) -> str | None:
    if "Women" in video:
        return "W"
    if "Men" in video:
        return "M"
    return None


def _runs(names: list[str]) -> list[tuple[str, int, int]]:
    """Consecutive runs of equal labels as ``(name, start, end)`` (end exclusive)."""
    runs: list[tuple[str, int, int]] = []
    for i, name in enumerate(names):
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1], i + 1)
        else:
            runs.append((name, i, i + 1))
    return runs


def stages_from_labels(names: list[str], where: str) -> tuple[dict[str, tuple[int, int]], dict[str, Any]]:
    """Take-off / flight / entry (stored as ``landing``) from per-frame sub-action names; extra notes for
    irregular labellings. Raises when no three non-empty stages can be formed."""
    n = len(names)
    notes: dict[str, Any] = {}
    t1 = next((i for i, x in enumerate(names) if x not in TAKEOFF_NAMES), None)
    if ENTRY_NAME in names:
        t2 = names.index(ENTRY_NAME)
        if any(x != ENTRY_NAME for x in names[t2:]):
            stray = sorted({x for x in names[t2:] if x != ENTRY_NAME})
            notes["stage_note"] = f"label(s) {', '.join(stray)} after the first Entry frame; entry starts at frame {t2}"
    else:
        last = _runs(names)[-1]
        t2 = last[1]
        notes["entry_labelled"] = False
        notes["stage_note"] = (
            f"no Entry label (last label {last[0]!r}); entry taken as the last sub-action run, frames [{t2}, {n})"
        )
    if t1 is None or not (0 < t1 < t2 < n):
        raise JudgemindError(
            f"{where}: cannot form take-off/flight/entry from the frame labels (first non-take-off "
            f"frame {t1}, entry frame {t2}, {n} frames); check the fine-grained annotation"
        )
    return dict(zip(STAGES, ((0, t1), (t1, t2), (t2, n)))), notes


def _key(k: Any, where: str) -> tuple[str, int]:
    if not (isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], str)):
        raise JudgemindError(f"{where}: expected sample ids (video name, instance), got {k!r}")
    try:
        return k[0], int(k[1])
    except (TypeError, ValueError):
        raise JudgemindError(f"{where}: instance of {k!r} is not an integer") from None


def _field(d: Any, name: str, where: str) -> Any:
    if not isinstance(d, Mapping) or name not in d:
        raise JudgemindError(f"{where}: missing field {name!r}")
    return d[name]


def _read_val_list(path: Path, train_ids: list[str]) -> list[str] | None:
    """Ids of the Spot val list when every entry maps to a distinct train dive, else None."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    train = set(train_ids)
    ids = [e.get("video") if isinstance(e, Mapping) else None for e in entries] if isinstance(entries, list) else []
    if not ids or len(set(ids)) != len(ids) or not all(isinstance(i, str) and i in train for i in ids):
        return None
    chosen = set(ids)
    return [i for i in train_ids if i in chosen]


def _record(video: str, inst: int, coarse: Mapping, fine: Mapping, types: Mapping, src: Path) -> Record:
    where = f"{src / COARSE_FILE}: sample ({video!r}, {inst})"
    rid = record_id(video, inst)
    start, end = int(_field(coarse, "start_frame", where)), int(_field(coarse, "end_frame", where))
    labels = [int(x) for x in _field(fine, "frames_labels", f"{src / FINE_FILE}: sample ({video!r}, {inst})")]
    try:
        names = [str(types[x]) for x in labels]
    except KeyError as e:
        raise JudgemindError(
            f"{src / FINE_FILE}: sample ({video!r}, {inst}): label {e} is not in {TYPES_FILE}"
        ) from None
    n = len(names)
    stages, notes = stages_from_labels(names, f"{src / FINE_FILE}: sample ({video!r}, {inst})")

    raw = [dec(x, f"{where}: judge_scores") for x in _field(coarse, "judge_scores", where)]
    marks, repaired = repair_marks(raw)
    dd = dec(_field(coarse, "difficulty", where), f"{where}: difficulty")
    final = dec(_field(coarse, "dive_score", where), f"{where}: dive_score")
    code = str(_field(coarse, "action_type", where))
    synchro = len(marks) == 5
    if len(marks) not in (3, 5, 7):
        raise JudgemindError(f"{where}: {len(marks)} judge scores (FineDiving has 7, 3 or 5 for synchro)")
    chk = check_score(marks, dd, synchro, final, repaired)

    extra: dict[str, Any] = {
        "source": "FineDiving",
        "source_key": [video, inst],
        "untrimmed_frames": [start, end + 1],
        "frames_dir": f"{FRAMES_ROOT}/{video}/{inst}",
        "sub_actions": [[name, a, b] for name, a, b in _runs(names)],
        "score_check": chk.check,
    }
    if n != end - start + 1:
        extra["length_note"] = f"{n} labelled frames but untrimmed range [{start}, {end}] has {end - start + 1}"
    if chk.reason:
        extra["score_mismatch"] = chk.reason
    if repaired:
        extra["judge_scores_raw"] = [float(v) for v in raw]
    fine_dd, fine_score = fine.get("difficulty"), fine.get("dive_score")
    fwhere = f"{src / FINE_FILE}: sample ({video!r}, {inst})"
    if fine_dd is not None and dec(fine_dd, f"{fwhere}: difficulty") != dd:
        extra["dd_fine_grained"] = float(fine_dd)  # v2 fine file changed one DD; the coarse DD goes with the marks
    if fine_score is not None and dec(fine_score, f"{fwhere}: dive_score") != final:
        extra["score_fine_grained"] = float(fine_score)
    if video.isdigit():
        extra["mtl_aqa_key"] = [int(video), inst]
    extra.update(notes)
    return Record(
        id=rid,
        video=f"videos/{video}/{inst}.mp4",
        frames=(0, n),
        action_code=code,
        dd=dd,
        stages=stages,
        judges=judge_scores(marks),
        final_score=final,
        sex=_sex(video),
        event=video,
        synchro=synchro,
        extra=extra,
    )


def load_finediving(
    annotations_dir: str | os.PathLike, *, val_list: str | os.PathLike | None = AUTO
) -> tuple[DatasetMeta, list[Record]]:
    """Read a FineDiving annotation folder into ``(DatasetMeta, records)`` (records in the file's order).

    ``val_list``: ``"auto"`` (default) uses ``../spot_event_labels/val.json`` beside the folder when it maps onto
    the train split, else a seeded 20 % of the train split; a path requires that file; ``None`` always uses the
    seeded 20 %.
    """
    src = Path(annotations_dir)
    if not src.is_dir():
        raise JudgemindError(
            f"{src}: FineDiving annotation folder does not exist (expected {COARSE_FILE}, "
            f"{FINE_FILE}, {TYPES_FILE}, {TRAIN_FILE}, {TEST_FILE})"
        )
    for f in (COARSE_FILE, FINE_FILE, TYPES_FILE, TRAIN_FILE, TEST_FILE):
        if not (src / f).is_file():
            raise JudgemindError(f"{src}: missing {f}; is this FineDiving's Annotations folder?")
    coarse = safe_load_pickle(src / COARSE_FILE)
    fine = safe_load_pickle(src / FINE_FILE)
    types = safe_load_pickle(src / TYPES_FILE)
    for name, obj in ((COARSE_FILE, coarse), (FINE_FILE, fine), (TYPES_FILE, types)):
        if not isinstance(obj, dict):
            raise JudgemindError(f"{src / name}: expected a dict, got {type(obj).__name__}")

    records = []
    for k, c in coarse.items():
        video, inst = _key(k, str(src / COARSE_FILE))
        if k not in fine:
            raise JudgemindError(f"{src / FINE_FILE}: no sample ({video!r}, {inst}) (it is in {COARSE_FILE})")
        with sample_fields(f"{src / COARSE_FILE}: sample ({video!r}, {inst})"):
            records.append(_record(video, inst, c, fine[k], types, src))
    ids = {r.id for r in records}

    splits = read_official_splits(
        src, (("train", TRAIN_FILE), ("test", TEST_FILE)), lambda k, where: record_id(*_key(k, where)), ids, COARSE_FILE
    )

    val, val_note = None, None
    if val_list == AUTO:
        spot = (src / SPOT_VAL).resolve()
        if spot.is_file():
            val = _read_val_list(spot, splits["train"])
            if val is not None:
                val_note = f"the {len(val)} dives of the Spot event-spotting val split ({spot.name})"
    elif val_list is not None:
        val = _read_val_list(Path(val_list), splits["train"])
        if val is None:
            raise JudgemindError(
                f"{val_list}: not a list of {{'video': '<video>__<instance>'}} entries that all "
                f"name distinct dives of the train split"
            )
        val_note = f"the {len(val)} dives listed in {Path(val_list).name}"
    if val is None:
        val = seeded_val(splits["train"])
        val_note = f"a seeded 20 % of the official train split ({len(val)} dives, seed 0)"
    chosen = set(val)
    splits = {"train": [i for i in splits["train"] if i not in chosen], "val": val, "test": splits["test"]}

    meta = DatasetMeta(
        name="FineDiving",
        fps=DEFAULT_FPS,
        splits={k: tuple(v) for k, v in splits.items()},
        scoring="diving",
        stage_names=STAGE_NAMES,
        synthetic=False,
        source=f"FineDiving annotations ({src.name}): Xu et al., CVPR 2022",
        description="FineDiving dives converted by judgemind's FineDiving adapter; videos are not included "
        "(encode FINADiving_MTL_256s/<video>/<instance>/ jpgs to videos/<video>/<instance>.mp4).",
        extra={
            "adapter": "finediving",
            "val_split": val_note,
            "official_splits": "train + val = FineDiving train_split.pkl; test = test_split.pkl",
            "fps_note": "FineDiving publishes no frame rate; 25 fps is nominal",
            "video_note": f"trimmed dives; frames of {FRAMES_ROOT}/<video>/<instance>/ in sorted order",
        },
    )
    return meta, records
