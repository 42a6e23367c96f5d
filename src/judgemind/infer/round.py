"""A round at once: ``judgemind score VIDEOS... | DIR --checkpoint RUN/best.pt [--codes FILE]``.

:func:`plan_round` checks everything that can be checked before any scoring (videos exist, none listed twice, every
code known, every video has a code) and gives each jump a safe output folder name (:func:`folder_names`);
:func:`score_round` scores each jump with the run loaded once, hands its result to a writer (``OUT/<name>/``:
result.json, sheet.html, timeline.png, written as one unit), keeps a jump whose stored result has the same
:func:`round key <jump_inputs>` (the video's content, the checkpoint's and its calibration's content, the code,
every option that changes the result, the data set record used), lists a video that fails with its reason without
stopping, and returns the round document ranked by score (``judgemind.report.round`` writes ``OUT/index.html`` and
``OUT/round.json``).

Codes file (:func:`read_codes`): one jump a line, ``VIDEO CODE``. UTF-8 (a byte-order mark, as Excel and Notepad
write, is dropped; UTF-16 with its mark is read too). Fields are separated by a tab when the line has one, else by a
comma (CSV quoting allowed), else by spaces: a name with spaces needs a comma or a tab. ``#`` at the start of a
line or after a space starts a comment (``jump#1.mp4`` is a name, and so is ``jump #1.mp4`` on a line
``jump #1.mp4, bLT``). A first line ``video,code`` or
``video,action_code`` is a header. VIDEO is absolute, or relative to the codes file's folder **or** to a folder
given on the command line (``judgemind score DIR --codes FILE``): when it exists in only one of them that one is
used; when it exists in both as different files the line is an error naming both.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from judgemind import rules
from judgemind.data.dataset import dumps_record
from judgemind.data.result import ScoreResult
from judgemind.errors import JudgemindError
from judgemind.infer.score import score_video
from judgemind.infer.target import find_dataset_record
from judgemind.runs.calibrate import calibration_path
from judgemind.utils import display_text, not_a_file_reason, open_regular
from judgemind.utils.atomic import sha256_file
from judgemind.utils.progress import progress_bar
from judgemind.version import __version__

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
ROUND_FILES = ("index.html", "round.json")  # a round's own files in OUT: never a jump's folder name
ROUND_LOCK = ".judgemind.lock"  # held while a command writes into OUT
MAX_CODES_BYTES = 10 << 20
MAX_NAME_BYTES = 100  # a jump folder's name (UTF-8 bytes, before a _2 suffix)
HEADER_CODES = ("code", "action_code", "action code", "action-code", "jump code")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass(frozen=True)
class Jump:
    video: Path
    code: str | None  # None: taken from the video's data set record
    name: str  # output sub-folder (:func:`folder_names`)


def decode_codes(raw: bytes, where: str) -> str:
    """The text of a codes file: UTF-8 with or without a byte-order mark, or UTF-16 with one."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise JudgemindError(
                f"{where}: not UTF-16 text after its UTF-16 byte-order mark; save the file as UTF-8"
            ) from None
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as e:
        at = bom + e.start
        line = raw[:at].count(b"\n") + 1
        raise JudgemindError(f"{where}, line {line}: not UTF-8 text (byte {at}); save the file as UTF-8") from None


def split_codes_line(line: str) -> list[str]:
    """The fields of one line of a codes file, its comment removed (see the module docstring for the separators):
    ``#`` after a space starts a comment unless the line only has two fields with it (``jump #1.mp4, bLT``)."""
    parts = _fields(_COMMENT.sub("", line))
    if len(parts) != 2 and not line.lstrip().startswith("#"):
        whole = _fields(line)
        parts = whole if len(whole) == 2 else parts
    return parts


def _fields(line: str) -> list[str]:
    line = line.strip()
    if not line:
        return []
    if "\t" in line:
        parts = line.split("\t")
    elif "," in line:
        parts = next(csv.reader([line], skipinitialspace=True), [])
    else:
        parts = line.split()
    parts = [p.strip() for p in parts]
    return [p for p in parts if p]


def read_codes(path: Path) -> list[tuple[str, str, int]]:
    """(video name as written, code, line number) per jump line of a codes file; format errors name the line."""
    with open_regular(path, "--codes file") as fh:
        raw = fh.read(MAX_CODES_BYTES + 1)
    if len(raw) > MAX_CODES_BYTES:
        raise JudgemindError(f"--codes {path}: over {MAX_CODES_BYTES >> 20} MB; a codes file lists one jump a line")
    out: list[tuple[str, str, int]] = []
    first = True
    for n, line in enumerate(decode_codes(raw, f"--codes {path}").splitlines(), 1):
        parts = split_codes_line(line)
        if not parts:
            continue
        if (
            first
            and len(parts) >= 2
            and parts[0].casefold() == "video"
            and " ".join(parts[1:]).casefold() in HEADER_CODES
        ):
            first = False
            continue  # a header line
        first = False
        if len(parts) != 2:
            raise JudgemindError(
                f"--codes {path}, line {n}: expected 'VIDEO CODE', got {line.strip()[:200]!r} (a "
                f"name with spaces: separate it from the code with a comma or a tab)"
            )
        if "\x00" in parts[0]:
            raise JudgemindError(f"--codes {path}, line {n}: the video name {parts[0]!r} holds a NUL byte")
        out.append((parts[0], parts[1], n))
    if not out:
        raise JudgemindError(f"--codes {path}: no 'VIDEO CODE' lines")
    return out


def codes_video(name: str, codes_path: Path, dirs: Sequence[Path], line: int) -> Path:
    """The video a codes-file line names (see the module docstring for the rule), or an error naming the line."""
    where = f"--codes {codes_path}, line {line}"
    if os.path.isabs(name):
        candidates = [Path(name)]
    else:
        candidates = [codes_path.parent / name] + [d / name for d in dirs]
    found: dict[str, Path] = {}
    for c in candidates:
        if os.path.lexists(c):
            found.setdefault(os.path.realpath(c), c)
    if len(found) > 1:
        a, b = list(found.values())[:2]
        raise JudgemindError(
            f"{where}: {name!r} is both {display_text(a)} and {display_text(b)} (different "
            f"files); write the path relative to one of them, or absolute; nothing was scored"
        )
    if not found:
        looked = " or ".join(display_text(c.parent) for c in candidates)
        raise JudgemindError(
            f"{where}: video {display_text(name)} does not exist (looked in {looked}); nothing was scored"
        )
    video = next(iter(found.values()))
    why = not_a_file_reason(video)
    if why:
        raise JudgemindError(f"{where}: video {display_text(video)} {why}; nothing was scored")
    return video


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


def _read_codes_file(codes_file: str, dirs: Sequence[Path]) -> tuple[dict[str, tuple[str, Path, int]], list[Path]]:
    """{real path: (code, video, line)} and the videos in the order of the codes file."""
    cpath = Path(codes_file)
    codes: dict[str, tuple[str, Path, int]] = {}
    listed: list[Path] = []
    for name, code, n in read_codes(cpath):
        v = codes_video(name, cpath, dirs, n)
        key = os.path.realpath(v)
        if key in codes:
            raise JudgemindError(
                f"--codes {cpath}, line {n}: {v} is listed twice (also line {codes[key][2]}); nothing was scored"
            )
        _check_code(code, f"--codes {cpath}, line {n}")
        codes[key] = (code, v, n)
        listed.append(v)
    return codes, listed


def plan_round(videos: Sequence[str], codes_file: str | None, default_code: str | None = None) -> list[Jump]:
    """The jumps of a round, checked before any scoring (see the module docstring). ``default_code``
    (``--action-code``): the code of every video that the codes file does not list."""
    if default_code is not None:
        _check_code(default_code, "--action-code")
    dirs = [Path(a) for a in videos if Path(a).is_dir()]
    codes, listed = _read_codes_file(codes_file, dirs) if codes_file else ({}, [])
    paths: list[Path] = []
    for a in videos:
        paths += _videos_of(a)
    if not videos:
        paths = listed
    seen: dict[str, Path] = {}
    for p in paths:
        key = os.path.realpath(p)
        if key in seen:
            raise JudgemindError(f"{p} is given twice (also as {seen[key]}); nothing was scored")
        seen[key] = p
        if codes.get(key, (default_code,))[0] is None and find_dataset_record(p, None, None) is None:
            raise JudgemindError(
                f"{p}: no action code for this video; list it in --codes FILE ('VIDEO CODE' "
                f"lines), give one code for all with --action-code, or put it in a FineSkiing data "
                f"set; nothing was scored"
            )
    if not paths:
        raise JudgemindError("no videos to score: pass VIDEOS, a folder or --codes FILE")
    names = folder_names([p.stem for p in paths])
    return [Jump(p, codes.get(os.path.realpath(p), (default_code,))[0], n) for p, n in zip(paths, names)]


def folder_name(stem: str) -> str:
    """A jump's folder name from its video's stem: printable (undecodable bytes, path separators, control and
    format characters and ``<>:"|?*`` become ``_``), no leading or trailing dots or spaces (never hidden, never
    ``.`` or ``..``), at most :data:`MAX_NAME_BYTES` bytes; ``video`` when nothing is left."""
    text = "".join(
        "_" if c in '/\\<>:"|?*\ufffd' or unicodedata.category(c)[0] == "C" else c for c in display_text(stem)
    )
    text = text.strip(" .")
    text = text.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(" .")
    return text or "video"


def _reserved(name: str) -> bool:
    n = name.casefold()
    return n in ROUND_FILES or n.split(".")[0] in _WINDOWS_DEVICES


def folder_names(stems: Sequence[str]) -> list[str]:
    """One folder name per video stem (:func:`folder_name`), distinct even on a case-insensitive file system and
    never a round's own file (``index.html``, ``round.json``) or a device name: a name taken already gets ``_2``,
    ``_3``, ... in the order given (deterministic)."""
    taken: set[str] = set()
    out = []
    for stem in stems:
        base = folder_name(stem)
        name, k = base, 2
        while name.casefold() in taken or _reserved(name):
            name, k = f"{base}_{k}", k + 1
        taken.add(name.casefold())
        out.append(name)
    return out


def round_inputs(run, score_kw: dict) -> dict:
    """What every jump of a round depends on besides its video and code: judgemind's version, the checkpoint's
    and its calibration's content, and the options that change a result (threshold, locator, data set use,
    backbone weights' content)."""
    run.calibration  # (made now when missing, so that it is part of the key from the first jump on)
    cal = calibration_path(run.run_dir, run.checkpoint)
    opts = {k: v for k, v in sorted(score_kw.items()) if k != "weights"}
    weights = score_kw.get("weights")
    opts["weights"] = sha256_file(weights, what="--weights file") if weights else None
    return {
        "judgemind": __version__,
        "checkpoint": sha256_file(run.run_dir / f"{run.checkpoint}.pt"),
        "calibration": sha256_file(cal) if cal.is_file() else None,
        "options": opts,
    }


def jump_inputs(jump: Jump, base: dict, use_dataset: bool) -> dict:
    """Everything a jump's result depends on (:func:`round_inputs` + the video's content, its code, and the data
    set record used for it: its annotation line, the data set's settings and its skeleton file)."""
    record = None
    if use_dataset:
        hit = find_dataset_record(jump.video, None, None)
        if hit is not None:
            root, rec = hit
            record = {
                "dataset": sha256_file(root / "dataset.json"),
                "record": dumps_record(rec),
                "skeleton": sha256_file(root / rec.skeleton, what="skeleton array") if rec.skeleton else None,
            }
    return {**base, "video": sha256_file(jump.video, what="video"), "code": jump.code, "record": record}


def key_of(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _done(out: Path, jump: Jump, key: str) -> ScoreResult | None:
    """The stored result of a jump scored from the same inputs already (resume): its folder (written as one unit)
    holds all three files and its result.json the same round key."""
    folder = out / jump.name
    if folder.is_symlink() or not folder.is_dir():
        return None
    if not all(
        (folder / n).is_file() and not (folder / n).is_symlink() for n in ("result.json", "sheet.html", "timeline.png")
    ):
        return None
    try:
        res = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not (isinstance(res, dict) and isinstance(res.get("round"), dict) and res["round"].get("key") == key):
        return None
    try:
        return ScoreResult.from_json(res, str(folder / "result.json"))
    except JudgemindError:
        return None


def score_round(
    jumps: Sequence[Jump],
    run,
    out: Path,
    write_jump: Callable[[ScoreResult, dict, Path], Any],
    *,
    progress: bool = True,
    **score_kw,
) -> dict:
    """Score every jump with the loaded ``run`` (``judgemind.infer.run.load_run``; see the module docstring).
    ``write_jump(result, assets, OUT/<name>)`` writes a jump's files as soon as it is scored
    (``judgemind.report.score_outputs.write_jump``), so an interrupted round resumes. The caller holds ``OUT``'s
    lock. Returns the round document (what OUT/round.json holds)."""
    base = round_inputs(run, score_kw)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    bar = None
    if progress:
        bar = progress_bar(total=len(jumps), desc="scoring the round", unit="jump")
    for jump in jumps:
        row: dict[str, Any] = {"name": jump.name, "video": display_text(jump.video), "sheet": f"{jump.name}/sheet.html"}
        try:
            inputs = jump_inputs(jump, base, score_kw.get("use_dataset", True))
            key = key_of(inputs)
            prev = _done(out, jump, key)
            if prev is not None:
                row.update(summary_row(prev), status="done (kept from an earlier run)")
            else:
                res, assets = score_video(run, jump.video, action_code=jump.code, **score_kw)
                res = res.with_(
                    round={
                        "video": display_text(os.path.realpath(jump.video)),
                        "code": jump.code,
                        "checkpoint": display_text(os.path.realpath(run.run_dir / f"{run.checkpoint}.pt")),
                        "key": key,
                        "inputs": inputs,
                    }
                )
                write_jump(res, assets, out / jump.name)
                row.update(summary_row(res), status="scored")
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
        "checkpoint": display_text(run.source),
        "n": len(rows),
        "elapsed_s": round(time.perf_counter() - t0, 2),
        "failed": sum(r["status"] == "failed" for r in rows),
        "not_in_distribution": sum(r.get("in_distribution") is False for r in rows),
        "jumps": ranked(rows),
    }
    return doc


def summary_row(res: ScoreResult) -> dict:
    """The ranking's columns of a scored jump (a row of round.json without its name, video, sheet and status)."""
    iv = (res.intervals or {}).get("final_score")
    return {
        "action_code": res.action_code,
        "dd": res.dd,
        "final_score": res.final_score,
        "interval": iv,
        "components": res.components,
        "in_distribution": res.in_distribution,
        "ood_reasons": res.ood_reasons or [],
        "jump_margin": (res.jump_check or {}).get("margin"),
        "features_unlike_training": bool((res.feature_check or {}).get("unlike_training")),
        "official_score": (res.panel or {}).get("official_score"),
        "error": ((res.panel or {}).get("model_error") or {}).get("final_score"),  # model - panel
    }


def rank_ranges(intervals: Sequence[Sequence[float] | None]) -> list[tuple[int, int]]:
    """``(best, worst)`` rank of each of n jumps consistent with their score intervals ``[lo, hi]`` (None: no
    interval, any score). Rank 1 is the highest score. A jump can be no better than 1 + the number of jumps whose
    lower bound exceeds its upper bound (those are above it whatever the truth inside the intervals), and no worse
    than n - the number of jumps whose upper bound is below its lower bound. When every jump's reported score
    lies in its own interval, the ranking by score has best <= rank <= worst; pairwise disjoint intervals give
    best == worst."""
    lo = np.array([-np.inf if iv is None else float(iv[0]) for iv in intervals])
    hi = np.array([np.inf if iv is None else float(iv[1]) for iv in intervals])
    n = len(lo)
    above = (lo[None, :] > hi[:, None]).sum(1)  # jumps surely above each jump
    below = (hi[None, :] < lo[:, None]).sum(1)  # jumps surely below each jump
    return [(1 + int(a), n - int(b)) for a, b in zip(above, below)]


def ranked(rows: list[dict]) -> list[dict]:
    """Scored jumps by score (highest first; a jump flagged as not an aerials jump after the others), then
    failures. Each scored jump gets its ``rank`` and its ``rank_range`` ``[best, worst]``
    (:func:`rank_ranges` of the final score's intervals, within its group: the jumps in distribution ranks
    1..m, the flagged ones m+1..n after them)."""
    ok = [r for r in rows if r["status"] != "failed"]
    ok.sort(key=lambda r: (r.get("in_distribution") is False, -float(r["final_score"])))
    start = 0
    for flagged in (False, True):
        group = [r for r in ok if (r.get("in_distribution") is False) == flagged]
        for i, (r, (best, worst)) in enumerate(zip(group, rank_ranges([r.get("interval") for r in group]))):
            r["rank"] = start + i + 1
            r["rank_range"] = [start + best, start + worst]
        start += len(group)
    return ok + [r for r in rows if r["status"] == "failed"]
