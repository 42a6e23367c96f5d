"""The ladder suite: one command that regenerates every table of docs/results.md.

``python benchmarks/ladder.py --preset bench --out DIR`` generates the SynthAerials preset (and the same jumps with
no camera cuts and with heavy cuts), measures its floor, ceiling and shortcuts (``judgemind data stats``), extracts
annotated skeletons and the video-only perception, trains and evaluates every model with one tuning budget
(``judgemind bench --tune``), measures each of the paper's claims as a paired effect over seeds, the camera-switch
robustness, the data-efficiency curve, and writes

- ``docs/results/ladder/ladder.json``: every figure the tables print, per row and per seed (small JSON);
- ``docs/results/ladder/bench_<part>.json``: the ``bench.json`` of every part, as ``judgemind bench`` wrote it;
- ``docs/results/ladder/stats.json``: the data set's ``judgemind data stats`` (floor, ceiling, shortcut audit);
- the tables in docs/results.md between ``<!-- ladder:begin -->`` and ``<!-- ladder:end -->``, and the plots.

Every step is a ``judgemind`` command that resumes on its own (synth, extract and bench skip what is done), so an
interrupted suite is continued by running the same command again. ``OUT/ladder.json`` stamps the folder with the
preset, the settings and a hash of the package's code: a folder made by another preset, other settings or other
code is refused (say which) instead of mixing its runs with new ones.

All numbers are SYNTHETIC (SynthAerials); the test split is never used to choose anything (see docs/bench.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from judgemind.bench.plan import RunSpec, result_path
from judgemind.errors import JudgemindError
from judgemind.utils.atomic import atomic_write_bytes, atomic_write_text

STEPS = ("data", "main", "claims", "cuts", "curve", "video", "cuthandling", "tables")
# JudgeMind's camera-switch handling, measured on the heavy-cut jumps against the cuts_heavy part's JudgeMind (the
# same settings and seeds): within-shot normalisation of the tokens switched on (off by default: re-decided on val
# here), and the shot augmentation of training switched off.
CUT_HANDLING = {
    "heavy_cutnorm": ("judgemind.cut_norm=true", "cut-aware normalisation on (`model.cut_norm=true`)"),
    "heavy_nocutaug": ("judgemind.cut_aug=0", "no shot augmentation in training (`model.cut_aug=0`)"),
}
# The ladder's tuning grid: wider than `judgemind bench`'s default where JudgeMind's earlier recipe sat (lr 4e-3,
# 30-45 epochs), so that no model's choice is forced onto an edge; every model gets the same budget of its points.
LADDER_GRID = "lr=1e-2,3e-3,1e-3,3e-4,1e-4;epochs=15,30,45;width=0.5,1,2;weight_decay=0,0.01,0.1;aug=0,1"
CUT_MODES = ("none", "heavy")  # besides the preset's own "broadcast"
BEGIN, END = "<!-- ladder:begin -->", "<!-- ladder:end -->"
# The models every part trains (the trained baselines; closed-form posestats, the code prior and the mean need
# no tuning but are run everywhere as reference rows).
MODELS = ("judgemind", "posestats", "tsa", "core", "musdl", "usdl", "mlp", "codeprior", "mean")
CURVE_MODELS = ("judgemind", "posestats", "tsa", "core", "musdl", "usdl", "mlp", "codeprior")
VIDEO_MODELS = ("judgemind", "posestats", "tsa", "codeprior")
VIDEO_FEATURES = "aerialspose_refined"  # `judgemind extract --perception aerialspose`: the best video-only path
# Per-seed test metrics the tables read from each run (missing ones are left out).
METRIC_KEYS = (
    "rho",
    "rl2_x100",
    "air_rho",
    "form_rho",
    "landing_rho",
    "aiou@0.5",
    "aiou@0.75",
    "deduction_map",
    "cover_score",
    "width_score",
    "cover_air",
    "cover_form",
    "cover_landing",
)


@dataclass(frozen=True)
class LadderConfig:
    """One suite: what to generate and how much to train (``benchmarks/ladder.py --help``)."""

    out: Path
    preset: str = "bench"
    n: int = 0  # 0 -> the preset's; a smaller set for a quick pass (labelled in every table)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 40  # the epochs ceiling of every trained model (checkpoint chosen on val)
    batch_size: int = 32
    budget: int = 8  # tuning points per model, the same points for every model
    grid: str = LADDER_GRID
    sizes: tuple[int, ...] = (100, 200, 400, 800)  # training-set sizes of the curve (the full split is the last)
    steps: tuple[str, ...] = STEPS
    jobs: int = 0
    docs: Path | None = None  # the repository's docs/ to write the tables into (None: OUT/docs)

    def stamp(self) -> dict:
        """What makes two suites comparable: everything but the output folders and the steps to run."""
        d = dataclasses.asdict(self)
        for k in ("out", "steps", "jobs", "docs"):
            d.pop(k)
        d["seeds"], d["sizes"] = list(self.seeds), list(self.sizes)
        return d


# --------------------------------------------------------------------------------------------------------------
# the folder stamp


def code_hash() -> str:
    """A hash of the installed package's Python code (file names and bytes) that makes the results: runs from other
    code are not mixed. This module (the orchestration and the tables) is left out: re-rendering the tables with a
    fixed table layout must not invalidate finished runs."""
    root = Path(__file__).resolve().parents[1]
    me = Path(__file__).resolve()
    h = hashlib.sha256()
    for p in sorted(x for x in root.rglob("*.py") if x.resolve() != me):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def git_commit() -> str | None:
    """The repository's commit, when the package runs from a git checkout (provenance only)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def check_stamp(cfg: LadderConfig) -> dict:
    """Write ``OUT/ladder.json`` for a new folder; for an existing one refuse another preset, other settings or
    other code, naming what differs."""
    path = cfg.out / "ladder.json"
    want = {"suite": "ladder", "settings": cfg.stamp(), "code": code_hash()}
    if path.exists():
        try:
            have = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise JudgemindError(f"{path}: not a ladder stamp ({exc}); use another --out") from None
        if not isinstance(have, dict) or have.get("suite") != "ladder":
            raise JudgemindError(f"{path}: not a ladder suite's stamp; use another --out")
        diff = [
            f"{k}: {have.get('settings', {}).get(k)!r} there, {v!r} now"
            for k, v in want["settings"].items()
            if have.get("settings", {}).get(k) != v
        ]
        if have.get("code") != want["code"]:
            diff.append(
                f"code: made by judgemind code {have.get('code')} (commit {have.get('commit') or '?'}), "
                f"this is {want['code']} (commit {git_commit() or '?'})"
            )
        if diff:
            raise JudgemindError(
                f"{cfg.out}: a ladder suite with other settings or code is there ({'; '.join(diff)}); "
                f"its runs cannot be mixed with this one's: use another --out, or the same settings and code"
            )
        return have
    cfg.out.mkdir(parents=True, exist_ok=True)
    doc = {**want, "commit": git_commit(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return doc


# --------------------------------------------------------------------------------------------------------------
# the steps: judgemind commands, each resumable on its own


_CLI = "from judgemind.cli.main import main; raise SystemExit(main())"


def _cli(*args: str) -> list[str]:
    """A ``judgemind`` command run by this interpreter (``python -c``; ``cmd[3:]`` is what a user would type)."""
    return [sys.executable, "-c", _CLI, *args]


def _data(cfg: LadderConfig, cuts: str = "broadcast") -> Path:
    return data_dir(cfg.out, cuts)


def data_dir(out: Path, cuts: str = "broadcast") -> Path:
    """The suite's data set with camera-cut pattern ``cuts`` (the preset's own is ``broadcast``)."""
    return out / ("data" if cuts == "broadcast" else f"data_{cuts}")


def _bench(cfg: LadderConfig, part: str) -> Path:
    return cfg.out / "bench" / part


def _synth(cfg: LadderConfig, cuts: str) -> list[list[str]]:
    cmd = ["synth", str(_data(cfg, cuts)), "--preset", cfg.preset, "--no-progress"]
    if cfg.n:
        cmd += ["--n", str(cfg.n)]
    if cuts != "broadcast":
        cmd += ["--cuts", cuts]
    root = str(_data(cfg, cuts))
    return [_cli(*cmd), _cli("extract", root, "--extractor", "skeleton", "--no-progress")]


def _bench_cmd(cfg: LadderConfig, part: str, data: Path, models: Sequence[str], *extra: str, features="skeleton"):
    cmd = ["bench", "--data", str(data), "--features", features, "--models", ",".join(models)]
    cmd += ["--seeds", ",".join(map(str, cfg.seeds)), "--epochs", str(cfg.epochs)]
    cmd += ["--batch-size", str(cfg.batch_size), "--out", str(_bench(cfg, part)), "--no-progress"]
    if cfg.jobs:
        cmd += ["--jobs", str(cfg.jobs)]
    return _cli(*cmd, *extra)


def _tuned(cfg: LadderConfig) -> list[str]:
    return ["--tune", "--tune-budget", str(cfg.budget), "--tune-grid", cfg.grid]


def _chosen(cfg: LadderConfig) -> list[str]:
    """Train with the settings the main part chose on val for each model (the same settings for every part)."""
    return ["--settings-from", str(_bench(cfg, "main") / "bench.json")]


def plan(cfg: LadderConfig) -> list[tuple[str, list[list[str]]]]:
    """The suite as (step, commands), in order."""
    data = _data(cfg)
    steps: dict[str, list[list[str]]] = {
        "data": _synth(cfg, "broadcast") + [_cli("data", "stats", str(data))],
        "main": [_bench_cmd(cfg, "main", data, MODELS, "--no-ablations", *_tuned(cfg))],
        "claims": [
            _bench_cmd(cfg, part, data, ["judgemind"], "--no-ablations", "--set", f"judgemind.{kv}", *_chosen(cfg))
            for part, kv, _, _ in CLAIMS
        ],
        "cuts": [c for mode in CUT_MODES for c in _synth(cfg, mode)]
        + [
            _bench_cmd(cfg, f"cuts_{mode}", _data(cfg, mode), MODELS[:-1], "--no-ablations", *_chosen(cfg))
            for mode in CUT_MODES
        ],
        "curve": [
            _bench_cmd(cfg, f"size_{n}", data, CURVE_MODELS, "--no-ablations", "--train-size", str(n), *_chosen(cfg))
            for n in cfg.sizes
        ],
        "video": [
            _cli("extract", str(data), "--perception", "aerialspose", "--no-progress"),
            _bench_cmd(cfg, "video", data, VIDEO_MODELS, "--no-ablations", *_chosen(cfg), features=VIDEO_FEATURES),
        ],
        "cuthandling": [
            _bench_cmd(cfg, part, _data(cfg, "heavy"), ["judgemind"], "--no-ablations", "--set", kv, *_chosen(cfg))
            for part, (kv, _) in CUT_HANDLING.items()
        ],
        "tables": [],
    }
    return [(s, steps[s]) for s in STEPS if s in cfg.steps]


def run_suite(cfg: LadderConfig, log=print) -> dict:
    """Run the suite's steps (each command resumes), then write the tables. Returns the ladder document."""
    unknown = sorted(set(cfg.steps) - set(STEPS))
    if unknown:
        raise JudgemindError(f"ladder: unknown step(s) {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    if tuple(cfg.steps) == ("tables",):
        # rendering reads finished runs only: allowed whatever code made them (the stamp names it in the tables)
        if not (cfg.out / "ladder.json").is_file():
            raise JudgemindError(f"{cfg.out}: no ladder suite there (no ladder.json); run the suite first")
    else:
        check_stamp(cfg)
    timing_path = cfg.out / "timing.json"
    timing = json.loads(timing_path.read_text(encoding="utf-8")) if timing_path.is_file() else {}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for step, commands in plan(cfg):
        t0 = time.time()
        for cmd in commands:
            log(f"[ladder {step}] {' '.join(cmd[3:])}")
            rc = subprocess.run(cmd, env=env).returncode
            if rc != 0:
                raise JudgemindError(
                    f"ladder step {step!r}: `judgemind {' '.join(cmd[3:])}` failed (exit {rc}); fix the cause and "
                    f"run the same ladder command again: finished work is kept"
                )
        if commands:
            timing[step] = round(timing.get(step, 0.0) + time.time() - t0, 1)
            atomic_write_text(timing_path, json.dumps(timing, indent=2) + "\n")
    doc = collect(cfg)
    write_docs(doc, cfg.out, cfg.docs)
    return doc


# --------------------------------------------------------------------------------------------------------------
# collecting: per-seed test metrics of every row of every part


def _t975(df: int) -> float:
    """Student's t 97.5 % quantile (two-sided 95 % interval of a mean of df + 1 seeds)."""
    from scipy.stats import t  # noqa: PLC0415 -- scipy is heavy; only the tables need it

    return float(t.ppf(0.975, df))


def mean_ci(values: Sequence[float]) -> dict:
    """Mean and 95 % t-interval over seeds (``lo``/``hi`` None with one seed or a non-finite value)."""
    v = np.asarray([x for x in values if x is not None], np.float64)
    if v.size == 0 or not np.isfinite(v).all():
        return {"mean": None, "lo": None, "hi": None, "n": int(v.size)}
    m = float(v.mean())
    if v.size < 2:
        return {"mean": m, "lo": None, "hi": None, "n": 1}
    half = _t975(v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return {"mean": m, "lo": m - half, "hi": m + half, "n": int(v.size)}


def _per_seed(bench_dir: Path, bench: dict) -> dict:
    """``{label: {"seeds": [...], metric: [one value per seed]}}`` from the bench's per-run result files."""
    rows: dict = {}
    for label, row in bench.get("rows", {}).items():
        seeds, vals = [], {k: [] for k in (*METRIC_KEYS, "val_rho")}
        for seed in row.get("seeds", []):
            res = result_path(bench_dir, RunSpec(label, row.get("model", ""), seed=seed))
            if not res.is_file():
                continue
            run = json.loads(res.read_text(encoding="utf-8"))
            ours, test = run["ours"], run["ours"]["test"]
            seeds.append(seed)
            if row.get("model") == "judgemind":  # runs made before the statistics prior existed had none
                vals.setdefault("stats_prior", []).append(bool((run.get("config") or {}).get("stats_prior", False)))
            for k in METRIC_KEYS:
                vals[k].append(_num(test.get(k)))
            vals["val_rho"].append(_num(ours.get("val", {}).get("rho")))
        vals = {k: v for k, v in vals.items() if any(x is not None for x in v)}
        rows[label] = {"model": row.get("model"), "ablation": row.get("ablation"), "seeds": seeds, **vals}
    return rows


def _num(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def collect(cfg: LadderConfig) -> dict:
    """The ladder document from the suite folder: stats, each part's per-seed rows, the tuning, the timing."""
    parts: dict = {}
    for bdir in sorted((cfg.out / "bench").glob("*/bench.json")):
        bench = json.loads(bdir.read_text(encoding="utf-8"))
        part = bdir.parent.name
        parts[part] = {
            "rows": _per_seed(bdir.parent, bench),
            "tuning": _tuning_summary(bench.get("tuning")),
            "settings": {k: bench.get("settings", {}).get(k) for k in ("epochs", "batch_size", "seeds", "tuned")},
            "features": bench.get("dataset", {}).get("features"),
            "n": bench.get("dataset", {}).get("n"),
        }
    stats_path = _data(cfg) / "stats.json"
    timing_path = cfg.out / "timing.json"
    stamp = json.loads((cfg.out / "ladder.json").read_text(encoding="utf-8"))
    return {
        "suite": "ladder",
        "synthetic": True,
        "settings": cfg.stamp(),
        "code": stamp.get("code"),
        "commit": stamp.get("commit"),
        "stats": json.loads(stats_path.read_text(encoding="utf-8")) if stats_path.is_file() else None,
        "parts": parts,
        "timing_s": json.loads(timing_path.read_text(encoding="utf-8")) if timing_path.is_file() else {},
    }


def _tuning_summary(tuning) -> dict:
    """Per model: the chosen values, the edges they sit on and whether the model was tuned at all."""
    if not isinstance(tuning, dict):
        return {}
    out = {}
    for label, t in (tuning.get("models") or {}).items():
        out[label] = {k: t.get(k) for k in ("chosen", "point", "edges", "tuned", "epoch", "epoch_at_ceiling") if k in t}
    return out


# --------------------------------------------------------------------------------------------------------------
# writing: the committed JSON, the markdown section, the plots


def write_docs(doc: dict, out: Path, docs: Path | None) -> Path:
    """Copy the source files under ``docs/results/ladder/``, render the tables into ``docs/results.md`` and draw
    the plots. Returns the results.md written."""
    docs = docs or (out / "docs")
    dest = docs / "results" / "ladder"
    dest.mkdir(parents=True, exist_ok=True)
    for bdir in sorted((out / "bench").glob("*/bench.json")):
        atomic_write_bytes(dest / f"bench_{bdir.parent.name}.json", bdir.read_bytes())
    stats = data_dir(out) / "stats.json"
    if stats.is_file():
        atomic_write_bytes(dest / "stats.json", stats.read_bytes())
    atomic_write_text(dest / "ladder.json", json.dumps(doc, indent=1) + "\n")
    plot_curve(doc, dest / "curve.png")
    md = docs / "results.md"
    section = render(doc)
    text = md.read_text(encoding="utf-8") if md.is_file() else f"# Measured results\n\n{BEGIN}\n{END}\n"
    atomic_write_text(md, replace_section(text, section))
    return md


def replace_section(text: str, section: str) -> str:
    """``text`` with everything between the ladder markers replaced by ``section`` (markers must be there once)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise JudgemindError(f"results.md: needs exactly one {BEGIN} ... {END} pair for the generated tables")
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:a] + "\n" + section.strip("\n") + "\n" + text[b:]


def section_of(text: str) -> str:
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[a:b].strip("\n")


def _f(x, digits=3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _ci(values, digits=3) -> str:
    s = mean_ci(values)
    if s["mean"] is None:
        return "-"
    if s["lo"] is None:
        return _f(s["mean"], digits)
    return f"{s['mean']:.{digits}f} [{s['lo']:.{digits}f}, {s['hi']:.{digits}f}]"


def _paired(a: dict, b: dict, key: str):
    """Per-seed differences ``a - b`` of ``key`` over the seeds both rows have."""
    sa = dict(zip(a.get("seeds", []), a.get(key, [])))
    sb = dict(zip(b.get("seeds", []), b.get(key, [])))
    return [sa[s] - sb[s] for s in sorted(set(sa) & set(sb)) if sa[s] is not None and sb[s] is not None]


MAIN_COLS = (
    ("rho", "ρ [95 % CI]", 3, True),
    ("rl2_x100", "R-ℓ2×100", 2, False),
    ("air_rho", "Air ρ", 2, False),
    ("form_rho", "Form ρ", 2, False),
    ("landing_rho", "Landing ρ", 2, False),
    ("aiou@0.75", "AIoU@0.75", 1, False),
    ("deduction_map", "ded. mAP", 1, False),
    ("cover_score", "score: cover 90 %", 1, False),
    ("width_score", "width (points)", 1, False),
    ("cover_air", "Air cover", 1, False),
    ("cover_form", "Form cover", 1, False),
    ("cover_landing", "Landing cover", 1, False),
)


def _row_cells(row: dict) -> str:
    cells = []
    for key, _, d, ci in MAIN_COLS:
        vals = row.get(key)
        if not vals:
            cells.append("-")
        elif ci:
            cells.append(_ci(vals, d))
        else:
            s = mean_ci(vals)
            cells.append(_f(s["mean"], d))
    return " | ".join(cells)


def _order(rows: dict) -> list[str]:
    def key(lab):
        m = mean_ci(rows[lab].get("rho", []))["mean"]
        return -(m if m is not None else -9.0)

    return sorted(rows, key=key)


NATURAL_ZERO = ("weight_decay", "aug")


def _tuning_cell(part: dict, label: str) -> str:
    t = part.get("tuning", {}).get(label)
    if not t:
        return "closed form / not tuned"
    if t.get("tuned") is False:
        return "not tuned"
    chosen = t.get("chosen") or t.get("point") or {}
    # 0 is the natural lower bound of weight decay and augmentation (off), not a sign of a too narrow grid
    edges = [k for k, v in (t.get("edges") or {}).items() if v and not (k in NATURAL_ZERO and chosen.get(k) == 0)]
    s = ", ".join(f"{k} {v}" for k, v in chosen.items())
    if t.get("epoch_at_ceiling"):
        edges.append("epoch = ceiling")
    return s + (f" (edge: {', '.join(edges)})" if edges else "")


def render(doc: dict) -> str:
    """The markdown of every ladder table from the ladder document (pure: the test re-renders and compares)."""
    s = doc["settings"]
    parts = doc["parts"]
    size = f"{s['n']} jumps" if s.get("n") else f"the `{s['preset']}` preset"
    out = [
        f"Generated by `python benchmarks/ladder.py --preset {s['preset']}"
        + (f" --n {s['n']}" if s.get("n") else "")
        + f" --out DIR` on {size} (SYNTHETIC), code {doc.get('code')}"
        + (f", commit {doc['commit'][:10]}" if doc.get("commit") else "")
        + f". Seeds {', '.join(map(str, s['seeds']))}, batch {s['batch_size']}. Every trained model is tuned on "
        f"annotated skeletons with the same budget of {s['budget']} points of one grid (`{s['grid']}`; epochs is a "
        f"ceiling, the checkpoint epoch is chosen on val) on val's select half, seed 0 "
        f"(`judgemind bench --tune --tune-budget {s['budget']}`); the other parts (claims, cuts, curve, video) "
        f"train each model with the settings chosen there (`--settings-from`). Intervals: split conformal, 90 %, "
        f"calibrated on val's calib half, which chose nothing. "
        "Test split only for the figures below. Source files: [results/ladder/](results/ladder/).",
        "",
    ]
    out += _stats_table(doc.get("stats"))
    if "main" in parts:
        out += [
            "### The ladder: every model on annotated skeletons",
            "",
            "Annotated skeletons are perfect perception: the generator's 2D + 3D joints, its world pelvis trajectory "
            "and its camera cuts (`judgemind extract --extractor skeleton`; no video decoded). Not a video-only "
            "figure: that is the next table.",
            "",
        ]
        out += _rows_table(parts["main"], "annotated skeletons", tuning=True)
        out += [
            "Tuned: the point chosen on val's select half (seed 0) among the budget's points; (edge: ...) names the "
            "axes whose chosen value is the grid's end - a wider grid might have helped (weight decay 0 and "
            "augmentation off are natural ends, not counted). Cover: share of the test jumps inside the 90 % "
            "interval (target 87-93 %); width: the final score's mean interval width in points.",
            "",
        ]
    if "video" in parts:
        out += ["### From the video alone (AerialsPose + the temporal refiner, `--perception aerialspose`)", ""]
        out += _rows_table(parts["video"], "video only", tuning=True)
    if any(p.startswith("claim_") for p in parts):
        out += _claims_table(parts)
    if any(p.startswith("cuts_") for p in parts) and "main" in parts:
        out += _cuts_table(parts)
    if any(p in parts for p in CUT_HANDLING) and "cuts_heavy" in parts:
        out += _cut_handling_table(parts)
    if any(p.startswith("size_") for p in parts) and "main" in parts:
        out += _curve_table(doc)
    missing = [p for p in expected_parts(s) if p not in parts]
    if missing:
        out += [
            f"**Not measured in this regeneration** (the suite was stopped before them; the same command on the "
            f"same code resumes there, other code needs a new --out): {', '.join(missing)}.",
            "",
        ]
    if doc.get("timing_s"):
        tot = sum(doc["timing_s"].values())
        out += [
            "Time of each step on this machine (s): "
            + ", ".join(f"{k} {v:.0f}" for k, v in doc["timing_s"].items())
            + f"; total {tot / 60:.1f} min.",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def expected_parts(settings: dict) -> list[str]:
    """The bench parts a full suite of these settings writes, in order."""
    return (
        ["main"]
        + [part for part, _, _, _ in CLAIMS]
        + [f"cuts_{m}" for m in CUT_MODES]
        + [f"size_{n}" for n in settings.get("sizes", [])]
        + ["video"]
        + list(CUT_HANDLING)
    )


def _stats_table(st) -> list[str]:
    if not st:
        return []
    cp, fo = st["code_prior"], st["fault_oracle"]
    pc = fo.get("per_component", {})
    lines = [
        "### The benchmark: floor, ceiling and shortcuts (`judgemind data stats`)",
        "",
        "| predictor (fitted on train, test split) | ρ of the score | what it shows |",
        "|---|---:|---|",
        f"| **floor**: code prior (train mean per code) | {_f(cp.get('rho'))} | target ≤ 0.5 |",
        f"| **ceiling**: fault oracle (true items + points) | {_f(fo.get('rho'))} | target ≥ 0.95; Air / Form / "
        f"Landing {_f(pc.get('air', {}).get('rho'), 2)} / {_f(pc.get('form', {}).get('rho'), 2)} / "
        f"{_f(pc.get('landing', {}).get('rho'), 2)} |",
    ]
    sc = st.get("shortcuts") or {}
    names = (
        ("duration", "durations only (clip + stage seconds)"),
        ("code", "action code only"),
        ("box", "annotated athlete box only (per stage)"),
    )
    for key, name in names:
        d = sc.get(key)
        if isinstance(d, dict):
            what = f"fall AUC {_f(d.get('fall_auc'), 2)}"
            if d.get("max_item_auc") is not None:
                what += f"; highest item AUC {_f(d.get('max_item_auc'), 2)} ({d.get('max_item')})"
            if key == "duration":
                what += " (target fall AUC ≤ 0.7)"
            lines.append(f"| {name} | {_f(d.get('score_rho'))} | {what} |")
    seg = sc.get("fixed_offset")
    if isinstance(seg, dict):
        rule = f"lip at {_f(seg.get('lip_s'), 2)} s, touchdown {_f(seg.get('flight_s'), 2)} s later: train means"
        aiou = f"flight AIoU@0.5 {_f(seg.get('aiou@0.5'), 3)}, @0.75 {_f(seg.get('aiou@0.75'), 3)}"
        lines.append(f"| fixed-offset segmentation ({rule}) | - | {aiou} (target @0.75 ≤ 0.5) |")
    if sc.get("falls_test") is not None:
        lines += ["", f"Falls ({', '.join(sc.get('fall_items', []))}): {sc['falls_test']} of the test jumps."]
    return lines + [""]


def _rows_table(part: dict, features: str, tuning: bool) -> list[str]:
    head = "| model | " + " | ".join(c for _, c, _, _ in MAIN_COLS) + (" | tuned on val |" if tuning else " |")
    lines = [head, "|" + "---|" * (len(MAIN_COLS) + 1 + int(tuning))]
    rows = part["rows"]
    for lab in _order(rows):
        line = f"| {lab} | {_row_cells(rows[lab])} |"
        if tuning:
            line += f" {_tuning_cell(part, lab)} |"
        lines.append(line)
    return lines + [""]


# The paper's claims, one bench part per variant (most important first, so that an interrupted suite has them):
# (part, --set of the variant, its label in bench.json's ablation table, what changes).
CLAIMS = (
    (
        "claim_statsprior",
        "stats_prior=false",
        "judgemind -statistics prior",
        "statistics prior off (the network's components alone)",
    ),
    ("claim_knowledge", "knowledge=false", "judgemind -knowledge", "knowledge bank → learned item queries (no text)"),
    (
        "claim_shuffled",
        "shuffled_knowledge=true",
        "judgemind shuffled-knowledge",
        "knowledge bank → every item given another item's description",
    ),
    (
        "claim_plainhead",
        "plain_head=true",
        "judgemind plain-head",
        "grade-aware decoder → plain regressor head on the decoder states",
    ),
    ("claim_segmentation", "segmentation=false", "judgemind -segmentation", "segmentation off (uniform windows)"),
    ("claim_global", "global=false", "judgemind -global", "foreground tokens alone (no global tokens)"),
    ("claim_foreground", "foreground=false", "judgemind -foreground", "global tokens alone (no foreground tokens)"),
    ("claim_gradebands", "grade_bands=false", "judgemind -grade_bands", "grade bands off (deduction composition kept)"),
)


def _with_prior(row: dict) -> bool:
    """Whether a JudgeMind row's runs had the statistics prior (runs made before it existed had none)."""
    return any(row.get("stats_prior", []))


def _claims_table(parts: dict) -> list[str]:
    full = parts.get("main", {}).get("rows", {}).get("judgemind")
    if not full:
        return []
    no_prior = parts.get("claim_statsprior", {}).get("rows", {}).get("judgemind")
    lines = [
        "### The paper's claims: each component's effect (paired over seeds, 95 % CI)",
        "",
        f"Full model (the main part's JudgeMind, the same settings and seeds): ρ {_ci(full.get('rho', []))}. "
        "Δ = variant − reference on the same seed, the reference being the model that differs from the variant in "
        "that component only: the full model, or for a variant run without the statistics prior (runs made before "
        "it existed) JudgeMind without the prior (the first row's variant). A component helps when the interval "
        "of Δρ lies below 0.",
        "",
        "| variant | what changes | against | Δρ [95 % CI] | ΔR-ℓ2×100 | ΔAir ρ | ΔForm ρ | ΔLanding ρ | the component "
        "helps |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for part, _, label, what in CLAIMS:
        r = parts.get(part, {}).get("rows", {}).get("judgemind")
        if not r:
            continue
        ref, against = full, "full model"
        if part != "claim_statsprior" and _with_prior(full) and not _with_prior(r):
            if no_prior is None:
                continue  # no like-for-like reference measured
            ref, against = no_prior, "-statistics prior"
        d = mean_ci(_paired(r, ref, "rho"))
        holds = "-" if d["hi"] is None else ("yes" if d["hi"] < 0 else ("no: it costs" if d["lo"] > 0 else "no"))
        cells = [_ci(_paired(r, ref, "rho"))] + [
            _f(mean_ci(_paired(r, ref, k))["mean"], 2) for k in ("rl2_x100", "air_rho", "form_rho", "landing_rho")
        ]
        lines.append(f"| {label} | {what} | {against} | " + " | ".join(cells) + f" | {holds} |")
    return lines + [""]


def _cuts_table(parts: dict) -> list[str]:
    none, heavy, main = parts.get("cuts_none"), parts.get("cuts_heavy"), parts["main"]
    lines = [
        "### Camera switches: the same jumps with no cuts, broadcast cuts and heavy cuts",
        "",
        "| model | ρ, no cuts | ρ, broadcast | ρ, heavy cuts | drop none → heavy [95 % CI] |",
        "|---|---|---|---|---|",
    ]
    labels = [lab for lab in _order(main["rows"]) if none and lab in none["rows"]]
    for lab in labels:
        a = none["rows"][lab] if none else {}
        c = heavy["rows"].get(lab, {}) if heavy else {}
        drop = _paired(a, c, "rho") if c else []
        lines.append(
            f"| {lab} | {_ci(a.get('rho', []))} | {_ci(main['rows'][lab].get('rho', []))} | "
            f"{_ci(c.get('rho', []))} | {_ci(drop)} |"
        )
    drops = {
        lab: mean_ci(_paired(none["rows"][lab], heavy["rows"][lab], "rho"))["mean"]
        for lab in ("judgemind", "tsa")
        if none and heavy and lab in none["rows"] and lab in heavy["rows"]
    }
    if len(drops) == 2 and None not in drops.values() and drops["tsa"] > 0:
        lines += ["", f"JudgeMind's drop is {drops['judgemind'] / drops['tsa']:.2f} of TSA's (target ≤ 0.5)."]
    return lines + [""]


def _cut_handling_table(parts: dict) -> list[str]:
    ref = parts["cuts_heavy"]["rows"].get("judgemind")
    if not ref:
        return []
    lines = [
        "### JudgeMind's camera-switch handling on the heavy-cut jumps (paired over seeds, 95 % CI)",
        "",
        f"Reference: JudgeMind as tuned, on the heavy-cut jumps: test ρ {_ci(ref.get('rho', []))}, val ρ "
        f"{_ci(ref.get('val_rho', []))}. `cut_norm` is decided by the val column (val's select half).",
        "",
        "| variant | Δ val ρ [95 % CI] | Δ test ρ [95 % CI] |",
        "|---|---|---|",
    ]
    for part, (_, what) in CUT_HANDLING.items():
        row = parts.get(part, {}).get("rows", {}).get("judgemind")
        if row:
            lines.append(f"| {what} | {_ci(_paired(row, ref, 'val_rho'))} | {_ci(_paired(row, ref, 'rho'))} |")
    return lines + [""]


def curve_points(doc: dict) -> dict[str, list[tuple[int, dict]]]:
    """Per model: (training jumps, mean/CI of test rho) at each size of the curve and the full training split."""
    parts = doc["parts"]
    sizes = sorted(int(p.split("_", 1)[1]) for p in parts if p.startswith("size_"))
    full = (parts["main"].get("n") or {}).get("train")
    pts: dict[str, list] = {}
    for n in sizes + ([full] if full else []):
        part = parts[f"size_{n}"] if n in sizes else parts["main"]
        for lab, row in part["rows"].items():
            if lab in CURVE_MODELS:
                pts.setdefault(lab, []).append((n, mean_ci(row.get("rho", []))))
    return pts


def _curve_table(doc: dict) -> list[str]:
    pts = curve_points(doc)
    sizes = sorted({n for v in pts.values() for n, _ in v})
    lines = [
        "### Data efficiency: test ρ against the number of training jumps (same val and test)",
        "",
        "| model | " + " | ".join(str(n) for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for lab in sorted(pts, key=lambda k: -(pts[k][-1][1]["mean"] or -9)):
        by = dict(pts[lab])
        lines.append(f"| {lab} | " + " | ".join(_f(by[n]["mean"]) if n in by else "-" for n in sizes) + " |")
    return lines + ["", "![test rho against training-set size](results/ladder/curve.png)", ""]


def plot_curve(doc: dict, png: Path) -> None:
    if not any(p.startswith("size_") for p in doc["parts"]) or "main" not in doc["parts"]:
        return
    import matplotlib  # noqa: PLC0415 -- only the plot needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 -- after the backend is chosen

    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for lab, pts in sorted(curve_points(doc).items()):
        xs = [n for n, _ in pts]
        ys = [s["mean"] if s["mean"] is not None else math.nan for _, s in pts]
        lo = [s["mean"] - s["lo"] if s["lo"] is not None else 0.0 for _, s in pts]
        ax.errorbar(xs, ys, yerr=lo, marker="o", capsize=2, label=lab, lw=2.2 if lab == "judgemind" else 1.0)
    ax.set_xscale("log")
    ax.set(xlabel="training jumps", ylabel="test Spearman ρ", title="Data efficiency (SYNTHETIC, SynthAerials)")
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    tmp = png.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, png)


__all__ = [
    "BEGIN",
    "END",
    "STEPS",
    "LadderConfig",
    "check_stamp",
    "collect",
    "mean_ci",
    "plan",
    "render",
    "replace_section",
    "run_suite",
    "section_of",
    "write_docs",
]
