"""judgemind: score freestyle-skiing aerials jumps from video the way a judging panel does.

The Python API (docs/api.md), loaded on first use so that ``import judgemind`` stays fast::

    import judgemind

    judge = judgemind.Judge.load("runs/x")                # a run folder of `judgemind train`, or RUN/best.pt
    result = judge.score("jump.mp4", code="bFdFF")        # a frozen judgemind.ScoreResult
    print(result.final_score)                             # "94.69": scores are exact decimals, as strings
    result.write_sheet("out/jump")                        # result.json + sheet.html + timeline.png
    judgemind.score_round(judge, ["a.mp4", "b.mp4"], "out/round", action_code="bLT")
    judgemind.validate_result(doc)                        # a result.json document against its JSON Schema

Subpackages follow the data flow: ``data`` (FineSkiing records, adapters, validation, the scored result), ``rules``
(pure scoring rules, jump codes, deduction catalogue), ``video`` (decoding, athlete locators), ``features``
(extractors and the feature cache), ``models`` (JudgeMind and baselines), ``train``, ``evaluate`` (the only place
metrics are computed), ``infer`` (scoring with a run), ``report`` (judge sheet, tables, plots), ``synth``
(SynthAerials generator) and ``cli``; ``api`` wires infer and report into the functions above.
"""

from judgemind.version import __version__

# the public names, each imported from its module when first used (explicit imports: the import graph test sees them)
_API = ("Judge", "score_round")
_RESULT = ("ScoreResult", "validate_result", "RESULT_SCHEMA_VERSION")

__all__ = ["__version__", *_API, *_RESULT, "JudgemindError"]


def __getattr__(name: str):
    # start-up time: the API loads torch, only when first used
    if name in _API:
        from judgemind import api  # noqa: PLC0415 -- start-up time: torch is loaded on first use

        module = api
    elif name in _RESULT:
        from judgemind.data import result  # noqa: PLC0415 -- start-up time: loaded on first use

        module = result
    elif name == "JudgemindError":
        from judgemind import errors  # noqa: PLC0415 -- start-up time: loaded on first use

        module = errors
    else:
        raise AttributeError(f"module 'judgemind' has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
