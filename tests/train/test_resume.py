"""kill -9 in the middle of training, then --resume: the same final weights and metrics as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import time

import torch

from judgemind.runs.checkpoint import load_checkpoint


def _metrics(run):
    return [
        {k: v for k, v in json.loads(x).items() if k != "time_s"} for x in (run / "log.jsonl").read_text().splitlines()
    ]


def test_kill_9_then_resume_matches_an_uninterrupted_run(ref_run, train_args, tmp_path, spawn, cli):
    ref, victim_dir = ref_run, tmp_path / "victim"  # ref: the same command, uninterrupted (conftest)
    # slowed down (0.3 s per optimizer step) so that it is surely killed inside the second epoch
    victim = spawn(*train_args, "--out", victim_dir, extra_env={"JUDGEMIND_DEBUG_STEP_DELAY": "0.3"})
    deadline = time.time() + 120
    while not (victim_dir / "last.pt").exists():
        assert victim.poll() is None, victim.communicate()[1][-2000:]
        assert time.time() < deadline, "no checkpoint after 120 s"
        time.sleep(0.05)
    time.sleep(0.5)  # into epoch 2: some steps taken, none saved
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert load_checkpoint(victim_dir / "last.pt")["epoch"] == 0
    assert len(_metrics(victim_dir)) == 1

    cli("train", "--out", victim_dir, "--resume")
    a, b = load_checkpoint(ref / "last.pt"), load_checkpoint(victim_dir / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert _metrics(ref) == _metrics(victim_dir)
    assert load_checkpoint(ref / "best.pt")["epoch"] == load_checkpoint(victim_dir / "best.pt")["epoch"]
    assert json.loads((victim_dir / "run.json").read_text())["resumed"][0]["at_epoch"] == 1
