"""MTL-AQA annotations -> FineSkiing records (scoring ``"diving"``).

Reads, from one folder (CoRe's ``info`` folder as copied to ``MTL-AQA/CoRe_info``), with the safe unpickler:

- ``final_annotations_dict_with_dive_number.pkl``: per ``(video, dive)``: untrimmed start/end frame, DD, 7 judges'
  marks, final score, dive number, and the official annotation's position / armstand / rotation type / number of
  half somersaults and half twists (kept in ``extra``);
- ``train_split_0.pkl`` / ``test_split_0.pkl``: the official split (1059 / 353).

One record per dive: ``id`` ``"<video:02d>__<dive>"`` (the id FineDiving uses for the same dive), ``video``
``videos/<video:02d>/<dive>.mp4`` holding the trimmed dive (untrimmed frames ``start..end`` inclusive, kept in
``extra.untrimmed_frames`` as ``[start, end + 1)``), ``frames`` ``[0, end - start + 1)``.

**Stages are not annotated in MTL-AQA.** The records still carry valid stages so that every loader and model can
treat all datasets alike, but they are *nominal*: take-off = the first 29 %, flight up to 64 %, entry (stored as
``landing``) the rest -- FineDiving's mean boundaries. Every record has ``extra.stages_known = false``
(:attr:`judgemind.data.Record.stages_known`) and ``dataset.json`` ``extra.stages_known = false``: do not train or
evaluate stage segmentation on them.

Splits: ``train`` + ``val`` = the official train split (``val`` a seeded 20 %, seed 0), ``test`` = official test.
"""

from __future__ import annotations

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

ANNOTATIONS_FILE = "final_annotations_dict_with_dive_number.pkl"
TRAIN_FILE = "train_split_0.pkl"
TEST_FILE = "test_split_0.pkl"
NOMINAL_STAGE_FRACTIONS = (0.29, 0.64)  # FineDiving's mean take-off end / entry start, as a share of the dive
EXTRA_FIELDS = ("position", "armstand", "rotation_type", "ss_no", "tw_no", "primary_view")


def record_id(video: int, dive: int) -> str:
    return f"{video:02d}__{dive}"


def nominal_stages(n: int) -> dict[str, tuple[int, int]]:
    """Three non-empty stages over ``[0, n)`` at FineDiving's mean boundaries (needs ``n >= 3``)."""
    f1, f2 = NOMINAL_STAGE_FRACTIONS
    t1 = min(max(1, round(f1 * n)), n - 2)
    t2 = min(max(t1 + 1, round(f2 * n)), n - 1)
    return dict(zip(STAGES, ((0, t1), (t1, t2), (t2, n))))


def _key(k: Any, where: str) -> tuple[int, int]:
    try:
        if isinstance(k, tuple) and len(k) == 2:
            return int(k[0]), int(k[1])
    except (TypeError, ValueError):
        pass
    raise JudgemindError(f"{where}: expected sample ids (video number, dive number), got {k!r}")


def _record(key: tuple[int, int], d: Mapping, src: Path) -> Record:
    video, dive = key
    where = f"{src / ANNOTATIONS_FILE}: sample ({video}, {dive})"
    for f in ("start_frame", "end_frame", "difficulty", "judge_scores", "final_score", "dive_number"):
        if f not in d:
            raise JudgemindError(f"{where}: missing field {f!r}")
    start, end = int(d["start_frame"]), int(d["end_frame"])
    n = end - start + 1
    if n < 3:
        raise JudgemindError(f"{where}: start_frame {start} / end_frame {end} leave fewer than 3 frames")
    raw = [dec(x, f"{where}: judge_scores") for x in d["judge_scores"]]
    if len(raw) != 7:
        raise JudgemindError(f"{where}: {len(raw)} judge scores (MTL-AQA has 7)")
    marks, repaired = repair_marks(raw)
    dd = dec(d["difficulty"], f"{where}: difficulty")
    final = dec(d["final_score"], f"{where}: final_score")
    chk = check_score(marks, dd, False, final, repaired)
    extra: dict[str, Any] = {
        "source": "MTL-AQA",
        "source_key": [video, dive],
        "untrimmed_frames": [start, end + 1],
        "stages_known": False,
        "stage_note": "MTL-AQA has no stage labels; stages are nominal (29 % / 64 % of the dive)",
        "score_check": chk.check,
    }
    for f in EXTRA_FIELDS:
        if f in d:
            extra[f] = int(d[f])
    if chk.reason:
        extra["score_mismatch"] = chk.reason
    if repaired:
        extra["judge_scores_raw"] = [float(v) for v in raw]
    return Record(
        id=record_id(video, dive),
        video=f"videos/{video:02d}/{dive}.mp4",
        frames=(0, n),
        action_code=str(d["dive_number"]),
        dd=dd,
        stages=nominal_stages(n),
        judges=judge_scores(marks),
        final_score=final,
        event=f"MTL-AQA video {video:02d}",
        extra=extra,
    )


def load_mtl_aqa(info_dir: str | os.PathLike) -> tuple[DatasetMeta, list[Record]]:
    """Read an MTL-AQA annotation folder (CoRe's ``info``) into ``(DatasetMeta, records)``."""
    src = Path(info_dir)
    if not src.is_dir():
        raise JudgemindError(
            f"{src}: MTL-AQA annotation folder does not exist (expected {ANNOTATIONS_FILE}, "
            f"{TRAIN_FILE}, {TEST_FILE}, e.g. MTL-AQA/CoRe_info)"
        )
    for f in (ANNOTATIONS_FILE, TRAIN_FILE, TEST_FILE):
        if not (src / f).is_file():
            raise JudgemindError(f"{src}: missing {f}; point at the folder holding CoRe's MTL-AQA info files")
    ann = safe_load_pickle(src / ANNOTATIONS_FILE)
    if not isinstance(ann, dict):
        raise JudgemindError(f"{src / ANNOTATIONS_FILE}: expected a dict, got {type(ann).__name__}")
    records = []
    for k, d in ann.items():
        key = _key(k, str(src / ANNOTATIONS_FILE))
        if not isinstance(d, Mapping):
            raise JudgemindError(f"{src / ANNOTATIONS_FILE}: sample {key}: expected a dict of fields")
        with sample_fields(f"{src / ANNOTATIONS_FILE}: sample {key}"):
            records.append(_record(key, d, src))
    ids = {r.id for r in records}
    splits = read_official_splits(
        src,
        (("train", TRAIN_FILE), ("test", TEST_FILE)),
        lambda k, where: record_id(*_key(k, where)),
        ids,
        ANNOTATIONS_FILE,
    )
    val = seeded_val(splits["train"])
    chosen = set(val)
    splits = {"train": [i for i in splits["train"] if i not in chosen], "val": val, "test": splits["test"]}
    meta = DatasetMeta(
        name="MTL-AQA",
        fps=DEFAULT_FPS,
        splits={k: tuple(v) for k, v in splits.items()},
        scoring="diving",
        stage_names=STAGE_NAMES,
        synthetic=False,
        source="MTL-AQA annotations (CoRe's final_annotations_dict_with_dive_number.pkl): Parmar & Morris, CVPR 2019",
        description="MTL-AQA dives converted by judgemind's MTL-AQA adapter; videos are not included. Stages are "
        "nominal (not annotated).",
        extra={
            "adapter": "mtl-aqa",
            "stages_known": False,
            "val_split": f"a seeded 20 % of the official train split ({len(val)} dives, seed 0)",
            "official_splits": "train + val = train_split_0.pkl; test = test_split_0.pkl",
            "fps_note": "nominal; the source videos' frame rate is not recorded in the annotations",
            "overlap_note": "1369 FineDiving dives are MTL-AQA dives with the same ids; 249 FineDiving test "
            "dives are MTL-AQA train dives: never pre-train on MTL-AQA and test on FineDiving",
        },
    )
    return meta, records
