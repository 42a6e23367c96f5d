"""`judgemind data`: check a FineSkiing dataset folder, convert other datasets into one, summarise one.

Exit codes of `data validate`: 0 = no errors (warnings allowed), 1 = the dataset has errors (all of them are
printed), 2 = nothing could be checked (DIR is not a folder) or bad usage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from judgemind.cli.commands import COMMANDS
from judgemind.data import load_dataset
from judgemind.data.adapters import convert, format_reproduction_stats
from judgemind.data.from_results import from_results
from judgemind.data.stats import check_stats_out, dataset_stats, format_stats
from judgemind.data.validate import rules_score, validate_dataset
from judgemind.errors import JudgemindError
from judgemind.rules import STAGES, final_score_matches
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_text

_EXAMPLES = """examples:
  judgemind data validate data/synth                 every problem, then a summary; exit 1 on errors
  judgemind data validate out/finediving --no-videos annotations only (videos not at hand)
  judgemind data convert finediving FineDiving/Annotations out/finediving
  judgemind data convert mtl-aqa MTL-AQA/CoRe_info out/mtl-aqa
  judgemind data info out/finediving
  judgemind data from-results out/*/result.json --marks marks.csv --out data/mine
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "data",
        help=COMMANDS["data"],
        description="FineSkiing dataset folders (dataset.json + annotations.jsonl + videos/): validate them, "
        "convert other datasets' annotations into them, print a summary. See docs/data.md.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=lambda args: _help(p))
    ds = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND", title="subcommands")

    v = ds.add_parser(
        "validate",
        help="check a whole dataset and print every problem",
        description="Check every record of a dataset folder against the FineSkiing schema and the scoring rules "
        "and print every problem (file, line, record, field, rule), then a summary. Exit 0 when there are no "
        "errors (warnings are allowed), 1 when there are errors, 2 when DIR is not a folder.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("dir", metavar="DIR", help="dataset folder (holds dataset.json and annotations.jsonl)")
    v.add_argument(
        "--no-videos",
        action="store_true",
        help="do not open the videos (annotation-only datasets); frames are then not checked against them",
    )
    v.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    v.add_argument(
        "--max-errors",
        type=int,
        default=None,
        metavar="N",
        help="print at most N problems (the summary still counts all); default: all",
    )
    v.set_defaults(func=run_validate)

    c = ds.add_parser(
        "convert",
        help="convert FineDiving or MTL-AQA annotations into a FineSkiing dataset folder",
        description="Read another dataset's annotation pickles (with the safe unpickler) and write a FineSkiing "
        "dataset folder (dataset.json + annotations.jsonl, no videos) that passes `judgemind data validate OUT "
        "--no-videos`. The folder is built beside OUT and moved into place when complete; on failure nothing is "
        "left. Prints how many published scores the rules engine reproduces.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("adapter", choices=["finediving", "mtl-aqa"], help="which dataset SRC holds")
    c.add_argument(
        "src",
        metavar="SRC",
        help="FineDiving: its Annotations folder; MTL-AQA: CoRe's info folder "
        "(final_annotations_dict_with_dive_number.pkl, train/test_split_0.pkl)",
    )
    c.add_argument("out", metavar="OUT", help="dataset folder to write (must not exist or be empty)")
    c.add_argument("--overwrite", action="store_true", help="replace OUT if it is not empty")
    val = c.add_mutually_exclusive_group()
    val.add_argument(
        "--val-list",
        metavar="JSON",
        help="finediving: the val split from this Spot-style list ([{'video': '<video>__<instance>'}]) "
        "instead of ../spot_event_labels/val.json beside SRC",
    )
    val.add_argument(
        "--seeded-val",
        action="store_true",
        help="finediving: val = a seeded 20%% of the train split even when a Spot val list is there",
    )
    c.add_argument("--json", action="store_true", help="print the conversion summary as JSON")
    c.set_defaults(func=run_convert)

    i = ds.add_parser(
        "info",
        help="summarise a dataset: splits, scores, DDs, codes, stage lengths",
        description="Summarise a dataset folder: records per split, score and DD ranges, action codes, "
        "judges, stage lengths, agreement of final scores with the rules engine.",
    )
    i.add_argument("dir", metavar="DIR", help="dataset folder")
    i.add_argument("--json", action="store_true", help="print the summary as JSON")
    i.set_defaults(func=run_info)

    st = ds.add_parser(
        "stats",
        help="a dataset's floor and ceilings: code prior, fault oracle, judge agreement",
        description="Measure what every accuracy figure on this dataset should be read against: the "
        "code prior (train mean per action code; the floor), the fault oracle (the annotated "
        "deduction items and points, fitted on train; a ceiling) overall and per component, the "
        "judges' agreement with the panel, the share of jumps with each deduction item, the spread "
        "of each component and the athlete's box height per stage. Prints a summary and writes "
        "the figures as JSON (atomically).",
    )
    st.add_argument("dir", metavar="DIR", help="dataset folder with train and test splits")
    st.add_argument("--out", metavar="FILE", help="JSON file to write (default: DIR/stats.json)")
    st.add_argument("--json", action="store_true", help="print the JSON instead of the summary")
    st.set_defaults(func=run_stats)

    fr = ds.add_parser(
        "from-results",
        help="turn scored result.json files (plus the judges' marks) into annotation records to correct",
        description="Turn the result.json files of `judgemind score` into FineSkiing annotation records: the action "
        "code, DD, frames and cuts as scored, the model's stages, the deductions the judge sheet lists (at their "
        "evidence frames), the video (copied to DATASET/videos/ unless it is inside the data set) and the five "
        "judges' marks from --marks (required: `data validate` checks the final score against them). The records "
        "are checked by the validator of `data validate` and appended to DATASET (made when missing) under its "
        "lock, atomically: a problem in any record adds nothing. Stages and deductions are the model's: correct "
        "them (extra.from_result says where each draft came from). See docs/data.md for the marks file.",
        epilog="marks file (CSV, UTF-8, header first):\n  video,j1,j2,j3,j4,j5\n  jump1.mp4,1.8/4.4/2.7,1.7/4.5/2.7,"
        "1.8/4.3/2.6,1.9/4.4/2.8,1.8/4.6/2.7\n(or j1_air,j1_form,j1_landing,...,j5_landing; optional columns id, "
        "final_score, athlete, event, sex)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fr.add_argument("results", nargs="+", metavar="RESULT.json", help="result.json files of `judgemind score`")
    fr.add_argument("--marks", metavar="FILE", help="the judges' marks, one CSV line per video (see below)")
    fr.add_argument("--out", metavar="DATASET", required=True, help="data set folder to append to (made if missing)")
    fr.add_argument("--split", default="train", help="split that lists the new records (default: train)")
    fr.add_argument(
        "--videos", metavar="DIR", help="folder holding the videos, when they are not where they were scored"
    )
    fr.set_defaults(func=run_from_results)


def _help(parser) -> int:
    parser.print_help()
    return 2


# --------------------------------------------------------------------------------------------------------------
# validate


def run_validate(args) -> int:

    root = Path(args.dir)
    if not root.is_dir():
        raise JudgemindError(f"{root}: no such dataset folder")
    if args.max_errors is not None and args.max_errors < 0:
        raise JudgemindError("--max-errors must be 0 or more")
    ds, problems = validate_dataset(root, check_videos=not args.no_videos)
    errors = [p for p in problems if p.level == "error"]
    warnings = [p for p in problems if p.level != "error"]
    ordered = errors + warnings
    shown = ordered if args.max_errors is None else ordered[: args.max_errors]
    n_records = len(ds) if ds is not None else 0
    if args.json:
        report = {
            "dataset": str(root),
            "records": n_records,
            "errors": len(errors),
            "warnings": len(warnings),
            "checked_videos": not args.no_videos,
            "ok": not errors,
            "problems": [asdict(p) for p in shown],
            "not_shown": len(ordered) - len(shown),
        }
        print(json.dumps(report, indent=2))
    else:
        for p in shown:
            print(p)
        if len(shown) < len(ordered):
            print(f"... and {len(ordered) - len(shown)} more problem(s) (raise --max-errors to see them)")
        videos = "videos checked" if not args.no_videos else "videos not checked (--no-videos)"
        verdict = "OK" if not errors else "FAILED"
        print(f"{root}: {n_records} records, {len(errors)} error(s), {len(warnings)} warning(s); {videos}: {verdict}")
    return 1 if errors else 0


# --------------------------------------------------------------------------------------------------------------
# convert


def run_convert(args) -> int:

    options = {}
    if args.adapter == "finediving":
        if args.val_list:
            options["val_list"] = args.val_list
        elif args.seeded_val:
            options["val_list"] = None
    elif args.val_list or args.seeded_val:
        raise JudgemindError("--val-list / --seeded-val apply to finediving only (MTL-AQA's val is always seeded)")
    res = convert(args.adapter, args.src, args.out, overwrite=args.overwrite, **options)
    splits = {k: len(v) for k, v in res.meta.splits.items()}
    warnings = [p for p in res.problems if p.level != "error"]
    stats = res.stats
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(res.out),
                    "records": len(res.records),
                    "splits": splits,
                    "val_split": res.meta.extra.get("val_split"),
                    "warnings": len(warnings),
                    "reproduction": stats,
                },
                indent=2,
            )
        )
        return 0
    split_text = ", ".join(f"{k} {v}" for k, v in splits.items())
    print(f"wrote {res.out}: {len(res.records)} records ({split_text}); val = {res.meta.extra.get('val_split')}")
    print(
        f"validation (--no-videos): 0 errors, {len(warnings)} warning(s) (published scores kept where the rules "
        f"engine disagrees; see extra.score_mismatch)"
    )
    print(format_reproduction_stats(stats, res.meta.name))
    return 0


# --------------------------------------------------------------------------------------------------------------
# info


def _range(values) -> dict:
    vals = [float(v) for v in values]
    if not vals:
        return {}
    return {"min": min(vals), "max": max(vals), "mean": round(statistics.fmean(vals), 3)}


def dataset_summary(ds) -> dict:
    """Numbers that describe a loaded dataset (used by `data info`)."""

    recs = list(ds.records)
    ids = {r.id for r in recs}
    agree, checked = 0, 0
    for r in recs:
        try:
            expected = rules_score(r, ds.meta.scoring).score
        except (JudgemindError, TypeError, AttributeError):
            continue
        checked += 1
        agree += final_score_matches(r.final_score, expected)
    codes = Counter(r.action_code for r in recs)
    known = [r for r in recs if r.stages_known]
    stage_len = {
        name: _range(r.stages[s][1] - r.stages[s][0] for r in known) for s, name in zip(STAGES, ds.meta.stage_names)
    }
    per_split = {}
    for name, split_ids in ds.meta.splits.items():
        in_split = [ds.get(i) for i in split_ids if i in ids]
        per_split[name] = {"records": len(in_split), "final_score": _range(r.final_score for r in in_split)}
    return {
        "name": ds.meta.name,
        "scoring": ds.meta.scoring,
        "fps": ds.meta.fps,
        "records": len(recs),
        "splits": per_split,
        "in_no_split": len(ids - {i for split_ids in ds.meta.splits.values() for i in split_ids}),
        "final_score": _range(r.final_score for r in recs),
        "dd": {**_range(r.dd for r in recs), "distinct": len({r.dd for r in recs})},
        "codes": {"distinct": len(codes), "most_common": codes.most_common(10)},
        "judges_per_record": dict(sorted(Counter(len(r.judges) for r in recs).items())),
        "synchro": sum(r.synchro for r in recs),
        "frames": _range(r.n_frames for r in recs),
        "stage_frames": stage_len,
        "stages_nominal": len(recs) - len(known),
        "deductions": sum(len(r.deductions) for r in recs),
        "final_score_agrees_with_rules": {"agree": agree, "checked": checked},
    }


def _fmt_range(d: dict, digits: int = 2) -> str:
    if not d or "min" not in d:  # no records (e.g. every record has errors)
        return "-"
    return f"{d['min']:.{digits}f} .. {d['max']:.{digits}f} (mean {d['mean']:.{digits}f})"


def run_info(args) -> int:

    root = Path(args.dir)
    if not root.is_dir():
        raise JudgemindError(f"{root}: no such dataset folder")
    ds, problems = validate_dataset(root, check_videos=False)
    if ds is None:
        raise JudgemindError(f"{root}: cannot be read; run `judgemind data validate {root}`")
    errors = sum(p.level == "error" for p in problems)
    s = dataset_summary(ds)
    s["errors"] = errors
    if args.json:
        print(json.dumps(clean_json(s), indent=2, default=str, allow_nan=False))
        return 0
    w = sys.stdout.write
    w(f"{s['name']} ({root}): scoring {s['scoring']}, {s['fps']:g} fps, {s['records']} records\n")
    for name, sp in s["splits"].items():
        w(f"  split {name:<8} {sp['records']:>6} records, final score {_fmt_range(sp['final_score'])}\n")
    if s["in_no_split"]:
        w(f"  in no split    {s['in_no_split']:>6} records\n")
    w(f"  final score    {_fmt_range(s['final_score'])}\n")
    w(f"  DD             {_fmt_range(s['dd'], 3)}, {s['dd'].get('distinct', 0)} distinct\n")
    common = ", ".join(f"{c} ({n})" for c, n in s["codes"]["most_common"])
    w(f"  codes          {s['codes']['distinct']} distinct; most common: {common}\n")
    judges = ", ".join(f"{k} judges: {v}" for k, v in s["judges_per_record"].items())
    w(f"  judges         {judges}" + (f"; synchro: {s['synchro']}" if s["synchro"] else "") + "\n")
    w(f"  frames/record  {_fmt_range(s['frames'], 1)}\n")
    for name, d in s["stage_frames"].items():
        w(f"  {name:<14} {_fmt_range(d, 1)} frames\n")
    if s["stages_nominal"]:
        w(
            f"  (stage lengths exclude {s['stages_nominal']} record(s) whose stages are nominal, "
            f"extra.stages_known = false)\n"
        )
    a = s["final_score_agrees_with_rules"]
    w(f"  final score = rules engine(judges, DD) for {a['agree']}/{a['checked']} records\n")
    if s["deductions"]:
        w(f"  deductions     {s['deductions']}\n")
    if errors:
        w(f"  {errors} validation error(s): run `judgemind data validate {root}`\n")
    return 0


def run_stats(args) -> int:

    root = Path(args.dir)
    if not root.is_dir():
        raise JudgemindError(f"{root}: no such dataset folder")
    out = Path(args.out) if args.out else root / "stats.json"
    check_stats_out(out, root)  # before any work: never a file of the data set
    s = clean_json(dataset_stats(load_dataset(root, check_videos=False)))  # NaN (one test record) -> null
    text = json.dumps(s, indent=2, allow_nan=False) + "\n"
    try:
        atomic_write_text(out, text)
    except OSError as e:
        raise JudgemindError(f"cannot write {out}: {e.strerror or e}") from None
    print(text if args.json else format_stats(s) + f"\n  written to {out}")
    return 0


# --------------------------------------------------------------------------------------------------------------
# from-results


def run_from_results(args) -> int:

    split = args.split.strip()
    if not split:
        raise JudgemindError("--split must name a split (e.g. train, val, test)")
    added, notes = from_results(args.results, args.out, args.marks, split=split, videos_dir=args.videos)
    for note in notes:
        print(f"note: {note}")
    for rec in added:
        items = ", ".join(d.item for d in rec.deductions) or "none"
        print(f"  {rec.id}: {rec.action_code} (DD {rec.dd}), final score {rec.final_score}, deductions: {items}")
    print(
        f"{len(added)} record(s) added to {args.out} (split {split}); stages and deductions are the model's: "
        f"correct them, then `judgemind data validate {args.out}`"
    )
    return 0
