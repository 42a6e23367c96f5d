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


def _jpeg(img_rgb: np.ndarray, height: int = 96, box=None) -> str:
    cv2 = load_cv2()

    img = img_rgb.copy()
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), (230, 60, 40), max(1, img.shape[0] // 100))
    h, w = img.shape[:2]
    img = cv2.resize(img, (max(1, int(w * height / h)), height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data_uri(buf.tobytes(), "image/jpeg")


JUMP_FILES = ("timeline.png", "sheet.html", "result.json")  # the order they are written in: result.json last


def write_score_outputs(result: ScoreResult, assets: dict, out_dir: str | os.PathLike) -> dict:
    """Write timeline.png, sheet.html and result.json (last) into ``out_dir`` (``judgemind score VIDEO``); every
    file atomically, all computed before the first is written (no partial output on error). The frames come
    decoded with the result (``assets["thumbnails"]``, made by ``judgemind.infer.score.sheet_thumbnails``): this
    module never opens the video."""

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
    strip_idx, imgs, scale = thumbs["strip"], thumbs["images"], thumbs["scale"]
    boxes = assets.get("boxes", {})
    stages = result.stages or {}

    def stage_of(f):
        if not stages or not stages[STAGES[0]][0] <= f < stages[STAGES[-1]][1]:
            return None
        return STAGES[stage_at(stages, f)]

    def near_box(f):
        if not boxes:
            return None
        k = min(boxes, key=lambda x: abs(x - f))
        return np.asarray(boxes[k], np.float64) * scale

    strip = [{"frame": f, "stage": stage_of(f), "src": _jpeg(imgs[f])} for f in strip_idx]
    evidence = {
        d["item"]: _jpeg(imgs[d["evidence_frame"]], 72, near_box(d["evidence_frame"])) for d in result.deductions
    }
    sp = assets.get("stage_probs")
    png = plot_timeline(
        np.asarray(result.steps["frame_index"]),
        sp,
        stages,
        result.deductions,
        title=f"{result.video_name}  {result.action_code}  score {result.final_score}",
    )
    # every file's bytes are made before the first is written: an error (e.g. text that cannot be encoded)
    # leaves no partial output
    html = render_sheet(result, strip, evidence, png).encode("utf-8")

    return {"timeline.png": png, "sheet.html": html, "result.json": result.json_text().encode("utf-8")}
