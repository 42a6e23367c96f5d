"""`judgemind models`: the registered scoring models (JudgeMind and the baselines)."""

from __future__ import annotations

from judgemind.cli.commands import COMMANDS
from judgemind.models import check_model_overrides, list_models


def add_parser(sub) -> None:
    p = sub.add_parser("models", help=COMMANDS["models"], description=__doc__)
    p.add_argument("--config", action="store_true", help="also print each model's config keys and defaults")
    p.set_defaults(func=run)


def run(args) -> int:

    models = list_models()
    width = max(len(n) for n in models)
    for name, desc in models.items():
        print(f"{name:<{width}}  {desc}")
        if args.config:
            for k, v in check_model_overrides(name, {}).items():
                print(f"{'':<{width}}    model.{k} = {v}")
    return 0
