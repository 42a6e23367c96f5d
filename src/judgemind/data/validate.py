"""Whole-dataset validation: every rule of the FineSkiing schema, every problem reported with its place.

Rules checked per record (``rule`` tag in brackets): required fields and types [schema/type/required], unique ids
[unique], video path inside the dataset root [path], frames and stages inside the video, stages contiguous and in
order [interval, order, video], jump code parseable [action_code], DD range [dd], judge count and mark
ranges/steps [marks], landing caps implied by the deductions [cap], deduction items known to the catalogue and in their
stage [catalogue],
final score = rules engine(judges, DD) [final_score]; per dataset: splits name existing records, disjoint [splits],
not empty [empty].

    ds = load_dataset("data/synth")          # validates; raises ValidationError listing every problem

A record may declare a known disagreement between its published score and the rules (real-world data has them,
e.g. FineDiving) with ``extra.score_mismatch`` = reason; it is then reported as a warning, not an error.
"""

from __future__ import annotations

import difflib
import os
import re
from decimal import Decimal
from pathlib import Path

from judgemind import rules
from judgemind.data.dataset import ANNOTATIONS_FILE, DATASET_FILE, Dataset, read_meta, read_numbered_records
from judgemind.data.records import DatasetMeta, Problem, Record
from judgemind.data.skeleton import check_array, read_array
from judgemind.errors import JudgemindError, ValidationError
from judgemind.rules import check_mark, final_score_matches, load_catalogue, parse_jump_code
from judgemind.rules.names import COMPONENT_RANGES, COMPONENTS, STAGES
from judgemind.rules.scoring import DIVING_RANGE, DIVING_STEP, LEGACY_AIR_FORM_RANGE, MARK_STEP
from judgemind.video.probe import probe_video

DIVE_NUMBER = re.compile(r"^[1-6]\d{2,3}[a-dA-D]$")


def _path_inside(root: Path, rel: str) -> bool:
    if os.path.isabs(rel) or rel.startswith("~"):
        return False
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, rel))
    return target == base or target.startswith(base + os.sep)


def _check_marks(rec: Record, scoring: str, add) -> bool:

    ok = True
    js = rec.judges
    if scoring == "aerials5":
        if len(js) != 5:
            add("judges", f"the current aerials format has 5 judges, found {len(js)}", "marks")
            return False
        for i, j in enumerate(js):
            for c in COMPONENTS:
                v = getattr(j, c)
                if v is None:
                    add(f"judges[{i}].{c}", "missing mark", "marks")
                    ok = False
                    continue
                msg = check_mark(c, v)
                if msg:
                    add(f"judges[{i}].{c}", msg, "marks")
                    ok = False
    elif scoring == "aerials7":
        af = [j for j in js if j.air_form is not None]
        ld = [j for j in js if j.landing is not None and j.air_form is None]
        if len(af) != 5 or len(ld) != 2 or len(js) != 7:
            add("judges", "the legacy aerials format has 5 air_form judges and 2 landing judges", "marks")
            return False
        for i, j in enumerate(js):
            v, hi = (
                (j.air_form, LEGACY_AIR_FORM_RANGE[1])
                if j.air_form is not None
                else (j.landing, COMPONENT_RANGES["landing"][1])
            )
            if not (0 <= v <= hi) or v % MARK_STEP:
                add(f"judges[{i}]", f"mark {v} must be within 0.0-{hi} in steps of 0.1", "marks")
                ok = False
    else:  # diving
        if len(js) not in (3, 5, 7):
            add("judges", f"diving uses 3 (counted), 5 or 7 judge scores, found {len(js)}", "marks")
            return False
        for i, j in enumerate(js):
            if j.score is None:
                add(f"judges[{i}].score", "missing score", "marks")
                ok = False
            elif not (DIVING_RANGE[0] <= j.score <= DIVING_RANGE[1]) or j.score % DIVING_STEP:
                add(f"judges[{i}].score", f"{j.score} must be within 0-10 in steps of 0.5", "marks")
                ok = False
    return ok


def rules_score(rec: Record, scoring: str):
    """What the rules engine makes of a record's judges and DD under the data set's ``scoring`` format: an
    :class:`~judgemind.rules.AerialsScore` (``.J``, ``.score``) or a :class:`~judgemind.rules.DivingScore`
    (``.raw``, ``.score``). Bad marks -> JudgemindError."""

    if scoring == "aerials5":
        return rules.score_aerials([(j.air, j.form, j.landing) for j in rec.judges], rec.dd)
    if scoring == "aerials7":
        af = [j.air_form for j in rec.judges if j.air_form is not None]
        ld = [j.landing for j in rec.judges if j.air_form is None]
        return rules.score_aerials_legacy(af, ld, rec.dd)
    return rules.score_diving([j.score for j in rec.judges], rec.dd, synchro=rec.synchro)


def validate_record(
    rec: Record,
    meta: DatasetMeta,
    root: Path,
    file: str,
    line: int | None = None,
    video_frames: int | None = None,
    catalogue=None,
) -> list[Problem]:
    """Rules checks on one parsed record. ``video_frames`` (if known) bounds the frames; ``catalogue`` checks
    deduction items (aerials datasets)."""

    probs: list[Problem] = []

    def add(fieldname, msg, rule, level="error"):
        probs.append(Problem(file, msg, rec.id, fieldname, line, rule, level))

    if not _path_inside(root, rec.video):
        add("video", f"path {rec.video!r} escapes the dataset root; use a path relative to {root}", "path")
    a, b = rec.frames
    if video_frames is not None and b > video_frames:
        add("frames", f"[{a}, {b}) ends after the video's last frame (the video has {video_frames} frames)", "video")
    prev: tuple[str, int] | None = None  # previous stage and its end
    for s in STAGES:
        if s not in rec.stages:
            continue
        sa, sb = rec.stages[s]
        if prev is not None and sa < prev[1]:
            add(
                f"stages.{s}",
                f"[{sa}, {sb}) starts before {prev[0]} ends ({prev[1]}); stages must be ordered "
                f"take-off < flight < landing",
                "order",
            )
        elif prev is not None and sa > prev[1]:
            add(
                f"stages.{s}",
                f"[{sa}, {sb}) leaves a gap after {prev[0]} ends ({prev[1]}); stages must be "
                f"contiguous (each starts where the previous one ends)",
                "order",
            )
        if sb > b or sa < a:
            add(f"stages.{s}", f"[{sa}, {sb}) lies outside the record's frames [{a}, {b})", "interval")
        if video_frames is not None and sb > video_frames:
            add(
                f"stages.{s}",
                f"[{sa}, {sb}) ends after the video's last frame (the video has {video_frames} frames)",
                "video",
            )
        prev = (s, max(sb, prev[1]) if prev else sb)
    for c in rec.cuts:
        if not (a <= c < b):
            add("cuts", f"cut at frame {c} lies outside the record's frames [{a}, {b})", "interval")
    if rec.boxes:
        outside = [k for k in rec.boxes if not (a <= k < b)]
        if outside:
            add("boxes", f"{len(outside)} box(es) for frames outside [{a}, {b}), e.g. frame {outside[0]}", "interval")

    if rec.skeleton is not None:
        _check_skeleton(rec, meta, root, add)

    if meta.scoring.startswith("aerials"):
        try:
            parse_jump_code(rec.action_code)
        except JudgemindError as e:
            add("action_code", str(e), "action_code")
        if not (0 < rec.dd <= Decimal("5.5")):
            add("dd", f"DD {rec.dd} is outside the range of aerials DDs (0, 5.5]", "dd")
    else:
        if not DIVE_NUMBER.match(rec.action_code):
            add("action_code", f"{rec.action_code!r} is not a dive number like '107B' or '5253b'", "action_code")
        if not (0 < rec.dd <= Decimal("5.0")):
            add("dd", f"DD {rec.dd} is outside (0, 5.0]", "dd")

    marks_ok = _check_marks(rec, meta.scoring, add)

    if catalogue is not None:
        for i, x in enumerate(rec.deductions):
            f = f"deductions[{i}]"
            if x.item not in catalogue.ids:
                close = difflib.get_close_matches(x.item, list(catalogue.ids), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                add(
                    f"{f}.item",
                    f"unknown deduction item {x.item!r}{hint}; see `judgemind rules catalogue`",
                    "catalogue",
                )
                continue
            item = catalogue.get(x.item)
            if x.stage != item.stage:
                add(f"{f}.stage", f"{x.item} belongs to stage {item.stage!r}, not {x.stage!r}", "catalogue")
            if not (item.points_min <= x.points <= item.points_max):
                add(
                    f"{f}.points",
                    f"{x.points} is outside {x.item}'s range {item.points_min}-{item.points_max}",
                    "catalogue",
                )
            if x.frames is not None and not (a <= x.frames[0] and x.frames[1] <= b):
                add(f"{f}.frames", f"{list(x.frames)} lies outside the record's frames [{a}, {b})", "interval")
            if x.severity is not None and not (0.0 <= x.severity <= 1.0):
                add(f"{f}.severity", f"{x.severity} must be within [0, 1]", "schema")
            if item.landing_cap is not None and meta.scoring == "aerials5" and marks_ok:
                for j, js in enumerate(rec.judges):
                    if js.landing is not None and js.landing > item.landing_cap:
                        add(
                            f"judges[{j}].landing",
                            f"landing {js.landing} exceeds the cap {item.landing_cap} that {x.item} imposes",
                            "cap",
                        )

    if marks_ok and not any(p.rule in ("dd",) for p in probs):
        try:
            expected = rules_score(rec, meta.scoring).score
        except JudgemindError as e:
            add("judges", str(e), "final_score")
        else:
            if not final_score_matches(rec.final_score, expected):
                known = rec.extra.get("score_mismatch") if isinstance(rec.extra, dict) else None
                msg = (
                    f"final score {rec.final_score} disagrees with the rules engine: judges and DD {rec.dd} "
                    f"give {expected}"
                )
                if known:
                    add("final_score", f"{msg} (known: {known})", "final_score", "warning")
                else:
                    add("final_score", msg, "final_score")
    return probs


def _check_skeleton(rec: Record, meta: DatasetMeta, root: Path, add) -> None:
    """Schema v2: the record's skeleton file exists inside the root and holds a valid array for its frames."""

    if meta.skeleton is None:
        add(
            "skeleton",
            "the record names a skeleton file but dataset.json declares no skeleton layout "
            '("skeleton": {"points": [...], "frame_size": [w, h]}, schema_version 2)',
            "skeleton",
        )
        return
    if not _path_inside(root, rec.skeleton):
        add("skeleton", f"path {rec.skeleton!r} escapes the dataset root; use a path relative to {root}", "path")
        return
    try:
        arr = read_array(root / rec.skeleton)
    except JudgemindError as e:
        add("skeleton", str(e), "skeleton")
        return
    for msg in check_array(arr, rec.n_frames, meta.skeleton):
        add("skeleton", f"{root / rec.skeleton}: {msg}", "skeleton")


def validate_dataset(root: str | os.PathLike, *, check_videos: bool = True):
    """Validate a whole dataset folder. Returns ``(Dataset or None, problems)``; never raises for bad data."""
    root = Path(root)
    meta, problems = read_meta(root)
    if meta is None:
        return None, problems
    numbered, rprobs = read_numbered_records(root)
    problems.extend(rprobs)
    records = [rec for _, rec in numbered]
    afile = str(root / ANNOTATIONS_FILE)
    if not records and not rprobs:
        problems.append(Problem(afile, "the dataset has no records", rule="empty"))
    catalogue = None
    if meta.scoring.startswith("aerials"):
        catalogue = load_catalogue()
        if str(catalogue.version) != str(meta.catalogue_version):
            problems.append(
                Problem(
                    str(root / DATASET_FILE),
                    f"dataset uses catalogue version {meta.catalogue_version}, this judgemind has {catalogue.version}",
                    field="catalogue_version",
                    rule="catalogue",
                    level="warning",
                )
            )
    seen: dict[str, int] = {}
    n_frames_cache: dict[str, int | None] = {}
    lines: dict[str, int] = {}
    for idx, (lineno, rec) in enumerate(numbered):
        if rec.id in seen:
            problems.append(
                Problem(
                    afile, f"duplicate id (first used on line {lines[rec.id]})", rec.id, "id", lineno, rule="unique"
                )
            )
            continue
        seen[rec.id] = idx
        lines[rec.id] = lineno
        vframes = None
        if check_videos and _path_inside(root, rec.video):
            vpath = root / rec.video
            if rec.video not in n_frames_cache:
                n_frames_cache[rec.video] = _probe_frames(vpath, afile, rec, problems, lineno)
            vframes = n_frames_cache[rec.video]
        problems.extend(validate_record(rec, meta, root, afile, lineno, vframes, catalogue))
    dfile = str(root / DATASET_FILE)
    owner: dict[str, str] = {}
    for split, ids in meta.splits.items():
        listed: set[str] = set()
        for rid in ids:
            if rid in listed:
                problems.append(
                    Problem(
                        dfile,
                        f"split {split!r} lists record {rid!r} more than once",
                        field=f"splits.{split}",
                        rule="unique",
                    )
                )
                continue
            listed.add(rid)
            if rid not in seen:
                problems.append(
                    Problem(
                        dfile,
                        f"split {split!r} names record {rid!r}, which is not in {ANNOTATIONS_FILE}",
                        field=f"splits.{split}",
                        rule="splits",
                    )
                )
            elif rid in owner and owner[rid] != split:
                problems.append(
                    Problem(
                        dfile,
                        f"record {rid!r} is in both {owner[rid]!r} and {split!r}",
                        field=f"splits.{split}",
                        rule="splits",
                    )
                )
            owner.setdefault(rid, split)
    ds = Dataset(root=root, meta=meta, records=tuple(r for i, r in enumerate(records) if seen.get(r.id) == i))
    return ds, problems


def _probe_frames(path: Path, afile: str, rec: Record, problems: list[Problem], line: int | None = None) -> int | None:

    if not path.is_file():
        problems.append(
            Problem(
                afile,
                f"video file {path} does not exist (use --no-videos for annotation-only datasets)",
                rec.id,
                "video",
                line,
                rule="video",
            )
        )
        return None
    try:
        return probe_video(path).n_frames
    except JudgemindError as e:
        problems.append(Problem(afile, str(e), rec.id, "video", line, rule="video"))
        return None


def load_dataset(root: str | os.PathLike, *, check_videos: bool = False, strict: bool = True) -> Dataset:
    """Load and validate a dataset folder. Any error -> :class:`ValidationError` listing every problem.

    ``check_videos`` also opens every video to check that it exists and that frames/stages lie inside it
    (slower; ``judgemind data validate`` does it by default).
    """
    ds, problems = validate_dataset(root, check_videos=check_videos)
    errors = [p for p in problems if p.level == "error"]
    if errors and strict:
        raise ValidationError(
            f"{root}: {len(errors)} problem(s) in the dataset; run `judgemind data validate "
            f"{root}` for the full report",
            errors,
        )
    if ds is None:
        raise ValidationError(f"{root}: cannot be loaded", errors)
    return ds
