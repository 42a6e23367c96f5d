"""Scoring with a trained run: load it once, score videos, predict data sets.

    from judgemind.infer import load_run, score_video, evaluate_split, predict_dataset

    run = load_run("runs/x/best.pt")                  # model, config, feature manifest, exemplars, calibration
    result, assets = score_video(run, "jump.mp4", action_code="bFdFF")   # decode -> locate -> features -> model
                                                                         # -> rules.compose_official
    ev = evaluate_split(run, "test")                  # metrics + per-record predictions of the run's data set
    lines = predict_dataset(run, "data/other", "all")

``judgemind score``, ``evaluate`` and ``predict`` all go through this package, and every official score comes from
:func:`judgemind.rules.compose_official`, so one video gets one score whichever command asks. Nothing here writes
files: ``judgemind.report`` renders the results (``report.score_outputs``, ``report.predictions``).

Modules: :mod:`.run` (loading a run), :mod:`.target` (the jump to score: code, DD, frames, boxes, cuts),
:mod:`.score` (one video), :mod:`.predict` (a data set).
"""

from judgemind.infer.predict import Evaluation, evaluate_split, predict_dataset, prediction_records
from judgemind.infer.run import LoadedRun, load_calibration, load_run, run_dir_of
from judgemind.infer.score import score_video
from judgemind.infer.target import Target, find_dataset_record, resolve_target

__all__ = [
    "Evaluation",
    "LoadedRun",
    "Target",
    "evaluate_split",
    "find_dataset_record",
    "load_calibration",
    "load_run",
    "predict_dataset",
    "prediction_records",
    "resolve_target",
    "run_dir_of",
    "score_video",
]
