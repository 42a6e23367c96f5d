"""The judge sheet opened in headless Chromium: it renders, and the key elements are there and visible."""

from __future__ import annotations

import io

import jm_webdriver as webdriver
import numpy as np
import pytest

from judgemind.data.result import ScoreResult
from judgemind.report.sheet import data_uri, render_sheet
from judgemind.report.timeline import plot_timeline

pytestmark = pytest.mark.browser


def _jpeg(colour) -> str:
    import cv2

    img = np.full((72, 96, 3), colour, np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    return data_uri(buf.tobytes(), "image/jpeg")


def _result() -> ScoreResult:
    return ScoreResult.from_json(
        {
            "fps": 25.0,
            "raw": "118.1475",
            "deduction_threshold": None,
            "deduction_calibration": {"calibrated": True, "calibrated_on": "val:calib split, 40 videos"},
            "cuts": [],
            "notes": [],
            "steps": {"frame_index": [], "stage_probs": None},
            "intervals": {"level": 0.9},
            "in_distribution": True,
            "ood_reasons": [],
            "ood_signals": {},
            "ood_thresholds": None,
            "panel": None,
            "video": "videos/jump_0001.mp4",
            "video_name": "jump_0001.mp4",
            "action_code": "bFdFF",
            "code_description": "full - double full - full: 3 somersaults, 4 twists",
            "dd": "4.425",
            "J": "26.7",
            "final_score": "118.14",
            "frames": [0, 100],
            "stages": {"takeoff": [0, 30], "flight": [30, 75], "landing": [75, 100]},
            "components": {"air": "1.8", "form": "4.4", "landing": "2.7"},
            "bands": {
                "air": {"name": "good"},
                "form": {"name": "good"},
                "landing": {"name": "good", "range": "2.6-2.9"},
            },
            "deductions": [
                {
                    "item": "bent_knees",
                    "name": "Bent knees",
                    "stage": "flight",
                    "probability": 0.81,
                    "threshold": 0.6,
                    "listed": True,
                    "expected_points": 0.4,
                    "evidence_frame": 52,
                    "description": "The knees are bent.",
                },
                {
                    "item": "hand_drag",
                    "name": "Hand drag",
                    "stage": "landing",
                    "probability": 0.64,
                    "threshold": 0.55,
                    "listed": True,
                    "expected_points": 0.7,
                    "evidence_frame": 80,
                    "description": "A hand touches the snow.",
                },
            ],
            "provenance": {
                "model": "judgemind",
                "checkpoint": "runs/x/best.pt",
                "training_data": "SynthAerials",
                "synthetic": True,
                "judgemind_version": "0.1.0",
            },
        }
    )


def test_sheet_renders_in_headless_chromium(tmp_path):
    if not (webdriver.chromium_path() and webdriver.chromedriver_path()):
        pytest.skip("Debian chromium and chromium-driver are not installed (make test installs them as root)")
    res = _result()
    strip = [
        {"frame": f, "stage": s, "src": _jpeg(c)}
        for f, s, c in [(5, "takeoff", (200, 80, 40)), (40, "flight", (40, 160, 220)), (90, "landing", (60, 200, 60))]
    ]
    png = plot_timeline(np.arange(0, 100, 5), np.tile([0.2, 0.5, 0.3], (20, 1)), res.stages, res.deductions)
    html = render_sheet(res, strip, {"bent_knees": _jpeg((90, 90, 90))}, png)
    page = tmp_path / "sheet.html"
    page.write_text(html, encoding="utf-8")

    b = webdriver.Browser()
    try:
        b.get(page.as_uri())
        (score,) = b.find_all("#final-score")
        assert b.text(score) == "118.14"
        assert b.displayed(score)
        comps = b.find_all(".component")
        assert len(comps) == 3 and all(b.displayed(c) for c in comps)
        assert "Landing" in b.text(b.find_all("#component-landing")[0])
        deds = b.find_all("tr.deduction")
        assert len(deds) == 2 and "Bent knees" in b.text(deds[0]) and "81%" in b.text(deds[0])
        assert "listed from 60%" in b.text(deds[0]) and "Likely deductions" in b.text(b.find_all("#deductions h2")[0])
        assert len(b.find_all(".stagebar .stage")) == 3
        assert b.find_all("#synthetic-warning"), "provenance must say the model was trained on synthetic data"
        # every image (strip, evidence, timeline) decoded and has a size
        sizes = b.execute("return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
        assert len(sizes) == 5 and all(c and w > 0 for c, w in sizes)
        shot = b.screenshot()
        (tmp_path / "sheet.png").write_bytes(shot)
        from PIL import Image

        img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"))
        assert img.shape[0] > 500 and img.std() > 10  # not a blank page
    finally:
        b.close()


def _need_browser():
    if not (webdriver.chromium_path() and webdriver.chromedriver_path()):
        pytest.skip("Debian chromium and chromium-driver are not installed (make test installs them as root)")


def test_sheet_shows_interval_warning_and_panel_in_chromium(tmp_path):
    """Issue 15: the 90 % interval beside the score, the not-a-jump warning with the score greyed, the panel."""
    _need_browser()
    res = _result().with_(
        intervals={
            "level": 0.9,
            "final_score": [101.5, 131.2],
            "air": [1.5, 2.0],
            "form": [3.9, 4.9],
            "landing": [2.2, 3.0],
            "calibrated_on": "val split, 45 videos",
            "method": "split conformal",
        },
        in_distribution=False,
        ood_reasons=[
            "the video's features are far from the training set's (distance 9.10, in-distribution "
            "videos stay below 2.00)"
        ],
        panel={
            "record": "synth_00001",
            "official_score": "110.8",
            "J": "25.1",
            "counted": [0, 2, 3],
            "dropped": [4, 1],
            "judges": [
                {"air": "1.7", "form": "4.2", "landing": "2.5", "total": "8.4"},
                {"air": "1.9", "form": "4.6", "landing": "2.8", "total": "9.3"},
                {"air": "1.8", "form": "4.1", "landing": "2.4", "total": "8.3"},
                {"air": "1.7", "form": "4.3", "landing": "2.4", "total": "8.4"},
                {"air": "1.5", "form": "4.0", "landing": "2.2", "total": "7.7"},
            ],
            "component_means": {"air": "1.72", "form": "4.24", "landing": "2.46"},
            "model_error": {"air": "0.08", "form": "0.16", "landing": "0.24", "final_score": "7.34"},
            "official_in_interval": True,
        },
    )
    page = tmp_path / "sheet.html"
    page.write_text(render_sheet(res, [], {}, None), encoding="utf-8")
    b = webdriver.Browser()
    try:
        b.get(page.as_uri())
        (iv,) = b.find_all("#score-interval")
        assert b.displayed(iv) and "101.50" in b.text(iv) and "131.20" in b.text(iv)
        assert "90%" in b.text(b.find_all("#component-form")[0])
        (warn,) = b.find_all("#ood-warning")
        assert (
            b.displayed(warn) and "not be an aerials jump" in b.text(warn) and "far from the training" in b.text(warn)
        )
        # prominent: at the top of the page, full width, red
        r = b.rect(warn)
        assert r["y"] < 300 and r["width"] > 600
        colour = b.execute("return getComputedStyle(document.querySelector('#final-score')).color;")
        assert colour.replace(" ", "") in ("rgb(154,163,173)", "rgba(154,163,173,1)")  # greyed
        (table,) = b.find_all("#panel-table")
        assert b.displayed(table)
        judges = b.find_all("#panel-table tr.judge")
        assert len(judges) == 5
        status = b.execute(
            "return Array.from(document.querySelectorAll('#panel-table tr.judge')).map(r => r.dataset.status);"
        )
        assert status == ["counted", "dropped", "counted", "counted", "dropped"]
        assert "Model error" in b.text(table) and "7.34" in b.text(b.find_all("#final-error")[0])
        assert b.text(b.find_all("#official-score")[0]) == "110.8"
        # issue 21: a flagged sheet lists no deduction as likely
        (sup,) = b.find_all("#deductions-suppressed")
        assert b.displayed(sup) and "not meaningful" in b.text(b.find_all("#deductions h2")[0])
        assert not b.find_all("tr.deduction[data-listed='true']") and len(b.find_all("tr.deduction.greyed")) == 2
    finally:
        b.close()


def test_round_index_page_in_chromium(tmp_path):
    """Issue 15: index.html ranks the round, links each sheet, shows intervals, warnings and failures."""
    _need_browser()
    from judgemind.infer.round import ranked
    from judgemind.report.round import render_index

    rows = [
        {
            "name": "j1",
            "sheet": "j1/sheet.html",
            "status": "scored",
            "action_code": "bLT",
            "dd": "2.60",
            "final_score": "60.10",
            "interval": [40.0, 80.2],
            "components": {"air": "1.5", "form": "3.0", "landing": "2.0"},
            "in_distribution": True,
            "ood_reasons": [],
        },
        {
            "name": "walkers",
            "sheet": "walkers/sheet.html",
            "status": "scored",
            "action_code": "bLT",
            "dd": "2.60",
            "final_score": "87.61",
            "interval": [67.0, 100.0],
            "components": {},
            "in_distribution": False,
            "ood_reasons": ["no clear take-off -> flight -> landing structure"],
        },
        {
            "name": "j2",
            "sheet": "j2/sheet.html",
            "status": "scored",
            "action_code": "bFF",
            "dd": "3.15",
            "final_score": "75.00",
            "interval": None,
            "components": {},
            "in_distribution": True,
            "ood_reasons": [],
        },
        {"name": "broken", "sheet": "broken/sheet.html", "status": "failed", "reason": "broken.mp4: not a video"},
    ]
    doc = {"checkpoint": "run/best.pt", "n": 4, "failed": 1, "not_in_distribution": 1, "jumps": ranked(rows)}
    (tmp_path / "j1").mkdir()
    (tmp_path / "j1" / "sheet.html").write_text(render_sheet(_result(), []), encoding="utf-8")
    page = tmp_path / "index.html"
    page.write_text(render_index(doc), encoding="utf-8")
    b = webdriver.Browser()
    try:
        b.get(page.as_uri())
        rows = b.find_all("#ranking tr.jump")
        assert [b.text(r).split()[2] for r in rows] == ["j2", "j1", "walkers"]
        # rank ranges: j2 has no interval, so either in-distribution jump may be first; walkers ranks after them
        assert [b.text(r).split()[1] for r in rows] == ["1–2", "1–2", "3"]
        assert "40.00" in b.text(rows[1]) and "80.20" in b.text(rows[1])
        assert "not an aerials jump" in b.text(rows[2])
        (failed,) = b.find_all("#ranking tr.failed")
        assert "broken.mp4: not a video" in b.text(failed)
        link = b.find_all("#ranking tr.jump a")[1]
        b._s("POST", f"/element/{link}/click", {})
        assert b.find_all("#final-score"), "the ranking links to the jump's sheet"
    finally:
        b.close()
