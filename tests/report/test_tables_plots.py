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


def test_timeline_labels_stay_outside_the_plot_and_inside_the_picture():
    """Issue 21: no label crosses a plotting area (so none crosses a stage line), none leaves the picture, labels do
    not overlap, one row per deduction even when several share a frame; the top axis is a probability, 0 to 1."""
    import io

    import numpy as np
    from PIL import Image

    from judgemind.report.timeline import _overlap, plot_timeline

    deds = [
        {"name": n, "probability": 0.8, "evidence_frame": f, "evidence_frames": fs, "evidence_peak_frame": pk}
        for n, f, fs, pk in [
            ("short flight", 49, [49], 49),
            ("crossed skis", 49, [49], 52),
            ("legs apart", 50, [50], 50),
            ("arms flailing", 54, [48, 51, 54, 57, 60], 54),
            ("a very long deduction name that would overflow", 90, [84, 87, 90, 93, 96], 77),
        ]
    ] + [{"name": "uncalibrated item", "probability": None, "score": 0.41, "evidence_frame": 98}]
    boxes: list = []
    png = plot_timeline(
        np.arange(0, 100, 5),
        np.tile([0.2, 0.5, 0.3], (20, 1)),
        {"takeoff": [0, 30], "flight": [30, 75], "landing": [75, 100]},
        deds,
        "t",
        boxes,
        cuts=[77],
    )
    w, h = Image.open(io.BytesIO(png)).size
    labels = [b for b in boxes if b["kind"] == "label"]
    plots = [b["box"] for b in boxes if b["kind"] == "plot"]
    assert len(plots) == 2
    texts = [b["text"] for b in labels]
    assert "short flight 80%" in texts and "uncalibrated item (score 0.41)" in texts
    assert any("stage probability" in t for t in texts) and not any(t == "probability" for t in texts)
    assert {"0.0", "0.5", "1.0"} <= set(texts) and "1.5" not in texts  # the axis fits what it shows
    for b in labels:
        x0, y0, x1, y1 = b["box"]
        assert -0.5 <= x0 and x1 <= w + 0.5 and -0.5 <= y0 and y1 <= h + 0.5, b
        assert not any(_overlap(b["box"], p, -1.0) for p in plots), b  # outside every plotting area
    assert not any(_overlap(a["box"], b["box"], 0) for i, a in enumerate(labels) for b in labels[i + 1 :])
