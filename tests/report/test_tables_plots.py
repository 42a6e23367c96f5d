"""Report building blocks: Markdown/CSV tables, number formatting, PNG plots."""

from __future__ import annotations

import csv
import io
import math

import pytest

from judgemind.report.plots import grouped_bars, scatter_pred_true
from judgemind.report.tables import Table, fmt_count, fmt_mean_std, fmt_num, write_csv


def test_formatting():
    assert fmt_mean_std(0.91234, 0.0041, 3) == "0.912 ± 0.004"
    assert fmt_mean_std(0.91234, float("nan"), 3) == "0.912"
    assert fmt_mean_std(float("nan"), 0.1) == "–"
    assert fmt_num(None) == "–" and fmt_num(3) == "3" and fmt_num(2.0, 1) == "2.0"
    assert fmt_count(1_990_431) == "1.99M" and fmt_count(50_277) == "50.3k" and fmt_count(12) == "12"


def test_table_markdown_and_csv(tmp_path):
    t = Table(["model", "ρ", "note"], [["a|b", 0.5, None], ["c", float("nan"), "x"]], title="T", notes=["a note"])
    md = t.to_markdown()
    assert md.startswith("### T\n")
    assert "| a\\|b | 0.500 | – |" in md and "|:---|---:|---:|" in md and md.rstrip().endswith("a note")
    write_csv(tmp_path / "t.csv", t)
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert rows == [["model", "ρ", "note"], ["a|b", "0.5", ""], ["c", "", "x"]]
    with pytest.raises(ValueError):
        Table(["a", "b"], [[1]])


def test_plots_write_png(tmp_path):
    scatter_pred_true(
        tmp_path / "s.png",
        [1, 2, 3, 4],
        [1.1, 2.2, 2.9, 4.5],
        title="m",
        note="rho 1",
        groups=["seed 0", "seed 0", "seed 1", "seed 1"],
    )
    grouped_bars(
        tmp_path / "b.png",
        ["Air", "Form", "Landing"],
        {"a": ([0.5, 0.6, math.nan], [0.01, 0.02, math.nan]), "b": ([0.4, 0.3, 0.2], None)},
        title="t",
    )
    grouped_bars(tmp_path / "empty.png", ["Air"], {}, title="nothing")
    for name in ("s.png", "b.png", "empty.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*part*"))  # atomic writes leave no temporary files


def test_timeline_labels_do_not_overlap():
    """Issue 15: deductions sharing an evidence frame (or close ones) get their own label rows."""
    import numpy as np

    from judgemind.report.timeline import _overlap, plot_timeline

    deds = [
        {"name": n, "probability": 0.8, "evidence_frame": f}
        for n, f in [
            ("short flight", 49),
            ("crossed skis", 49),
            ("legs apart", 50),
            ("arms flailing", 54),
            ("hand drag", 90),
        ]
    ]
    boxes: list = []
    png = plot_timeline(
        np.arange(0, 100, 5),
        np.tile([0.2, 0.5, 0.3], (20, 1)),
        {"takeoff": [0, 30], "flight": [30, 75], "landing": [75, 100]},
        deds,
        "t",
        boxes,
    )
    assert png[:4] == b"\x89PNG" and len(boxes) == 5
    assert not any(_overlap(a, b, 0) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
