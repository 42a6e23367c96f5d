"""The files of ``judgemind score`` for one jump: ``result.json``, ``sheet.html`` (the judge sheet) and
``timeline.png``, from the result that ``judgemind.infer.score_video`` computes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from judgemind.data import STAGES
from judgemind.errors import JudgemindError

SHEET_SHORT_SIDE = 360  # frames for the judge sheet are decoded at this shorter side


def _jpeg(img_rgb: np.ndarray, height: int = 96, box=None) -> str:
    import cv2

    from judgemind.report.sheet import data_uri

    img = img_rgb.copy()
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), (230, 60, 40), max(1, img.shape[0] // 100))
    h, w = img.shape[:2]
    img = cv2.resize(img, (max(1, int(w * height / h)), height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data_uri(buf.tobytes(), "image/jpeg")


JUMP_FILES = ("timeline.png", "sheet.html", "result.json")   # the order they are written in: result.json last


def write_outputs(result: dict, assets: dict, out_dir: str | os.PathLike, strip_frames: int = 12) -> dict:
    """Write timeline.png, sheet.html and result.json (last) into ``out_dir`` (``judgemind score VIDEO``); every
    file atomically, all computed before the first is written (no partial output on error)."""
    from judgemind.utils.atomic import atomic_write_bytes

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise JudgemindError(f"--out {out} exists and is not a folder")
    files = render_outputs(result, assets, strip_frames)
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK | os.X_OK):
        raise JudgemindError(f"--out {out}: the folder is not writable; choose another with --out")
    for name in JUMP_FILES:
        atomic_write_bytes(out / name, files[name])
    return {"result": out / "result.json", "sheet": out / "sheet.html", "timeline": out / "timeline.png"}


def write_jump(result: dict, assets: dict, out_dir: str | os.PathLike) -> dict:
    """A round's jump (``OUT/<name>/``): the three files of :func:`write_outputs` swapped into place as one
    folder (``judgemind.utils.atomic.write_dir``), so a kept jump never pairs a new result.json with an old
    sheet."""
    from judgemind.utils.atomic import write_dir

    out = Path(out_dir)
    write_dir(out, render_outputs(result, assets))
    return {"result": out / "result.json", "sheet": out / "sheet.html", "timeline": out / "timeline.png"}


def render_outputs(result: dict, assets: dict, strip_frames: int = 12) -> dict[str, bytes]:
    """The bytes of result.json, sheet.html and timeline.png (frames decoded from the video for the sheet)."""
    from judgemind.report.sheet import render_sheet
    from judgemind.report.timeline import plot_timeline
    from judgemind.video.decode import read_frames
    from judgemind.video.probe import probe_video

    s, e = result["frames"]
    strip_idx = sorted(set(np.linspace(s, e - 1, strip_frames).astype(int).tolist()))
    ev_idx = sorted({d["evidence_frame"] for d in result["deductions"]})
    want = sorted(set(strip_idx) | set(ev_idx))
    video = assets.get("video_path", result["video"])
    # the sheet shows 96 px thumbnails: decode small (a 8000 x 8000 video must not be held at full size)
    imgs = dict(zip(want, read_frames(video, want, short_side=SHEET_SHORT_SIDE)))
    any_img = next(iter(imgs.values()))
    scale = any_img.shape[1] / float(probe_video(video).display_width or any_img.shape[1])
    boxes = assets.get("boxes", {})
    stages = result.get("stages") or {}

    def stage_of(f):
        for k in STAGES:
            if k in stages and stages[k][0] <= f < stages[k][1]:
                return k
        return None

    def near_box(f):
        if not boxes:
            return None
        k = min(boxes, key=lambda x: abs(x - f))
        return np.asarray(boxes[k], np.float64) * scale

    strip = [{"frame": f, "stage": stage_of(f), "src": _jpeg(imgs[f])} for f in strip_idx]
    evidence = {d["item"]: _jpeg(imgs[d["evidence_frame"]], 72, near_box(d["evidence_frame"]))
                for d in result["deductions"]}
    sp = assets.get("stage_probs")
    png = plot_timeline(np.asarray(result["steps"]["frame_index"]), sp, stages, result["deductions"],
                        title=f"{result['video_name']}  {result['action_code']}  score {result['final_score']}")
    # every file's bytes are made before the first is written: an error (e.g. text that cannot be encoded)
    # leaves no partial output
    html = render_sheet(result, strip, evidence, png).encode("utf-8")
    from judgemind.utils import clean_json

    text = (json.dumps(clean_json(result), indent=2, default=str, allow_nan=False) + "\n").encode("utf-8")
    return {"timeline.png": png, "sheet.html": html, "result.json": text}
