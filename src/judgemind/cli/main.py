"""Entry point of the ``judgemind`` command.

Each subcommand lives in its own module ``judgemind.cli.cmd_<name>`` with a function ``add_parser(subparsers)``
that adds its parser and sets ``func`` (called with the parsed ``args``; returns an exit code or None). Only the
module of the command being run is imported (the others are listed by their line of
:data:`judgemind.cli.commands.COMMANDS`), so each module imports what its command needs at its top and
``judgemind --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.version import __version__


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``judgemind`` parser. ``command``: the one command whose module is imported (its full parser); every
    other command is listed by its line of :data:`judgemind.cli.commands.COMMANDS` alone. None: all of them (the
    tests); "": none (``judgemind --help``, ``--version``, an unknown command)."""
    parser = argparse.ArgumentParser(
        prog="judgemind",
        description="Score freestyle-skiing aerials jumps from video the way a judging panel does: stages, "
        "Air/Form/Landing, likely deductions and the official score (J x DD, truncated).",
        epilog="Start with `judgemind demo --quick`. Run `judgemind COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"judgemind {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the Python traceback of an unexpected error (for bug reports); may be given "
        "anywhere on the command line",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, line in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(f"judgemind.cli.cmd_{name}").add_parser(sub)
        else:
            sub.add_parser(name.replace("_", "-"), help=line)
    return parser


def command_of(argv: list[str]) -> str:
    """The command an argument list runs (its first word that is not an option, ``-`` read as ``_``), or "" when
    it names none of :data:`COMMANDS`."""
    word = next((a for a in argv if not a.startswith("-")), "")
    name = word.replace("-", "_")
    return name if name in COMMANDS else ""


EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): an internal error, i.e. a bug in judgemind


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _os_error_message(exc: OSError) -> str:
    """A user-facing line for an error of the operating system (permissions, full disk, name too long ...)."""

    what = exc.strerror or type(exc).__name__
    files = [f for f in (exc.filename, exc.filename2) if f is not None]
    where = " -> ".join(os.fsdecode(f) if isinstance(f, (bytes, str)) else str(f) for f in files)
    hint = ""
    if isinstance(exc, PermissionError):
        hint = "; check the permissions of that file or folder, or choose another one"
    elif getattr(exc, "errno", None) == 28:  # ENOSPC
        hint = "; free some disk space and re-run (finished outputs are kept)"
    return _one_line(f"{where + ': ' if where else ''}{what}{hint}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # names from users' files may hold characters the terminal cannot encode (lone surrogates, undecodable file
    # names): print them escaped instead of failing in the middle of a report
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot be reconfigured (closed, replaced by a test)
                pass
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere (before or after the subcommand), so a user can add it to a failing command line
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    args.debug = debug
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    prog = f"judgemind {args.command}"
    try:
        code = args.func(args)
    except JudgemindError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        problems = getattr(exc, "problems", None)
        if problems:
            for p in problems[:200]:
                print(f"  - {p}", file=sys.stderr)
            if len(problems) > 200:
                print(f"  ... and {len(problems) - 200} more", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished outputs are kept, re-run to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `judgemind ... | head`: the reader went away; not an error of ours
        return 1
    except OSError as exc:  # the environment refused (permissions, full disk, ...): say which file and why
        if debug:
            raise
        print(f"{prog}: error: {_os_error_message(exc)}", file=sys.stderr)
        return 1
    except MemoryError:
        if debug:
            raise
        print(
            f"{prog}: error: out of memory; the input is larger than this machine can handle (see the size "
            f"limits in docs/reliability.md)",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # noqa: BLE001 -- the safety net: a bug must still end in one clear line
        if debug:
            raise
        print(
            f"{prog}: internal error: {type(exc).__name__}: {_one_line(exc, 200)}. This is a bug in judgemind; "
            f"re-run with --debug to see the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
