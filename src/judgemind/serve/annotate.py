"""The annotate page's side of ``judgemind serve``: the data set it writes, the clip being annotated, its frames,
the editor's values (pre-filled from the record, or from the model's result), and the record the editor's form
becomes -- validated and stored by :func:`judgemind.data.edit.save_record`, the same validator as
``judgemind data validate``.

A clip is one of (``kind``, ``ident``): ``record`` (a record of the data set, to correct), ``video`` (a video
file under the data set's ``videos/`` that no record uses yet) or ``job`` (a clip uploaded to the server; saving
it copies the clip into the data set's ``videos/`` under a name made from its content).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from judgemind import rules
from judgemind.data import Dataset, Problem, Record, validate_dataset
from judgemind.data.dataset import ANNOTATIONS_FILE, DATASET_FILE
from judgemind.data.edit import line_hash, save_record, stored_lines
from judgemind.errors import JudgemindError, ValidationError
from judgemind.infer.round import VIDEO_EXTENSIONS
from judgemind.rules import load_catalogue
from judgemind.rules.names import COMPONENTS, STAGES
from judgemind.serve.jobs import Job, JobQueue, job_dir, upload_path
from judgemind.utils import display_text
from judgemind.utils.atomic import sha256_file
from judgemind.utils.optional import load_cv2
from judgemind.video.decode import iter_frames
from judgemind.video.probe import probe_video

N_JUDGES = 5  # the annotate page writes the current 5-judge aerials format
FRAME_SHORT_SIDE = 360  # frames are shown at this shorter side
MAX_LISTED_VIDEOS = 5000
TOOL = "judgemind annotate"


@dataclass(frozen=True)
class Clip:
    kind: str  # record | video | job
    ident: str
    path: Path  # the video file (inside the data set, or the server's uploads/)
    video_rel: str | None  # its path inside the data set (None: an upload, copied in when saved)
    record: Record | None
    job: Job | None
    fps: float
    n_frames: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ident}"


class AnnotateData:
    """A FineSkiing data set opened for annotation. Its validation (``judgemind data validate``'s, videos
    included) is run when the files change on disk; saves made here keep it valid, so they do not re-run it."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._ds: Dataset | None = None
        self._problems: list[Problem] = []
        self._stems: dict[str, str] = {}

    def _files_stamp(self) -> tuple:
        out = []
        for name in (DATASET_FILE, ANNOTATIONS_FILE):
            try:
                st = (self.root / name).stat()
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def status(self) -> tuple[Dataset | None, list[Problem]]:
        """``(data set, errors)``: the data set when it validates (errors empty), else its errors."""
        with self._lock:
            stamp = self._files_stamp()
            if stamp != self._stamp:
                ds, problems = validate_dataset(self.root, check_videos=True)
                self._problems = [p for p in problems if p.level == "error"]
                self._ds = ds if not self._problems else None
                self._stamp = stamp
            return self._ds, list(self._problems)

    def dataset(self) -> Dataset:
        ds, problems = self.status()
        if ds is None:
            raise ValidationError(f"{self.root}: the data set does not validate", problems)
        return ds

    def _saved(self) -> None:
        """After a save of ours (validated record, lock held while writing): re-read without probing every video."""
        with self._lock:
            ds, problems = validate_dataset(self.root, check_videos=False)
            errors = [p for p in problems if p.level == "error"]
            if errors:  # someone else changed the files meanwhile: validate fully on the next look
                self._stamp = None
                return
            self._ds, self._problems, self._stamp = ds, [], self._files_stamp()

    # -- what there is to annotate --------------------------------------------------------------------------------

    def videos_without_record(self, ds: Dataset) -> list[str]:
        """Video files under the data set's ``videos/`` that no record names (paths relative to the data set)."""
        used = {r.video for r in ds.records}
        base = self.root / "videos"
        out: list[str] = []
        if not base.is_dir():
            return out
        real = os.path.realpath(self.root)
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(self.root).as_posix()
            if any(part.startswith(".") for part in p.relative_to(self.root).parts):
                continue
            if p.suffix.lower() not in VIDEO_EXTENSIONS or rel in used or not p.is_file():
                continue
            if not os.path.realpath(p).startswith(real + os.sep):
                continue
            out.append(rel)
            if len(out) >= MAX_LISTED_VIDEOS:
                break
        return out

    def progress(self, queue: JobQueue | None = None) -> dict[str, Any]:
        """How far the annotation is: records per code and per split, records saved from this page, videos
        without a record, uploaded clips not in the data set yet."""
        ds = self.dataset()
        split_of = {i: s for s, ids in ds.meta.splits.items() for i in ids}
        per_code = Counter(r.action_code for r in ds.records)
        per_split = Counter(split_of.get(r.id, "(none)") for r in ds.records)
        here = sum(1 for r in ds.records if (r.extra.get("annotation") or {}).get("tool") == TOOL)
        doc = {
            "dataset": ds.meta.name,
            "folder": display_text(self.root),
            "records": len(ds.records),
            "annotated_with_this_page": here,
            "per_code": dict(sorted(per_code.items(), key=lambda kv: (-kv[1], kv[0]))),
            "per_split": dict(sorted(per_split.items())),
            "videos_without_record": len(self.videos_without_record(ds)),
        }
        if queue is not None:
            doc["uploads_not_annotated"] = len(self.uploads(queue))
        return doc

    def uploads(self, queue: JobQueue) -> list[Job]:
        """Uploaded clips whose content is not in the data set yet (newest first)."""
        ds = self.dataset()
        have = {Path(r.video).stem for r in ds.records if Path(r.video).stem.startswith("upload_")}
        out = []
        for job in reversed(queue.jobs()):
            if job.source != "upload" or job.status not in ("done", "failed"):
                continue
            if job.id not in self._stems:  # (a clip's content never changes: hashed once)
                try:
                    self._stems[job.id] = _upload_stem_of(upload_path(queue.root, job))
                except (JudgemindError, OSError):
                    continue
            if self._stems[job.id] not in have:
                out.append(job)
        return out

    # -- one clip -----------------------------------------------------------------------------------------------

    def clip(self, kind: str, ident: str, queue: JobQueue | None) -> Clip:
        """The clip ``kind:ident`` (see the module docstring); an unknown one is a :class:`JudgemindError`."""
        ds = self.dataset()
        record = job = None
        if kind == "record":
            record = next((r for r in ds.records if r.id == ident), None)
            if record is None:
                raise JudgemindError(f"the data set has no record {ident!r}")
            rel = record.video
        elif kind == "video":
            if ident not in self.videos_without_record(ds):
                raise JudgemindError(f"{ident!r} is not a video of the data set's videos/ folder without a record")
            rel = ident
        elif kind == "job" and queue is not None:
            job = queue.job(ident)
            if job is None or job.source != "upload":
                raise JudgemindError(f"no uploaded clip {ident!r} on this server")
            rel = None
        else:
            raise JudgemindError(f"unknown clip kind {kind!r}")
        path = upload_path(queue.root, job) if job is not None else self._inside(rel)
        info = probe_video(path)
        fps = info.fps if kind == "job" else ds.meta.fps
        return Clip(kind, ident, path, rel, record, job, fps, info.n_frames)

    def _inside(self, rel: str) -> Path:
        base = os.path.realpath(self.root)
        path = os.path.realpath(os.path.join(base, rel))
        if not path.startswith(base + os.sep):
            raise JudgemindError(f"{rel!r} lies outside the data set's folder")
        return self.root / rel

    def editor(self, clip: Clip, queue: JobQueue | None) -> dict[str, Any]:
        """The editor's starting values: the record's own, else the model's result (a scored upload, or a scored
        record shown beside it), else a blank jump over the whole clip."""
        ds = self.dataset()
        split_of = {i: s for s, ids in ds.meta.splits.items() for i in ids}
        model = model_result(queue, clip)
        if clip.record is not None:
            rec = clip.record
            form = _form_of_record(rec)
            form.update(
                prefill="record",
                split=split_of.get(rec.id, ""),
                base=line_hash(stored_lines(self.root).get(rec.id)),
            )
        elif model is not None:
            form = _form_of_result(model, clip)
            form.update(prefill="model", split="train", base="")
        else:
            form = _blank_form(clip)
            form.update(prefill="none", split="train", base="")
        form.update(kind=clip.kind, ident=clip.ident)
        form["model"] = _model_view(model) if model is not None else None
        return form

    def save(self, clip: Clip, fields: Mapping[str, list[str]]) -> Record:
        """The editor's form as a record, validated and stored (see :func:`record_fields`)."""
        ds = self.dataset()
        existing = clip.record
        rel = clip.video_rel
        videos = None
        if rel is None:  # an upload: copied into the data set under a name made from its content
            rel = f"videos/{_upload_stem_of(clip.path)}{clip.path.suffix}"
            videos = {rel: clip.path}
        rec_fields, problems = record_fields(fields, existing, rel, ds)
        if problems:
            raise ValidationError(f"record {rec_fields.get('id')!r} was not saved", problems)
        rec = save_record(
            self.root,
            rec_fields,
            split=_one(fields, "split") or None,
            base=_one(fields, "base") if existing is not None else "",
            video_frames=clip.n_frames,
            videos=videos,
        )
        self._saved()
        return rec


def _upload_stem_of(path: Path) -> str:
    """The data set name an uploaded clip gets when it is annotated: ``upload_<its content's sha256>``."""
    return "upload_" + sha256_file(path, what="uploaded clip")[:16]


def model_result(queue: JobQueue | None, clip: Clip) -> dict | None:
    """The model's result.json for this clip: the scored upload, or the latest scored job of this record."""
    if queue is None:
        return None
    job = clip.job
    if job is None and clip.record is not None:
        job = next(
            (j for j in reversed(queue.jobs(status="done")) if j.source == "dataset" and j.record_id == clip.record.id),
            None,
        )
    if job is None or job.status != "done":
        return None
    try:
        return json.loads((job_dir(queue.root, job) / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _marks_of(judges) -> list[list[str]]:
    out = [[_dec_text(getattr(j, c)) for c in COMPONENTS] for j in judges][:N_JUDGES]
    return out + [["", "", ""] for _ in range(N_JUDGES - len(out))]


def _dec_text(v) -> str:
    return "" if v is None else format(Decimal(str(v)).normalize(), "f") if Decimal(str(v)) != 0 else "0"


def _form_of_record(rec: Record) -> dict[str, Any]:
    st = rec.stages
    return {
        "id": rec.id,
        "new": False,
        "action_code": rec.action_code,
        "dd": _dec_text(rec.dd),
        "sex": rec.sex or "",
        "athlete": rec.athlete or "",
        "event": rec.event or "",
        "frames": list(rec.frames),
        "bounds": [st["takeoff"][1], st["flight"][1]] if all(s in st for s in STAGES) else _thirds(*rec.frames),
        "judges": _marks_of(rec.judges),
        "deductions": [
            {
                "item": d.item,
                "points": _dec_text(d.points),
                "from": d.frames[0] if d.frames else "",
                "to": d.frames[1] if d.frames else "",
                "severity": "" if d.severity is None else repr(d.severity),
            }
            for d in rec.deductions
        ],
    }


def _thirds(a: int, b: int) -> list[int]:
    n = b - a
    return [a + max(1, n // 3), a + max(2, 2 * n // 3)]


def _blank_form(clip: Clip) -> dict[str, Any]:
    return {
        "id": clip.job.name if clip.job else Path(clip.ident).stem,  # a suggestion; the annotator may change it
        "new": True,
        "action_code": (clip.job.code if clip.job else "") or "",
        "dd": "",
        "sex": "",
        "athlete": "",
        "event": "",
        "frames": [0, clip.n_frames],
        "bounds": _thirds(0, clip.n_frames),
        "judges": [["", "", ""] for _ in range(N_JUDGES)],
        "deductions": [],
    }


def _points_in_range(item, expected) -> str:
    """The model's expected points of an item, on the 0.1 grid and inside the item's range."""
    try:
        p = Decimal(str(expected)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        p = item.points_min
    return _dec_text(min(max(p, item.points_min), item.points_max))


def _form_of_result(res: dict, clip: Clip) -> dict[str, Any]:
    """The editor's values from the model's result: frames, stages, code, the listed deductions at their evidence
    frames, and the consensus judge's marks for all five judges (to be corrected)."""
    cat = load_catalogue()
    form = _blank_form(clip)
    frames = res.get("frames") or form["frames"]
    st = res.get("stages") or {}
    comps = res.get("components") or {}
    form.update(
        action_code=res.get("action_code") or form["action_code"],
        dd=str(res.get("dd") or ""),
        frames=list(frames),
        bounds=[st["takeoff"][1], st["flight"][1]] if all(s in st for s in STAGES) else _thirds(*frames),
        judges=[[str(comps.get(c, "")) for c in COMPONENTS] for _ in range(N_JUDGES)],
    )
    deds = []
    for d in res.get("deductions") or []:
        if not d.get("listed", d.get("above_threshold", False)) or d.get("item") not in cat.ids:
            continue
        f = int(d.get("evidence_frame", frames[0]))
        deds.append(
            {
                "item": d["item"],
                "points": _points_in_range(cat.get(d["item"]), d.get("expected_points")),
                "from": f,
                "to": f + 1,
                "severity": "",
            }
        )
    form["deductions"] = deds
    return form


def _model_view(res: dict) -> dict[str, Any]:
    """What the editor shows of the model's result beside the form."""
    return {
        "final_score": res.get("final_score"),
        "components": res.get("components") or {},
        "stages": res.get("stages") or {},
        "deductions": [
            {"name": d.get("name", d.get("item")), "frame": d.get("evidence_frame"), "p": d.get("probability")}
            for d in (res.get("deductions") or [])
            if d.get("listed", d.get("above_threshold", False))
        ],
        "checkpoint": (res.get("provenance") or {}).get("checkpoint"),
        "in_distribution": res.get("in_distribution"),
    }


def _one(fields: Mapping[str, list[str]], name: str) -> str:
    v = fields.get(name) or [""]
    return v[0].strip()


def _int_or_text(text: str):
    try:
        return int(text)
    except ValueError:
        return text  # the validator names the field and says it wants a frame number


def record_fields(
    fields: Mapping[str, list[str]], existing: Record | None, video_rel: str, ds: Dataset
) -> tuple[dict[str, Any], list[Problem]]:
    """The record (as its JSON line holds it) that the editor's form describes, and the problems only the form
    can have (no DD for the code). The final score is the rules engine's (J x DD, truncated) from the marks; the
    rest of the rules are :func:`judgemind.data.validate.validate_record`'s, run by the save."""
    afile = str(ds.root / ANNOTATIONS_FILE)
    problems: list[Problem] = []
    rid = existing.id if existing is not None else _one(fields, "id")
    code = _one(fields, "action_code")
    sex = _one(fields, "sex") or None
    dd_text = _one(fields, "dd")
    dd: Any = dd_text
    if not dd_text:
        try:
            dd = rules.dd_for(code, sex)
        except JudgemindError as e:
            problems.append(Problem(afile, f"no DD for this code: {e}; enter the DD", rid, "dd", rule="dd"))
            dd = Decimal("1")
    start, end = _int_or_text(_one(fields, "start")), _int_or_text(_one(fields, "end"))
    b1, b2 = _int_or_text(_one(fields, "b1")), _int_or_text(_one(fields, "b2"))
    judges = [{c: _one(fields, f"j{i}_{c}") for c in COMPONENTS} for i in range(N_JUDGES)]
    try:
        score = rules.score_aerials([tuple(j[c] for c in COMPONENTS) for j in judges], dd).score
    except (JudgemindError, InvalidOperation, ValueError, TypeError):
        score = Decimal(0)  # the marks are wrong: the validator says which
    cat = load_catalogue()
    deductions = []
    cols = {k: fields.get(f"ded_{k}", []) for k in ("item", "points", "from", "to", "severity")}
    for i, item in enumerate(cols["item"]):
        item = item.strip()
        if not item:
            continue
        d: dict[str, Any] = {
            "item": item,
            # an unknown item gets a placeholder stage, so that the validator can say what is wrong with the item
            "stage": cat.get(item).stage if item in cat.ids else STAGES[0],
            "points": _at(cols["points"], i) or "",
        }
        f0, f1 = _at(cols["from"], i), _at(cols["to"], i)
        if f0 or f1:  # one frame given: the deduction is seen in that frame
            d["frames"] = [_int_or_text(f0), _int_or_text(f1) if f1 else _int_or_text(f0) + 1 if f0.isdigit() else ""]
        sev = _at(cols["severity"], i)
        if sev:
            try:
                d["severity"] = float(sev)
            except ValueError:
                d["severity"] = sev
        deductions.append(d)
    extra = dict(existing.extra) if existing is not None else {}
    extra["annotation"] = {
        "tool": TOOL,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "prefilled_from": _one(fields, "prefill") or "none",
    }
    rec: dict[str, Any] = {
        "id": rid,
        "video": video_rel,
        "frames": [start, end],
        "action_code": code,
        "dd": dd,
        "stages": {"takeoff": [start, b1], "flight": [b1, b2], "landing": [b2, end]},
        "judges": judges,
        "final_score": score,
        "deductions": deductions,
        "extra": extra,
    }
    for k in ("sex", "athlete", "event"):
        if _one(fields, k):
            rec[k] = _one(fields, k)
    if existing is not None:  # what the page does not edit is kept as it was
        for k, v in existing.to_dict().items():
            if k in ("boxes", "cuts", "skeleton", "synchro"):
                rec[k] = v
    return rec, problems


def _at(values: list[str], i: int) -> str:
    return values[i].strip() if i < len(values) else ""


class FrameCache:
    """JPEG frames of the last few clips opened (decoded once, all frames, at :data:`FRAME_SHORT_SIDE`), so the
    scrubber can step frame by frame without decoding again. Frame ``n`` is the ``n``-th decoded frame: the
    numbering of records' ``frames`` and of every judgemind command."""

    def __init__(self, clips: int = 4):
        self.clips = clips
        self._lock = threading.Lock()
        self._busy: dict[str, threading.Lock] = {}
        self._frames: OrderedDict[str, list[bytes]] = OrderedDict()

    def frame(self, path: Path, n: int) -> bytes | None:
        key = self._key(path)
        with self._lock:
            lock = self._busy.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                frames = self._frames.get(key)
                if frames is not None:
                    self._frames.move_to_end(key)
            if frames is None:
                frames = self._decode(path)
                with self._lock:
                    self._frames[key] = frames
                    while len(self._frames) > self.clips:
                        self._frames.popitem(last=False)
        return frames[n] if 0 <= n < len(frames) else None

    @staticmethod
    def _key(path: Path) -> str:
        st = path.stat()
        return hashlib.sha256(f"{os.path.realpath(path)}|{st.st_mtime_ns}|{st.st_size}".encode()).hexdigest()

    @staticmethod
    def _decode(path: Path) -> list[bytes]:
        cv2 = load_cv2()
        out = []
        for _, rgb in iter_frames(path, short_side=FRAME_SHORT_SIDE):
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
            out.append(buf.tobytes())
        return out
