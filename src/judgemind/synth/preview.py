"""Contact sheet of a SynthAerials dataset: a few jumps per row, frames at the stages and inside the faults,
each labelled with its stage and the faults visible in it, so that a person can check that faults show."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from judgemind.errors import JudgemindError
from judgemind.synth.camera import view_jump
from judgemind.synth.judging import score_jump
from judgemind.synth.render import render_frames
from judgemind.synth.spec import FAULT_STAGE, sample_spec, timeline
from judgemind.synth.writer import SETTINGS_FILE, SYNTH_DIR, settings_from_dict
from judgemind.utils.atomic import atomic_path

_FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX


def _text(img, text: str, org: tuple[int, int], color=(255, 255, 255), scale: float = 0.4) -> None:

    cv2.putText(img, text, org, _FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, _FONT, scale, color, 1, cv2.LINE_AA)


def _pick_jumps(seed: int, n: int, codes, max_jumps: int) -> list[int]:
    """Jumps that together show as many different faults as possible (plus one clean jump if there is one)."""
    specs = [sample_spec(seed, i, codes) for i in range(min(n, 200))]
    seen: set[str] = set()
    chosen: list[int] = []
    clean = next((s.index for s in specs if not s.faults), None)
    while len(chosen) < max_jumps - (clean is not None):
        best = max(
            (s for s in specs if s.index not in chosen),
            key=lambda s: (len({f.item for f in s.faults} - seen), -s.index),
            default=None,
        )
        if best is None or not ({f.item for f in best.faults} - seen):
            break
        chosen.append(best.index)
        seen |= {f.item for f in best.faults}
    if clean is not None:
        chosen.append(clean)
    for s in specs:  # fill up with the first jumps
        if len(chosen) >= min(max_jumps, len(specs)):
            break
        if s.index not in chosen:
            chosen.append(s.index)
    return sorted(chosen)


def _pick_frames(spec, fps: float, k: int) -> list[int]:
    """A take-off frame, the lip, frames inside the faults and across the flight, and a landing frame."""
    tl = timeline(spec, fps)
    landing = min(tl.n_frames - 1, tl.touch + max(1, (tl.n_frames - tl.touch) // 3))
    picks = [tl.lip // 2, tl.lip - 1, landing]
    pool = [sum(tl.fault_frames(f)) // 2 for f in spec.faults]
    pool += np.linspace(tl.lip + 1, tl.touch - 1, 3).astype(int).tolist() + [tl.n_frames - 1]
    for p in pool:
        if len(picks) >= k:
            break
        if all(abs(p - q) >= 2 for q in picks):
            picks.append(int(p))
    return sorted(picks[:k])


def write_preview(
    root: str | os.PathLike, png: str | os.PathLike, max_jumps: int = 6, frames_per_jump: int = 6, tile: int = 160
) -> Path:
    """Draw a contact sheet of the SynthAerials dataset in ``root`` to ``png`` (written atomically)."""

    root, png = Path(root), Path(png)
    if png.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise JudgemindError(f"--preview {png}: give a .png (or .jpg) file name")
    sfile = root / SYNTH_DIR / SETTINGS_FILE
    if not sfile.is_file():
        raise JudgemindError(
            f"{root}: not a SynthAerials dataset (no {SYNTH_DIR}/{SETTINGS_FILE}); the preview "
            f"re-renders jumps from the generator's settings"
        )
    st = settings_from_dict(json.loads(sfile.read_text(encoding="utf-8")))
    rows = []
    width = tile * frames_per_jump
    for index in _pick_jumps(st.seed, st.n, st.codes, max_jumps):
        spec = sample_spec(st.seed, index, st.codes)
        view = view_jump(spec, st.size, st.fps)
        tl = view.timeline
        picks = _pick_frames(spec, st.fps, frames_per_jump)
        wanted = set(picks)
        frames = {k: fr for k, fr in enumerate(render_frames(view)) if k in wanted}
        sc = score_jump(spec)
        faults = ", ".join(f"{f.item} {f.severity:.2f}" for f in spec.faults) or "no faults"
        header = np.full((34, width, 3), 32, np.uint8)
        _text(
            header,
            f"{spec.id}  {spec.code}  DD {spec.dd}  score {sc.final} (J {sc.score.J})  {spec.athlete.id}",
            (6, 14),
        )
        _text(header, faults, (6, 29), (120, 220, 255), 0.38)
        tiles = []
        for k in picks:
            img = cv2.resize(frames[k], (tile, tile), interpolation=cv2.INTER_LINEAR)
            stage = "takeoff" if k < tl.lip else "flight" if k < tl.touch else "landing"
            _text(img, f"{stage} f{k}" + ("  CUT" if k in view.camera.cuts else ""), (4, 13))
            active = [
                f.item
                for f in spec.faults
                if tl.fault_frames(f)[0] <= k < tl.fault_frames(f)[1] and FAULT_STAGE[f.item] == stage
            ]
            for j, item in enumerate(active[:3]):
                _text(img, item, (4, tile - 6 - 13 * j), (80, 80, 255))
            tiles.append(img)
        while len(tiles) < frames_per_jump:
            tiles.append(np.zeros((tile, tile, 3), np.uint8))
        rows.append(np.concatenate([header, np.concatenate(tiles, axis=1)], axis=0))
    title = np.full((26, width, 3), 16, np.uint8)
    _text(
        title,
        f"SynthAerials (SYNTHETIC) - {root.name} - seed {st.seed} - {st.size}px {st.fps:g} fps",
        (6, 17),
        scale=0.45,
    )
    sheet = np.concatenate([title] + rows, axis=0)
    try:
        with atomic_path(png) as tmp:
            if not cv2.imwrite(str(tmp), sheet):
                raise JudgemindError(f"{png}: OpenCV could not write the image")
    except OSError as e:
        raise JudgemindError(f"cannot write the preview {png}: {e.strerror or e}") from None
    return png
