"""The ``judgemind`` command line. One module per subcommand (``cmd_<name>.py``), each exposing
``add_parser(subparsers)`` that registers its parser and sets ``func=run``; ``main.py`` wires them together."""
