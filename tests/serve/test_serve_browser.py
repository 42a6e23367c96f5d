"""`judgemind serve` in headless Chromium over real HTTP on the loopback: upload a clip through the page, wait for
its sheet, check the score on the round page, the job page and the sheet; then annotate the clip (set the stages
with the scrubber, add a deduction at the current frame, enter the marks, save) and check that `judgemind data
validate` accepts the data set. Screenshots go to $JUDGEMIND_SERVE_SHOTS when it is set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serve_helpers import ENV, Client, Server, tiny_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))  # the WebDriver client of the sheet's test
import jm_webdriver as webdriver  # noqa: E402

pytestmark = pytest.mark.browser


def _need_browser():
    if not (webdriver.chromium_path() and webdriver.chromedriver_path()):
        pytest.skip("Debian chromium and chromium-driver are not installed (make test installs them as root)")


class Page:
    """The few WebDriver commands the test needs beyond jm_webdriver's."""

    def __init__(self, browser, shots: Path):
        self.b, self.shots = browser, shots

    def one(self, css: str) -> str:
        els = self.b.find_all(css)
        assert els, f"no element {css!r} on {self.url()}"
        return els[0]

    def url(self) -> str:
        return self.b._s("GET", "/url")

    def click(self, css: str) -> None:
        self.b._s("POST", f"/element/{self.one(css)}/click", {})

    def type(self, css: str, text: str, clear: bool = True) -> None:
        el = self.one(css)
        if clear:
            self.b._s("POST", f"/element/{el}/clear", {})
        self.b._s("POST", f"/element/{el}/value", {"text": text})

    def value(self, css: str) -> str:
        return self.b.execute("return document.querySelector(arguments[0]).value", css)

    def wait(self, script: str, timeout: float = 120):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            got = self.b.execute(script)
            if got:
                return got
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for: {script} on {self.url()}")

    def shot(self, name: str) -> None:
        png = self.b.screenshot()
        assert png[:4] == b"\x89PNG"
        (self.shots / f"{name}.png").write_bytes(png)


def test_score_and_annotate_in_chromium(tmp_path):
    _need_browser()
    data, ck = tiny_run(tmp_path / "fixture")
    clip = tmp_path / "my jump.mp4"
    shutil.copy(data / "videos" / "synth_00003.mp4", clip)
    shots = Path(os.environ.get("JUDGEMIND_SERVE_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    srv = Server(
        "serve", "--checkpoint", ck / "best.pt", "--data", data, "--locator", "motion",
        "--root", tmp_path / "folder", cwd=tmp_path,
    )  # fmt: skip
    assert srv.url, srv.output()
    b = webdriver.Browser()
    p = Page(b, shots)
    try:
        # -- score: the page's own upload (the file input, the code, the button) -----------------------------------
        b.get(srv.url + "/score")
        p.type("#default-code", "bLT")
        p.type("#file-input", str(clip), clear=False)
        assert p.wait("return document.querySelectorAll('#file-list tbody tr').length") == 1
        assert p.value(".clip-code") == "bLT"
        p.shot("score")
        p.click("#upload-button")
        score = p.wait("const e = document.querySelector('#ranking tr.jump td.score'); return e && e.textContent")
        rid = p.url().rsplit("/", 1)[1]
        doc = Client(srv.url).get(f"/api/rounds/{rid}").json()
        (job,) = doc["jobs"]
        result = Client(srv.url).get(f"/jobs/{job['id']}/result.json").json()
        assert score.strip() == result["final_score"] and job["name"] == "my jump"
        assert len(b.find_all("#ranking tr.jump")) == 1 and "my jump" in b.text(p.one("#ranking tr.jump"))
        # the round page's columns are the round report's: one fact per column, the rank range among them
        heads = b.execute("return Array.from(document.querySelectorAll('#ranking th')).map(h => h.textContent);")
        for h in ("Rank range", "Aerials jump?", "Model score", "90% interval"):
            assert heads.count(h) == 1, heads
        assert b.text(p.one("#ranking tr.jump td.rank-range")) == "1"
        p.shot("round")
        # the jump's page and its sheet
        b.get(srv.url + f"/jobs/{job['id']}")
        assert b.text(p.one("#final-score")) == result["final_score"]
        p.wait("return document.getElementById('sheet').getBoundingClientRect().height > 500")
        b._s("POST", "/frame", {"id": 0})  # the sheet's iframe, the only one
        assert (
            p.wait("const e = document.getElementById('final-score'); return e && e.textContent")
            == (result["final_score"])
        )
        b._s("POST", "/frame", {"id": None})
        p.shot("job")

        # -- annotate the clip: pre-filled from the model's result ------------------------------------------------
        b.get(srv.url + f"/annotate/edit?kind=job&ident={job['id']}")
        assert p.value("#f-code") == "bLT" and p.value("#j0-air") == result["components"]["air"]
        n = int(p.one("#editor") and b.execute("return Number(document.getElementById('editor').dataset.frames)"))
        p.wait(f"return document.getElementById('loaded').textContent === '{n}'")
        p.type("#f-id", "browser_jump")
        p.click("[data-step='10']")
        p.click("[data-step='10']")
        p.click("[data-step='1']")
        assert p.value("#frame-number") == "21"
        p.click("[data-set='f-b1']")
        for _ in range(5):
            p.click("[data-step='10']")
        p.click("[data-set='f-b2']")
        assert (p.value("#f-b1"), p.value("#f-b2")) == ("21", "71")
        p.click("[data-step='-10']")
        p.click("#add-deduction")
        b.execute(
            "const s = document.querySelector('#deductions tbody tr:last-child .ded-item');"
            "s.value = 'bent_knees'; s.dispatchEvent(new Event('change'));"
        )
        row = "#deductions tbody tr:last-child"
        assert p.value(f"{row} .ded-from") == "61" and p.value(f"{row} .ded-points") != ""
        p.type(f"{row} .ded-points", "0.4")
        for i in range(5):
            for c, v in (("air", "1.6"), ("form", f"3.{i + 2}"), ("landing", "2.4")):
                p.type(f"#j{i}-{c}", v)
        p.shot("annotate")
        p.click("#save")
        saved = p.wait("const e = document.getElementById('saved-score'); return e && e.textContent")
    finally:
        b.close()
        rc = srv.stop()
    assert rc == 0, srv.output()
    line = next(x for x in (data / "annotations.jsonl").read_text().splitlines() if '"browser_jump"' in x)
    rec = json.loads(line)
    assert rec["stages"]["flight"][0] == 21 and rec["stages"]["landing"][0] == 71
    assert rec["deductions"][-1] == {"item": "bent_knees", "stage": "flight", "points": 0.4, "frames": [61, 62]}
    assert str(rec["final_score"]) == saved and rec["video"].startswith("videos/upload_")
    assert (data / rec["video"]).read_bytes() == clip.read_bytes()
    assert rec["extra"]["annotation"]["prefilled_from"] == "model"
    r = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "data", "validate", str(data)],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:]
    assert "browser_jump" in json.loads((data / "dataset.json").read_text())["splits"]["train"]
