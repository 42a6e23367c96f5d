"""Scored jumps -> FineSkiing annotation records to correct: ``judgemind data from-results RESULT.json... --marks
FILE --out DATASET``.

A record needs what the model cannot know: the five judges' marks (``judgemind data validate`` requires them and
checks the final score against them). They come from a **marks file**; everything else comes from the result:

- ``action_code``, ``dd``, ``frames`` and ``cuts`` as scored;
- ``stages``: the model's take-off / flight / landing boundaries (a run without segmentation gives none: the jump
  is split in thirds and the record says ``extra.stages_known = false``);
- ``deductions``: the items the judge sheet lists as likely, each at its evidence frame (``frames`` [f, f + 1)),
  with the points the model says it costs (rounded to 0.1, inside the catalogue's range); an item whose landing cap
  the judges' marks exceed is left out (the marks are the panel's; the item was the model's guess);
- ``video``: the video, copied to ``videos/<file name>`` unless it already lies inside the data set;
- ``extra.from_result``: where the draft came from (result file, model, checkpoint, the model's score), so a person
  knows what to check.

Marks file (CSV, UTF-8, a header line first; ``#`` starts a comment line)::

    video,j1,j2,j3,j4,j5
    jump1.mp4,1.8/4.4/2.7,1.7/4.5/2.7,1.8/4.3/2.6,1.9/4.4/2.8,1.8/4.6/2.7

``video``: the video's file name (the result's ``video_name``) or its path as the result gives it (``video``);
``j1`` ... ``j5``: each judge's ``air/form/landing``. The marks may instead be fifteen columns ``j1_air, j1_form,
j1_landing, ..., j5_landing``. Optional columns: ``id`` (the record id; default: the video's name without its
extension), ``final_score`` (the published score: checked against the rules, J x DD truncated), ``athlete``,
``event``, ``sex`` (``M`` or ``F``). Marks are in 0.1 steps: Air 0-2.0, Form 0-5.0, Landing 0-3.0.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Sequence

from judgemind.data.append import append_records
from judgemind.data.records import DatasetMeta, Record
from judgemind.data.result import ScoreResult
from judgemind.errors import JudgemindError
from judgemind.rules import check_mark, final_score_matches, load_catalogue, score_aerials
from judgemind.rules.names import COMPONENTS, STAGES
from judgemind.utils import display_text, open_regular
from judgemind.utils.atomic import sha256_file
from judgemind.video.probe import probe_video

JUDGES = 5
MAX_MARKS_BYTES = 10 << 20
OPTIONAL_COLUMNS = ("id", "final_score", "athlete", "event", "sex")
_SPLIT_MARKS = re.compile(r"\s*/\s*|\s+")


@dataclass(frozen=True)
class Marks:
    """One line of a marks file: the panel of one jump."""

    video: str
    line: int
    judges: tuple[dict[str, Decimal], ...]  # JUDGES x {air, form, landing}
    final_score: Decimal | None = None
    id: str | None = None
    athlete: str | None = None
    event: str | None = None
    sex: str | None = None


@dataclass
class Draft:
    """What :func:`draft_records` makes: records in the annotation layout, the videos to copy into the data set
    (``{path in the data set: file}``) and notes for the person who will check them."""

    records: list[dict] = field(default_factory=list)
    videos: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _columns(header: list[str], where: str) -> tuple[dict[str, int], str]:
    """{column: index} and the judges' layout (``"slash"``: j1..j5, ``"wide"``: j1_air..j5_landing)."""
    cols: dict[str, int] = {}
    for k, name in enumerate(header):
        key = name.strip().casefold()
        if key in cols:
            raise JudgemindError(f"{where}, line 1: column {name!r} appears twice")
        cols[key] = k
    if "video" not in cols:
        raise JudgemindError(f"{where}, line 1: no 'video' column (the header must name the columns)")
    slash = {f"j{j}" for j in range(1, JUDGES + 1)}
    wide = {f"j{j}_{c}" for j in range(1, JUDGES + 1) for c in COMPONENTS}
    known = {"video", *slash, *wide, *OPTIONAL_COLUMNS}
    unknown = [h for h in cols if h not in known]
    if unknown:
        raise JudgemindError(
            f"{where}, line 1: unknown column(s) {', '.join(map(repr, unknown))}; a marks file has video, j1..j5 "
            f"(air/form/landing) or j1_air..j5_landing, and optionally {', '.join(OPTIONAL_COLUMNS)}"
        )
    if slash <= set(cols) and not (wide & set(cols)):
        return cols, "slash"
    if wide <= set(cols) and not (slash & set(cols)):
        return cols, "wide"
    raise JudgemindError(
        f"{where}, line 1: the judges' marks need the columns j1..j5 (each 'air/form/landing') or all fifteen "
        f"j1_air, j1_form, j1_landing, ..., j5_landing (not a mix)"
    )


def _mark(text: str, component: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise JudgemindError(f"{where}: {component} mark {text.strip()!r} is not a number") from None
    why = check_mark(component, value) if value.is_finite() else f"{component} {text.strip()} is not a number"
    if why:
        raise JudgemindError(f"{where}: {why}")
    return value


def read_marks(path: str | os.PathLike) -> dict[str, Marks]:
    """The marks file at ``path`` (format: the module docstring) as ``{video: Marks}``; an error names the line
    and the column."""
    path = Path(path)
    where = f"--marks {display_text(path)}"
    with open_regular(path, "marks file") as fh:
        raw = fh.read(MAX_MARKS_BYTES + 1)
    if len(raw) > MAX_MARKS_BYTES:
        raise JudgemindError(f"{where}: over {MAX_MARKS_BYTES >> 20} MB; a marks file holds one line per jump")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise JudgemindError(f"{where}: not UTF-8 text (byte {e.start}); save the file as UTF-8 (CSV)") from None
    rows = [
        (n, row)
        for n, row in enumerate(csv.reader(io.StringIO(text), skipinitialspace=True), 1)
        if any(c.strip() for c in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        raise JudgemindError(f"{where}: empty; the first line names the columns (video,j1,j2,j3,j4,j5)")
    cols, layout = _columns(rows[0][1], where)
    out: dict[str, Marks] = {}
    for n, row in rows[1:]:
        if len(row) > len(rows[0][1]):
            raise JudgemindError(f"{where}, line {n}: {len(row)} fields, the header has {len(rows[0][1])}")
        row = row + [""] * (len(rows[0][1]) - len(row))  # spreadsheets drop empty trailing cells

        def cell(name: str) -> str:
            return row[cols[name]].strip()

        video = cell("video")
        if not video:
            raise JudgemindError(f"{where}, line {n}: no video")
        if video in out:
            raise JudgemindError(f"{where}, line {n}: {video!r} already has marks (line {out[video].line})")
        judges = []
        for j in range(1, JUDGES + 1):
            if layout == "slash":
                parts = [p for p in _SPLIT_MARKS.split(cell(f"j{j}")) if p]
                if len(parts) != len(COMPONENTS):
                    raise JudgemindError(
                        f"{where}, line {n}, column j{j}: expected air/form/landing like 1.8/4.4/2.7, "
                        f"got {cell(f'j{j}')!r}"
                    )
            else:
                parts = [cell(f"j{j}_{c}") for c in COMPONENTS]
            judges.append(
                {c: _mark(v, c, f"{where}, line {n}, judge j{j}") for c, v in zip(COMPONENTS, parts, strict=True)}
            )
        extra = {k: (cell(k) or None) if k in cols else None for k in OPTIONAL_COLUMNS}
        final = None
        if extra["final_score"] is not None:
            try:
                final = Decimal(extra["final_score"])
            except InvalidOperation:
                raise JudgemindError(
                    f"{where}, line {n}, column final_score: {extra['final_score']!r} is not a number"
                ) from None
        if extra["sex"] is not None and extra["sex"] not in ("M", "F"):
            raise JudgemindError(f"{where}, line {n}, column sex: expected M or F, got {extra['sex']!r}")
        out[video] = Marks(video, n, tuple(judges), final, extra["id"], extra["athlete"], extra["event"], extra["sex"])
    if not out:
        raise JudgemindError(f"{where}: no marks lines after the header")
    return out


def find_video(result: ScoreResult, result_path: Path, videos_dir: Path | None) -> Path:
    """The video a result was scored from: the round's absolute path, the path as scored (absolute, or relative to
    the current folder or to the result's folder), or ``videos_dir/<video name>``; checked against the content
    the round recorded, when it did."""
    tried = []
    if result.round and result.round.get("video"):
        tried.append(Path(result.round["video"]))
    tried += [Path(result.video), result_path.parent / result.video]
    if videos_dir is not None:
        tried.append(videos_dir / result.video_name)
    found = next((p for p in tried if p.is_file()), None)
    if found is None:
        raise JudgemindError(
            f"{display_text(result_path)}: its video {display_text(result.video)} is not at "
            f"{' or '.join(display_text(p) for p in dict.fromkeys(tried))}; give the folder that holds it with "
            f"--videos DIR"
        )
    want = ((result.round or {}).get("inputs") or {}).get("video")
    if want and sha256_file(found, what="video") != want:
        raise JudgemindError(
            f"{display_text(result_path)}: {display_text(found)} is not the video that was scored (its content "
            f"changed since); score it again"
        )
    return found


def marks_for(result: ScoreResult, video: Path, marks: dict[str, Marks], where: str) -> Marks | None:
    """The marks line of a result: its ``video`` cell is the video's file name, or its path as scored."""
    hits = [m for key, m in marks.items() if key in (result.video_name, result.video, str(video))]
    if len(hits) > 1:
        raise JudgemindError(f"{where}: marks lines {', '.join(str(m.line) for m in hits)} all name this video")
    return hits[0] if hits else None


def _stages(result: ScoreResult) -> tuple[dict, bool]:
    """(stages, known): the model's boundaries when they are three non-empty contiguous intervals covering the
    jump, else the jump split in thirds (not known)."""
    a, b = result.frames
    st = result.stages
    if st and all(s in st for s in STAGES):
        edges = [st[STAGES[0]][0]] + [st[s][1] for s in STAGES]
        contiguous = all(st[STAGES[k]][1] == st[STAGES[k + 1]][0] for k in range(len(STAGES) - 1))
        if contiguous and edges[0] == a and edges[-1] == b and all(x < y for x, y in zip(edges, edges[1:])):
            return {s: list(st[s]) for s in STAGES}, True
    cut = [a + (b - a) * k // 3 for k in range(4)]
    return {s: [cut[k], cut[k + 1]] for k, s in enumerate(STAGES)}, False


def _deductions(result: ScoreResult, judges, notes: list[str], where: str) -> tuple[list[dict], dict]:
    """The listed deductions as annotation entries, and their probabilities (for ``extra``)."""
    cat = load_catalogue()
    a, b = result.frames
    top_landing = max(j["landing"] for j in judges)
    out, probs = [], {}
    for d in result.deductions:
        if not d.get("listed"):
            continue
        item = cat.get(d["item"])
        if item.landing_cap is not None and top_landing > item.landing_cap:
            notes.append(
                f"{where}: left out {item.id} (the model's {d.get('probability')}): a judge gave landing "
                f"{top_landing}, above the cap {item.landing_cap} it imposes"
            )
            continue
        pts = d.get("points_if_present")
        points = item.points_min if pts is None else Decimal(str(round(float(pts), 1)))
        points = min(max(points, item.points_min), item.points_max)
        entry = {"item": item.id, "stage": item.stage, "points": points}
        f = d.get("evidence_frame")
        if isinstance(f, int) and a <= f < b:
            entry["frames"] = [f, f + 1]
        out.append(entry)
        probs[item.id] = d.get("probability")
    return out, probs


def draft_record(result: ScoreResult, result_path: Path, marks: Marks, rel_video: str) -> tuple[dict, list[str]]:
    """One annotation record (the layout of ``annotations.jsonl``) from a result and its marks; notes for the
    person who checks it. The final score is the rules engine's of the marks and DD; a published ``final_score``
    in the marks file that disagrees is an error."""
    where = display_text(result_path)
    notes: list[str] = []
    dd = Decimal(result.dd)
    judges = marks.judges
    final = score_aerials([tuple(j[c] for c in COMPONENTS) for j in judges], dd).score
    if marks.final_score is not None and not final_score_matches(marks.final_score, final):
        raise JudgemindError(
            f"marks line {marks.line} ({marks.video}): final_score {marks.final_score} disagrees with the rules: the "
            f"judges' marks and DD {dd} give {final}; check the marks (and the DD the result was scored with)"
        )
    stages, known = _stages(result)
    if not known:
        notes.append(f"{where}: the model gave no usable stages; split in thirds (extra.stages_known = false)")
    deductions, probs = _deductions(result, judges, notes, where)
    a, b = result.frames
    prov = result.provenance or {}
    rec = {
        "id": marks.id or Path(result.video_name).stem,
        "video": rel_video,
        "frames": list(result.frames),
        "action_code": result.action_code,
        "dd": dd,
        **{k: getattr(marks, k) for k in ("sex", "event", "athlete") if getattr(marks, k) is not None},
        "stages": stages,
        "judges": [dict(j) for j in judges],
        "final_score": final,
        "deductions": deductions,
        "cuts": [c for c in result.cuts if a <= c < b],
        "extra": {
            "from_result": {
                "result": where,
                "model": prov.get("model"),
                "checkpoint": prov.get("checkpoint"),
                "scored_at": prov.get("scored_at"),
                "model_final_score": result.final_score,
                "deduction_probabilities": probs,
                "in_distribution": result.in_distribution,
                "review": "stages and deductions are the model's: check them against the video",
            },
            **({} if known else {"stages_known": False}),
        },
    }
    if result.in_distribution is False:
        notes.append(f"{where}: flagged as possibly not an aerials jump; no deduction was listed")
    return rec, notes


def _inside(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` when it lies inside it (real paths), else None."""
    base, real = os.path.realpath(root), os.path.realpath(path)
    return Path(os.path.relpath(real, base)).as_posix() if real.startswith(base + os.sep) else None


def draft_records(
    results: Sequence[str | os.PathLike],
    marks_file: str | os.PathLike | None,
    root: str | os.PathLike,
    videos_dir: str | os.PathLike | None = None,
) -> Draft:
    """The records of ``results`` (result.json files) for the data set at ``root`` (see the module docstring).
    Every result is read and checked (the JSON Schema), and every one must have marks, before anything is
    made: the errors name the result or the marks line."""
    root = Path(root)
    if not results:
        raise JudgemindError("from-results needs at least one result.json")
    loaded = [(Path(p), ScoreResult.read(p)) for p in results]
    if marks_file is None:
        raise JudgemindError(
            f"a FineSkiing record needs the five judges' marks (`judgemind data validate` checks the final score "
            f"against them) and none were given for "
            f"{'; '.join(f'{display_text(p)} ({r.video_name})' for p, r in loaded)}: give them with --marks FILE "
            f"(a CSV: video,j1,j2,j3,j4,j5 with air/form/landing per judge; docs/data.md); nothing was added"
        )
    marks = read_marks(marks_file)
    vdir = None if videos_dir is None else Path(videos_dir)
    draft = Draft()
    missing, seen = [], {}
    for path, res in loaded:
        real = os.path.realpath(path)
        if real in seen:
            raise JudgemindError(f"{display_text(path)} is given twice")
        seen[real] = path
        video = find_video(res, path, vdir)
        m = marks_for(res, video, marks, display_text(path))
        if m is None:
            missing.append(f"{display_text(path)} ({res.video_name})")
            continue
        rel = _inside(root, video) or f"videos/{video.name}"
        if rel in draft.videos and os.path.realpath(draft.videos[rel]) != os.path.realpath(video):
            raise JudgemindError(
                f"{display_text(path)}: two different videos are named {video.name}; rename one before adding both"
            )
        if _inside(root, video) is None:
            draft.videos[rel] = video
        rec, notes = draft_record(res, path, m, rel)
        draft.records.append(rec)
        draft.notes += notes
    if missing:
        raise JudgemindError(
            f"--marks {display_text(marks_file)} has no line for {len(missing)} result(s): {'; '.join(missing)}; "
            f"add a line per video (its file name in the video column); nothing was added"
        )
    return draft


def new_dataset_meta(root: Path, draft: Draft) -> DatasetMeta:
    """The dataset.json of a data set that from-results creates: aerials (5 judges), the first video's fps."""
    fps = None
    for rec in draft.records:
        src = draft.videos.get(rec["video"], root / rec["video"])
        fps = probe_video(src).fps
        if fps:
            break
    return DatasetMeta(
        name=root.resolve().name or "data set",
        fps=float(fps or 25.0),
        splits={},
        scoring="aerials5",
        synthetic=False,
        source="judgemind data from-results",
        description="Jumps scored by judgemind and turned into records with `judgemind data from-results`: the "
        "judges' marks come from a marks file; stages and deductions are the model's until a person corrects "
        "them (extra.from_result).",
    )


def from_results(
    results: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    marks_file: str | os.PathLike | None = None,
    *,
    split: str | None = "train",
    videos_dir: str | os.PathLike | None = None,
) -> tuple[list[Record], list[str]]:
    """``judgemind data from-results``: the records of ``results`` appended to the data set ``out`` (made when
    missing) in ``split`` under its lock, after the same validation as ``judgemind data validate``
    (:func:`judgemind.data.append.append_records`). Returns the records added and the notes."""
    root = Path(out)
    draft = draft_records(results, marks_file, root, videos_dir)
    meta = None if (root / "dataset.json").is_file() else new_dataset_meta(root, draft)
    added = append_records(root, draft.records, split=split, meta=meta, videos=draft.videos)
    return added, draft.notes
