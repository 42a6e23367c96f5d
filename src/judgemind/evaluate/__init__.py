"""Metrics: the only place judgemind computes them (training, evaluation, benchmarks and reports call these).

See :mod:`judgemind.evaluate.metrics` for the exact definitions (they follow the released code of the AQA methods,
docs/bench.md "Metrics"). Relative L2 and AIoU are reported x100 by our reports, as in the papers.
"""

from judgemind.evaluate import metrics
from judgemind.evaluate.metrics import (
    ScoreReport,
    aiou,
    as_scores,
    average_precision,
    boundary_mae,
    class_averaged_spearman,
    deduction_map,
    evaluate_scores,
    fisher_z_mean,
    l2,
    mae,
    per_class_spearman,
    per_stage_metrics,
    relative_l2,
    relative_l2_x100,
    roc_auc,
    segment_iou,
    spearman,
    stagewise_aiou,
    summarize_seeds,
)

__all__ = metrics.__all__  # the same public names
