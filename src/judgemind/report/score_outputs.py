"""The files of ``judgemind score`` for one jump: ``result.json``, ``sheet.html`` (the judge sheet) and
``timeline.png``, from the result that ``judgemind.infer.score_video`` computes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from judgemind.data import STAGES
from judgemind.data.records import stage_at
from judgemind.data.result import ScoreResult
from judgemind.errors import JudgemindError
from judgemind.report.sheet import data_uri, render_sheet
from judgemind.report.timeline import plot_timeline
from judgemind.utils.atomic import atomic_write_bytes, write_dir
from judgemind.utils.optional import load_cv2


def _jpeg(img_rgb: np.ndarray, height: int | None = None, quality: int = 85) -> str:
    """A data URI of ``img_rgb`` as JPEG, scaled to ``height`` pixels (None: as it is)."""
    cv2 = load_cv2()

    img = img_rgb
    if height is not None and img.shape[0] != height:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(1, int(w * height / h)), height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data_uri(buf.tobytes(), "image/jpeg")


def _points(pts, inside) -> list | None:
    """Skeleton points as JSON-able [[x, y] or None] (None: out of the picture)."""
    if pts is None:
        return None
    return [[round(float(x), 1), round(float(y), 1)] if ok else None for (x, y), ok in zip(pts, inside)]


def encode_evidence(ev: dict) -> dict:
    """One item's evidence (``assets["thumbnails"]["evidence"][item]``, cut by ``judgemind.infer.evidence``) with
    its pictures encoded for the sheet (:func:`judgemind.report.sheet.render_evidence`)."""
    large = ev["large"]
    h, w = large["image"].shape[:2]
    return {
        "frame": ev["frame"],
        "kind": ev["kind"],
        "crops": [
            {
                "frame": c["frame"],
                "src": _jpeg(c["image"], quality=90),
                "size": int(c["image"].shape[0]),
                "points": _points(c["points"], c["inside"]),
                "box_from": c["box_from"],
            }
            for c in ev["crops"]
        ],
        "large": {
            "src": _jpeg(large["image"]),
            "width": int(w),
            "height": int(h),
            "window": [round(float(v), 1) for v in large["window"]],
            "points": _points(large["points"], large["inside"]),
        },
    }


JUMP_FILES = ("timeline.png", "sheet.html", "result.json")  # the order they are written in: result.json last


def write_score_outputs(result: ScoreResult, assets: dict, out_dir: str | os.PathLike) -> dict:
    """Write timeline.png, sheet.html and result.json (last) into ``out_dir`` (``judgemind score VIDEO``); every
    file atomically, all computed before the first is written (no partial output on error). The frames come
    decoded with the result (``assets["thumbnails"]``, cut by ``judgemind.infer.evidence.sheet_thumbnails`` from
    the score's one pass over the video): this module never opens the video."""

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise JudgemindError(f"--out {out} exists and is not a folder")
    files = render_outputs(result, assets)
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK | os.X_OK):
        raise JudgemindError(f"--out {out}: the folder is not writable; choose another with --out")
    for name in JUMP_FILES:
        atomic_write_bytes(out / name, files[name])
    return {"result": out / "result.json", "sheet": out / "sheet.html", "timeline": out / "timeline.png"}


def write_jump(result: ScoreResult, assets: dict, out_dir: str | os.PathLike) -> dict:
    """A round's jump (``OUT/<name>/``): the three files of :func:`write_score_outputs` swapped into place as one
    folder (``judgemind.utils.atomic.write_dir``), so a kept jump never pairs a new result.json with an old
    sheet."""
    out = Path(out_dir)
    write_dir(out, render_outputs(result, assets))
    return {"result": out / "result.json", "sheet": out / "sheet.html", "timeline": out / "timeline.png"}


def render_outputs(result: ScoreResult, assets: dict) -> dict[str, bytes]:
    """The bytes of result.json, sheet.html and timeline.png (the sheet's frames: ``assets["thumbnails"]``)."""
    thumbs = assets["thumbnails"]
    stages = result.stages or {}

    def stage_of(f):
        if not stages or not stages[STAGES[0]][0] <= f < stages[STAGES[-1]][1]:
            return None
        return STAGES[stage_at(stages, f)]

    strip = [{"frame": f, "stage": stage_of(f), "src": _jpeg(thumbs["images"][f], 96)} for f in thumbs["strip"]]
    evidence = {item: encode_evidence(ev) for item, ev in (thumbs.get("evidence") or {}).items()}
    sp = assets.get("stage_probs")
    png = plot_timeline(
        np.asarray(result.steps["frame_index"]),
        sp,
        stages,
        result.deductions,
        title=f"{result.video_name}  {result.action_code}  score {result.final_score}",
        cuts=result.cuts or (),
    )
    # every file's bytes are made before the first is written: an error (e.g. text that cannot be encoded)
    # leaves no partial output
    html = render_sheet(result, strip, evidence, png).encode("utf-8")

    return {"timeline.png": png, "sheet.html": html, "result.json": result.json_text().encode("utf-8")}
