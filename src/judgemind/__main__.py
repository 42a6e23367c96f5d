"""``python -m judgemind ...``: the same as the ``judgemind`` command (used by the ladder suite to call the CLI with
the interpreter that runs it)."""

from judgemind.cli.main import main

raise SystemExit(main())
