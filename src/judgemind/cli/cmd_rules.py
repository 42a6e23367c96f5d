"""`judgemind rules`: the scoring rules by hand: compute a score from judges' marks, list the deduction catalogue
and the DD table, describe a jump code. Everything here is exact decimal arithmetic (``judgemind.rules``)."""

from __future__ import annotations

import argparse
import json
import re

from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.rules import (
    DD_TABLE,
    dd_entries,
    dd_entry,
    describe_code,
    load_catalogue,
    parse_jump_code,
    score_aerials,
    score_aerials_legacy,
    score_diving,
    to_decimal,
)
from judgemind.rules.names import COMPONENTS, STAGES

_EXAMPLES = """examples:
  judgemind rules score --dd 4.425 --judge 1.8,4.4,2.7 --judge 1.9,4.6,2.8 --judge 1.7,4.2,2.6 \\
      --judge 1.9,4.5,2.9 --judge 1.6,4.0,2.4
  judgemind rules score --code bFdFF --judge ... (5 times)        DD from the table
  judgemind rules score --legacy --dd 4.9 --air-form 6.1,6.4,6.5,6.6,7.0 --landing 2.6,2.6
  judgemind rules score --diving --dd 3.2 --judges 7.5,8.0,8.0,8.5,7.0,9.0,8.0
  judgemind rules catalogue --stage landing
  judgemind rules codes
  judgemind rules parse bHRaF
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "rules",
        help=COMMANDS["rules"],
        description="Apply the judging rules by hand: J x DD truncated (5-judge and old 7-judge aerials formats, "
        "diving), the deduction catalogue, the DD table and jump codes.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=lambda args: _help(p))
    rs = p.add_subparsers(dest="rules_command", metavar="SUBCOMMAND", title="subcommands")

    s = rs.add_parser(
        "score",
        help="score one jump from judges' marks",
        description="Score one jump. 5-judge aerials (default): --judge AIR,FORM,LANDING five times; the highest "
        "and lowest judge totals are dropped, the other three added (J) and J x DD truncated to 2 decimals. "
        "In --json output, 'counted'/'dropped' are 0-based judge indices; the text output numbers judges from 1.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dd = s.add_mutually_exclusive_group()
    dd.add_argument("--dd", help="degree of difficulty, e.g. 4.425")
    dd.add_argument("--code", help="jump code (e.g. bFdFF): look the DD up in the table (`judgemind rules codes`)")
    s.add_argument("--sex", choices=["M", "W"], help="with --code: use the men's / women's DD where they differ")
    s.add_argument(
        "--judge",
        action="append",
        default=[],
        metavar="AIR,FORM,LANDING",
        help="one judge's marks (air 0-2.0, form 0-5.0, landing 0-3.0); give it 5 times",
    )
    mode = s.add_mutually_exclusive_group()
    mode.add_argument(
        "--legacy", action="store_true", help="old 7-judge split format: --air-form (5 marks) and --landing (2)"
    )
    mode.add_argument("--diving", action="store_true", help="diving: --judges with 7, 5 or 3 marks (0-10)")
    s.add_argument("--air-form", metavar="M1,...,M5", help="--legacy: the 5 Air+Form judges' marks (0-7.0)")
    s.add_argument("--landing", metavar="M1,M2", help="--legacy: the 2 landing judges' marks (0-3.0)")
    s.add_argument("--judges", metavar="S1,...", help="--diving: the judges' marks (7, 5 or 3 of them)")
    s.add_argument("--synchro", action="store_true", help="--diving: synchronised event, 0.6 x DD x sum of 5")
    s.add_argument("--json", action="store_true", help="machine-readable output (numbers as strings)")
    s.set_defaults(func=run_score)

    c = rs.add_parser("catalogue", help="list the deduction catalogue", description="List the deduction items.")
    c.add_argument("--stage", choices=list(STAGES), help="only the items of this stage")
    c.add_argument("--file", help="a catalogue JSON file instead of the packaged one")
    c.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    c.set_defaults(func=run_catalogue)

    k = rs.add_parser("codes", help="list the DD table", description="List the jump codes with their DD values.")
    k.add_argument("--json", action="store_true", help="print the table as JSON")
    k.set_defaults(func=run_codes)

    q = rs.add_parser("parse", help="describe a jump code", description="Describe a jump code, e.g. bFdFF.")
    q.add_argument("code", help="jump code, e.g. bFdFF")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=run_parse)


def _help(parser) -> int:
    parser.print_help()
    return 2


# --------------------------------------------------------------------------------------------------------------
# score


def _split(text: str, flag: str) -> list:

    parts = [t for t in re.split(r"[,/;\s]+", text.strip()) if t]
    if not parts:
        raise JudgemindError(f"{flag}: no marks given; write them comma-separated, e.g. {flag} 1.8,4.4,2.7")
    return [to_decimal(t, f"{flag} {text!r}: mark {t!r}") for t in parts]


def _resolve_dd(args):

    if args.code:
        if args.diving:
            raise JudgemindError("--code looks up aerials DDs only; for diving pass --dd")
        entry = dd_entry(args.code, args.sex)
        note = f"{args.code}: {describe_code(args.code)}; table value {entry.sex or 'generic'}, {entry.era}"
        return entry.value, note
    if args.dd is None:
        raise JudgemindError("give the degree of difficulty: --dd 4.425, or --code bFdFF to look it up")
    if args.sex:
        raise JudgemindError("--sex only applies with --code")
    return to_decimal(args.dd, "--dd"), None


def _check_flags(args) -> None:
    if not args.legacy and (args.air_form or args.landing):
        raise JudgemindError("--air-form and --landing belong to the old 7-judge format: add --legacy")
    if not args.diving and (args.judges or args.synchro):
        raise JudgemindError("--judges and --synchro are for diving: add --diving (aerials use --judge 5 times)")
    if (args.legacy or args.diving) and args.judge:
        raise JudgemindError("--judge AIR,FORM,LANDING is for the 5-judge aerials format; drop --legacy/--diving")
    if args.legacy and not (args.air_form and args.landing):
        raise JudgemindError("--legacy needs --air-form M1,...,M5 and --landing M1,M2")
    if args.diving and not args.judges:
        raise JudgemindError("--diving needs --judges S1,S2,... (7, 5 or 3 marks)")
    if not (args.legacy or args.diving) and not args.judge:
        raise JudgemindError("give 5 judges' marks: --judge AIR,FORM,LANDING five times (see --help)")


def run_score(args) -> int:

    _check_flags(args)
    dd, dd_note = _resolve_dd(args)
    if args.diving:
        res = score_diving(_split(args.judges, "--judges"), dd, synchro=args.synchro)
        marks = None
    elif args.legacy:
        res = score_aerials_legacy(_split(args.air_form, "--air-form"), _split(args.landing, "--landing"), dd)
        marks = None
    else:
        marks = [_split(j, f"--judge #{n}") for n, j in enumerate(args.judge, 1)]
        for n, m in enumerate(marks, 1):
            if len(m) != 3:
                raise JudgemindError(f"--judge #{n} {args.judge[n - 1]!r}: need 3 marks AIR,FORM,LANDING, got {len(m)}")
        res = score_aerials(marks, dd)
    if args.json:
        out = res.to_dict()
        if marks is not None:
            out["judges"] = [dict(zip(COMPONENTS, map(str, m))) for m in marks]
        if args.code:
            out["code"] = args.code
        print(json.dumps(out, indent=2))
        return 0
    if args.diving:
        _print_diving(res, _split(args.judges, "--judges"))
    else:
        _print_aerials(res, marks)
    print(f"DD = {res.dd}" + (f"  ({dd_note})" if dd_note else ""))
    rounding = "rounded half-up" if args.diving else "truncated"
    print(f"score = {res.J} x {res.dd} = {res.raw} -> {rounding} to {res.score}")
    return 0


def _status(i: int, res) -> str:
    if i in res.counted:
        return "counted"
    if not res.dropped:
        return ""
    lowest = res.dropped[: len(res.dropped) // 2]
    return "dropped (lowest)" if i in lowest else "dropped (highest)"


def _print_aerials(res, marks) -> None:
    if marks is not None:
        print(f"{'judge':>5}  {'air':>4}  {'form':>4}  {'landing':>7}  {'total':>5}")
        for i, (m, t) in enumerate(zip(marks, res.judge_totals)):
            print(f"{i + 1:>5}  {m[0]!s:>4}  {m[1]!s:>4}  {m[2]!s:>7}  {t!s:>5}  {_status(i, res)}")
    else:
        print(f"{'judge':>5}  {'air+form':>8}")
        for i, t in enumerate(res.judge_totals):
            print(f"{i + 1:>5}  {t!s:>8}  {_status(i, res)}")
        marks_text = " + ".join(str(m) for m in res.landing_marks)
        print(f"landing = ({marks_text}) / {len(res.landing_marks)} x 3 = {res.landing_score}")
    parts = " + ".join(str(res.judge_totals[i]) for i in res.counted)
    extra = f" + {res.landing_score}" if res.landing_score is not None else ""
    print(f"J = {parts}{extra} = {res.J}")


def _print_diving(res, scores) -> None:
    print(f"{'judge':>5}  {'score':>5}")
    for i, s in enumerate(scores):
        print(f"{i + 1:>5}  {s!s:>5}  {_status(i, res)}")
    if res.format == "synchro5":
        print(f"J = 0.6 x ({' + '.join(str(s) for s in scores)}) = {res.J}")
    else:
        print(f"J = {' + '.join(str(scores[i]) for i in res.counted)} = {res.J}")


# --------------------------------------------------------------------------------------------------------------
# catalogue, codes, parse


def run_catalogue(args) -> int:

    cat = load_catalogue(args.file)
    items = cat.by_stage(args.stage) if args.stage else cat.items
    if args.json:
        d = cat.to_dict()
        d["items"] = [i.to_dict() for i in items]
        print(json.dumps(d, indent=2, ensure_ascii=False))
        return 0
    print(f"deduction catalogue v{cat.version}: {len(items)} item(s); points are deducted from the component")
    print(f"{'id':<20} {'stage':<8} {'component':<9} {'points':<9} {'cap':<4} {'est':<3} description")
    for i in items:
        pts = f"{i.points_min}-{i.points_max}"
        cap = "" if i.landing_cap is None else str(i.landing_cap)
        est = "*" if i.estimate else ""
        print(f"{i.id:<20} {i.stage:<8} {i.component:<9} {pts:<9} {cap:<4} {est:<3} {i.description}")
    print("cap = highest landing mark allowed; * = project-estimated range")
    return 0


def run_codes(args) -> int:

    if args.json:
        rows = [dict(e.to_dict(), description=describe_code(e.code)) for e in DD_TABLE]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'code':<8} {'sex':<7} {'DD':<6} {'conf':<4} {'era':<28} {'source':<9} jump")
    for current in (True, False):
        if not current:
            print("\nearlier or unconfirmed values (kept as history, not used by --code):")
        for e in DD_TABLE:
            if e.current == current:
                sex = e.sex or "generic"
                print(
                    f"{e.code:<8} {sex:<7} {e.value!s:<6} {e.confidence:<4} {e.era:<28} {e.source:<9} "
                    f"{describe_code(e.code)}" + (f"  [{e.note}]" if e.note else "")
                )
    print("\nDD depends on the season; records in a dataset keep their own dd. Unknown codes: pass --dd.")
    return 0


def run_parse(args) -> int:

    jc = parse_jump_code(args.code)
    entries = dd_entries(jc.code)
    if args.json:
        out = {
            "code": jc.code,
            "direction": jc.direction,
            "description": describe_code(jc.code),
            "n_somersaults": jc.n_somersaults,
            "total_twists": str(float(jc.total_twists)),
            "somersaults": [{"shape": s.shape, "twists": str(float(s.twists))} for s in jc.somersaults],
            "shape": jc.shape,
            "dd": [e.to_dict() for e in entries],
        }
        print(json.dumps(out, indent=2))
        return 0
    print(f"{jc.code}: {describe_code(jc.code)}")
    for n, s in enumerate(jc.somersaults, 1):
        twists = f"{float(s.twists):g} twist" + ("" if s.twists == 1 else "s")
        print(f"  somersault {n}: {s.name} ({s.shape}, {twists})")
    print(f"  shape: {jc.shape}")
    if entries:
        for e in entries:
            flag = "" if e.current else " (history)"
            print(f"  DD {e.value} ({e.sex or 'generic'}, {e.era}, source {e.source}){flag}")
    else:
        print("  DD: not in the table; pass --dd to `judgemind rules score`")
    return 0
