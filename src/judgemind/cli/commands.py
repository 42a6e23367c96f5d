"""The commands of ``judgemind`` and the one line each shows in ``judgemind --help``, in that order.

Kept apart from the commands' modules so that ``judgemind --help`` and ``judgemind COMMAND ...`` load only what
they need: :func:`judgemind.cli.main.build_parser` imports ``judgemind.cli.cmd_<name>`` for the command being run
(each module imports what its command uses at its top) and lists the others by this line alone."""

from __future__ import annotations

__all__ = ["COMMANDS"]

COMMANDS: dict[str, str] = {
    "demo": "the whole pipeline on synthetic data: generate, extract, train, benchmark, judge sheets",
    "score": "score a jump video: stages, Air/Form/Landing, deductions, final score + HTML judge sheet",
    "serve": "the local web app: score clips in a browser (upload, queue, sheets, rounds) and annotate a data set",
    "annotate": "annotate a FineSkiing data set in the browser (the annotate page of `judgemind serve`)",
    "synth": "generate a synthetic aerials dataset (SynthAerials): videos, annotations, splits",
    "extract": "extract feature tokens (global + athlete) from a dataset's videos into its feature cache",
    "extractors": "list feature extractors and athlete locators and what they need",
    "train": "train a model (JudgeMind or a baseline) into a run folder",
    "evaluate": "metrics + predictions of a trained run on a split",
    "predict": "predictions of a trained run for a dataset",
    "bench": "benchmark JudgeMind against USDL, MUSDL, CoRe, TSA (tables + plots)",
    "models": "list JudgeMind and the baselines",
    "evaluate_predictions": "metrics (rho, L2, R-l2 x100, MAE) of saved prediction arrays",
    "data": "validate a dataset folder, convert FineDiving / MTL-AQA into one, summarise one",
    "rules": "scoring rules by hand: score from judges' marks, deduction catalogue, DD table, jump codes",
    "pose": "train or evaluate AerialsPose, the learned 19-point pose estimator for aerials renders",
}
