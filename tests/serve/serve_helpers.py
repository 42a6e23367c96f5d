"""Helpers of the `judgemind serve` tests: a tiny trained run that scores 64-pixel SynthAerials clips in a fraction
of a second, a server started as a real process on a free loopback port, and an HTTP client with cookies, the
form's CSRF token and multipart uploads (urllib only)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def tiny_run(root: Path, n: int = 16) -> tuple[Path, Path]:
    """(data set, run folder): n SynthAerials jumps at 64 px, pixels features, JudgeMind trained 2 epochs."""
    from judgemind.cli.main import main
    from judgemind.features.pipeline import run_extract
    from judgemind.synth import generate

    data, run = root / "data", root / "run"
    generate(data, n=n, seed=3, size=64, workers=1, progress=False)
    run_extract(data, "pixels", locator="auto", workers=1, progress=False, options={"steps": 12})
    args = ["train", "--data", str(data), "--features", "pixels", "--model", "judgemind", "--epochs", "2"]
    assert main(args + ["--out", str(run), "--set", "optim.batch_size=4", "--threads", "1"]) == 0
    return data, run


class Server:
    """``judgemind serve ARGS --port 0`` as a process; ``.url`` once it listens."""

    def __init__(self, *args, cwd: Path | None = None, timeout: float = 120):
        self.log = (cwd or Path.cwd()) / f"serve-{secrets.token_hex(4)}.log"
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "judgemind.cli.main", *map(str, args), "--port", "0"],
            stdout=self.fh,
            stderr=subprocess.STDOUT,
            env=ENV,
            cwd=cwd,
        )
        t0 = time.monotonic()
        self.url = None
        while time.monotonic() - t0 < timeout:
            m = re.search(r"judgemind serve: (http://[^/\s]+)/", self.log.read_text())
            if m:
                self.url = m.group(1)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, sig=signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.fh.close()
        return self.proc.returncode


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """A browser-like client: keeps cookies, sends the server's origin, knows the page's CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self._csrf = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        h = {"Origin": self.base, **(headers or {})}
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=h)
        try:
            with self.opener.open(req, timeout=120) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            page = self.get("/score").text
            self._csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
        return self._csrf

    def post_form(self, path: str, fields: list[tuple[str, str]], csrf: bool = True, **kw) -> Response:
        from urllib.parse import urlencode

        fields = ([("csrf", self.csrf)] if csrf else []) + list(fields)
        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, headers={"Content-Type": "application/x-www-form-urlencoded", **kw.get("headers", {})}
        )

    def post_files(
        self,
        path: str,
        fields: list[tuple[str, str]],
        files: list[tuple[str, str, bytes]],
        csrf: bool = True,
        headers: dict | None = None,
    ) -> Response:
        boundary = "jm" + secrets.token_hex(12)
        out = bytearray()
        for name, value in ([("csrf", self.csrf)] if csrf else []) + list(fields):
            out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, filename, data in files:
            out += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: video/mp4\r\n\r\n"
            ).encode()
            out += data + b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        h = {"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})}
        return self.request("POST", path, bytes(out), headers=h)

    def upload(self, name: str, data: bytes, code: str, round_id: str = "new") -> Response:
        """What the page's script sends for one clip."""
        return self.post_files(
            "/api/upload",
            [("round", round_id), ("code", code)],
            [("video", name, data)],
            headers={"X-CSRF-Token": self.csrf},
        )

    def wait_round(self, rid: str, timeout: float = 300) -> dict:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            doc = self.get(f"/api/rounds/{rid}").json()
            if doc["finished"]:
                return doc
            time.sleep(0.2)
        raise AssertionError(f"round {rid} did not finish in {timeout} s: {doc['counts']}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None
