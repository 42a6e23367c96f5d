"""A round at once: ``judgemind score VIDEOS... | DIR --checkpoint RUN/best.pt [--codes FILE]``.

:func:`plan_round` checks everything that can be checked before any scoring (videos exist, none listed twice, every
code known, every video has a code); :func:`score_round` scores each jump with the run loaded once, hands its
result to a writer (``OUT/<name>/``: result.json, sheet.html, timeline.png), skips jumps whose result is already
there (same video, code and checkpoint), lists a video that fails with its reason without stopping, and returns
the round document ranked by score (``judgemind.report.round`` writes ``OUT/index.html`` and ``OUT/round.json``).

Codes file: one jump a line, ``VIDEO CODE`` (whitespace, comma or tab separated; ``#`` starts a comment; a header
line ``video,code`` is allowed). VIDEO is a path relative to the codes file's folder (or absolute).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from judgemind import rules
from judgemind.data.result import ScoreResult
from judgemind.errors import JudgemindError
from judgemind.infer.run import load_run
from judgemind.infer.score import score_video
from judgemind.infer.target import find_dataset_record
from judgemind.utils.progress import progress_bar

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


@dataclass(frozen=True)
class Jump:
    video: Path
    code: str | None  # None: taken from the video's data set record
    name: str  # output sub-folder


def read_codes(path: Path) -> list[tuple[Path, str, int]]:
    """(video path, code, line number) per line of a codes file; format errors name the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise JudgemindError(f"--codes {path}: cannot read it ({e})") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p for p in re.split(r"[,\t ]+", line) if p]
        if not out and [p.lower() for p in parts] == ["video", "code"]:  # a header line
            continue
        if len(parts) != 2:
            raise JudgemindError(f"--codes {path}, line {n}: expected 'VIDEO CODE', got {line!r}")
        v = Path(parts[0])
        out.append((v if v.is_absolute() else path.parent / v, parts[1], n))
    if not out:
        raise JudgemindError(f"--codes {path}: no 'VIDEO CODE' lines")
    return out


def _videos_of(arg: str) -> list[Path]:
    p = Path(arg)
    if p.is_dir():
        vids = sorted(q for q in p.iterdir() if q.suffix.lower() in VIDEO_EXTENSIONS and q.is_file())
        if not vids:
            raise JudgemindError(
                f"{p} is a folder with no video files ({', '.join(VIDEO_EXTENSIONS)}); pass video "
                f"files or a folder of them"
            )
        return vids
    if not p.exists() and not p.is_symlink():
        raise JudgemindError(f"{p}: no such video; nothing was scored")
    return [p]


def _check_code(code: str, where: str) -> None:
    """A jump code that parses and has a DD, else an error naming ``where`` it came from."""

    try:
        rules.parse_jump_code(code)
        rules.dd_for(code)
    except JudgemindError as e:
        raise JudgemindError(f"{where}: {e}; nothing was scored") from None


def plan_round(videos: Sequence[str], codes_file: str | None, default_code: str | None = None) -> list[Jump]:
    """The jumps of a round, checked before any scoring (see the module docstring). ``default_code``
    (``--action-code``): the code of every video that the codes file does not list."""

    if default_code is not None:
        _check_code(default_code, "--action-code")

    codes: dict[str, tuple[str, Path, int]] = {}
    listed: list[Path] = []
    if codes_file:
        cpath = Path(codes_file)
        for v, code, n in read_codes(cpath):
            key = os.path.realpath(v)
            if key in codes:
                raise JudgemindError(
                    f"--codes {cpath}, line {n}: {v} is listed twice (also line {codes[key][2]}); nothing was scored"
                )
            if not v.is_file():
                raise JudgemindError(f"--codes {cpath}, line {n}: video {v} does not exist; nothing was scored")
            _check_code(code, f"--codes {cpath}, line {n}")
            codes[key] = (code, v, n)
            listed.append(v)
    paths: list[Path] = []
    for a in videos:
        paths += _videos_of(a)
    if not videos:
        paths = listed
    seen: dict[str, Path] = {}
    jumps: list[Jump] = []
    names: set[str] = set()
    for p in paths:
        key = os.path.realpath(p)
        if key in seen:
            raise JudgemindError(f"{p} is given twice (also as {seen[key]}); nothing was scored")
        seen[key] = p
        code = codes.get(key, (default_code,))[0]
        if code is None and find_dataset_record(p, None, None) is None:
            raise JudgemindError(
                f"{p}: no action code for this video; list it in --codes FILE ('VIDEO CODE' "
                f"lines), give one code for all with --action-code, or put it in a FineSkiing data "
                f"set; nothing was scored"
            )
        name = p.stem or "video"
        k = 2
        while name in names:
            name, k = f"{p.stem}_{k}", k + 1
        names.add(name)
        jumps.append(Jump(p, code, name))
    if not jumps:
        raise JudgemindError("no videos to score: pass VIDEOS, a folder or --codes FILE")
    return jumps


def _done(out: Path, jump: Jump, checkpoint: str) -> ScoreResult | None:
    """The stored result of a jump when it was scored with these inputs already (resume)."""
    path = out / jump.name / "result.json"
    if not (path.is_file() and (out / jump.name / "sheet.html").is_file()):
        return None
    try:
        res = ScoreResult.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError, JudgemindError):
        return None
    r = res.round or {}
    if (
        r.get("video") == os.path.realpath(jump.video)
        and r.get("checkpoint") == os.path.realpath(checkpoint)
        and r.get("code") == jump.code
    ):
        return res
    return None


def score_round(
    jumps: Sequence[Jump],
    checkpoint: str,
    out: Path,
    write_jump: Callable[[dict, dict, Path], Any],
    *,
    progress: bool = True,
    **score_kw,
) -> dict:
    """Score every jump with the run of ``checkpoint`` (loaded once; see the module docstring). ``write_jump(result,
    assets, OUT/<name>)`` writes a jump's files as soon as it is scored (``judgemind.report.score_outputs
    .write_score_outputs``), so an interrupted round resumes. Returns the round document (what OUT/round.json holds)."""

    out.mkdir(parents=True, exist_ok=True)
    loaded = load_run(checkpoint)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    bar = None
    if progress:
        bar = progress_bar(total=len(jumps), desc="scoring the round", unit="jump")
    for jump in jumps:
        row: dict[str, Any] = {"name": jump.name, "video": str(jump.video), "sheet": f"{jump.name}/sheet.html"}
        prev = _done(out, jump, checkpoint)
        if prev is not None:
            row.update(_summary(prev), status="done (kept from an earlier run)")
        else:
            try:
                res, assets = score_video(loaded, jump.video, action_code=jump.code, **score_kw)
                res = res.with_(
                    round={
                        "video": os.path.realpath(jump.video),
                        "checkpoint": os.path.realpath(checkpoint),
                        "code": jump.code,
                    }
                )
                write_jump(res, assets, out / jump.name)
                row.update(_summary(res), status="scored")
            except Exception as e:  # noqa: BLE001 -- one broken video is a failed row, the round goes on
                row.update(
                    status="failed", reason=f"{type(e).__name__}: {e}" if not isinstance(e, JudgemindError) else str(e)
                )
        rows.append(row)
        if bar is not None:
            bar.set_postfix_str(f"{jump.name}: {row.get('final_score', row['status'])}", refresh=False)
            bar.update(1)
    if bar is not None:
        bar.close()
    doc = {
        "checkpoint": str(checkpoint),
        "n": len(rows),
        "elapsed_s": round(time.perf_counter() - t0, 2),
        "failed": sum(r["status"] == "failed" for r in rows),
        "not_in_distribution": sum(r.get("in_distribution") is False for r in rows),
        "jumps": ranked(rows),
    }
    return doc


def _summary(res: ScoreResult) -> dict:
    iv = (res.intervals or {}).get("final_score")
    return {
        "action_code": res.action_code,
        "dd": res.dd,
        "final_score": res.final_score,
        "interval": iv,
        "components": res.components,
        "in_distribution": res.in_distribution,
        "ood_reasons": res.ood_reasons or [],
        "official_score": (res.panel or {}).get("official_score"),
    }


def ranked(rows: list[dict]) -> list[dict]:
    """Scored jumps by score (highest first; a jump flagged as not an aerials jump after the others), then
    failures."""
    ok = [r for r in rows if r["status"] != "failed"]
    ok.sort(key=lambda r: (r.get("in_distribution") is False, -float(r["final_score"])))
    for i, r in enumerate(ok, 1):
        r["rank"] = i
    return ok + [r for r in rows if r["status"] == "failed"]
