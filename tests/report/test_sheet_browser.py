"""The judge sheet opened in headless Chromium: it renders, and the key elements are there and visible."""

from __future__ import annotations

import io

import numpy as np
import pytest

from judgemind.report.sheet import data_uri, render_sheet
from judgemind.report.timeline import plot_timeline

import jm_webdriver as webdriver

pytestmark = pytest.mark.browser


def _jpeg(colour) -> str:
    import cv2

    img = np.full((72, 96, 3), colour, np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    return data_uri(buf.tobytes(), "image/jpeg")


def _result():
    return {
        "video": "videos/jump_0001.mp4", "video_name": "jump_0001.mp4", "action_code": "bFdFF",
        "code_description": "full - double full - full: 3 somersaults, 4 twists", "dd": "4.425", "J": "26.7",
        "final_score": "118.14", "frames": [0, 100],
        "stages": {"takeoff": [0, 30], "flight": [30, 75], "landing": [75, 100]},
        "components": {"air": "1.8", "form": "4.4", "landing": "2.7"},
        "bands": {"air": {"name": "good"}, "form": {"name": "good"}, "landing": {"name": "good", "range": "2.6-2.9"}},
        "deductions": [{"item": "bent_knees", "name": "Bent knees", "stage": "flight", "probability": 0.81,
                        "evidence_frame": 52, "description": "The knees are bent."},
                       {"item": "hand_drag", "name": "Hand drag", "stage": "landing", "probability": 0.34,
                        "evidence_frame": 80, "description": "A hand touches the snow."}],
        "provenance": {"model": "judgemind", "checkpoint": "runs/x/best.pt", "training_data": "SynthAerials",
                       "synthetic": True, "judgemind_version": "0.1.0"},
    }


def test_sheet_renders_in_headless_chromium(tmp_path):
    if not (webdriver.chromium_path() and webdriver.chromedriver_path()):
        pytest.skip("Debian chromium and chromium-driver are not installed (make test installs them as root)")
    res = _result()
    strip = [{"frame": f, "stage": s, "src": _jpeg(c)} for f, s, c in
             [(5, "takeoff", (200, 80, 40)), (40, "flight", (40, 160, 220)), (90, "landing", (60, 200, 60))]]
    png = plot_timeline(np.arange(0, 100, 5), np.tile([0.2, 0.5, 0.3], (20, 1)), res["stages"], res["deductions"])
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
