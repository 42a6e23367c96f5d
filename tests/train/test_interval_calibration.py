"""A model's adaptive intervals (judgemind.runs.intervals) through the calibration file: fitted on one half, the
file written and read back gives the same intervals, one jump scored alone gets the same signals as its row of a
split, and a file of another checkpoint or an older format is not used."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from judgemind.models.base import create_model
from judgemind.runs import calibrate as C
from judgemind.runs import intervals as I
from judgemind.runs.outputs import batch_outputs, collect_outputs, official_scores
from judgemind.train.toy import make_toy_tensors


@pytest.fixture(scope="module")
def fitted(knowledge_cache):
    torch.manual_seed(0)
    ds, info = make_toy_tensors(90, 12, 8, 8, seed=3, frames=48)
    model, _ = create_model("judgemind", {"d_model": 16, "queries": 2}, info)
    model.eval()
    sel, cal = ds.subset(list(range(45)), "val:select"), ds.subset(list(range(45, 90)), "val:calib")
    ref = I.sensitivity_reference(ds)
    outs = {n: collect_outputs(model, d, 16, torch.device("cpu")) for n, d in (("sel", sel), ("cal", cal))}
    sig = {n: I.split_signals(model, d, outs[n], ref, torch.device("cpu"), 16) for n, d in (("sel", sel), ("cal", cal))}
    iv = I.fit_intervals(outs["sel"], sel, sig["sel"], outs["cal"], cal, sig["cal"], info, 0.1)
    return model, info, cal, outs["cal"], sig["cal"], ref, iv


def test_every_signal_group_of_judgemind_and_one_entry_per_key(fitted):
    _, _, cal, _, sig, _, iv = fitted
    assert set(I.signal_groups(sig)) == {"level", "dd", "code", "deductions", "bands", "sensitivity"}
    assert all(len(v) == len(cal) and np.isfinite(v).all() for v in sig.values())
    assert set(iv) == {"final_score", "air", "form", "landing"} and iv["final_score"]["scale"] == "dd"
    for e in iv.values():
        assert e["kind"] in ("adaptive", "constant") and np.isfinite(e["q"]) and np.isfinite(e["constant_q"])
        assert (e["kind"] == "adaptive") == ("difficulty" in e)


def test_calibration_file_round_trip_and_refusal(fitted, tmp_path):
    model, info, cal, out, sig, ref, iv = fitted
    (tmp_path / "best.pt").write_bytes(b"checkpoint one")
    doc = {"version": C.VERSION, "intervals": iv, "interval_signals": {"sensitivity": ref}, "deductions": None}
    written = C.write_calibration(tmp_path, "best", doc, {"epoch": 4})
    back = C.read_calibration(tmp_path, "best")
    assert back == json.loads(json.dumps(written)) and back["checkpoint_sha256"] == written["checkpoint_sha256"]
    assert C.calibration_mismatch(back, tmp_path, "best", info.item_ids) is None
    dd = np.array([float(r.dd) for r in cal.records])
    for key in I.KEYS:
        scale = dd if key == "final_score" else np.ones(len(dd))
        assert np.allclose(I.half_widths(iv[key], sig, scale), I.half_widths(back["intervals"][key], sig, scale))
    assert I.row_intervals(back, out, cal, info, sig) == I.row_intervals(written, out, cal, info, sig)
    # another checkpoint: refused (score) -- the message says what to do elsewhere (judgemind.infer.run)
    (tmp_path / "best.pt").write_bytes(b"checkpoint two")
    assert "another best.pt" in C.calibration_mismatch(back, tmp_path, "best", info.item_ids)
    # an older format (constant widths only): not read, so it is made again
    (tmp_path / "calibration-best.json").write_text(json.dumps({**back, "version": 4}))
    assert C.read_calibration(tmp_path, "best") is None
    # an entry without a kind (hand-made or older) is a constant width
    assert I.kinds({"intervals": {"final_score": {"q": 1.0}}}) == {"final_score": "constant"}
    assert I.interval_of(50.0, {"intervals": {"final_score": {"q": 2.0, "scale": "dd"}}}, "final_score", dd=3) == [
        44.0,
        56.0,
    ]


def test_one_jump_alone_gets_its_rows_signals_and_interval(fitted):
    """What `judgemind score` computes for one video (its own batch, padded or not) equals its row of the split."""
    model, info, cal, out, sig, ref, iv = fitted
    doc = {"intervals": iv}
    rows = I.row_intervals(doc, out, cal, info, sig)
    final = official_scores(out, cal.records, info)
    for i in (0, 7, 30):
        b = cal.batch([i])
        for pad in (0, 5):  # more steps after the video's end (masked): the same signals
            bb = dict(b)
            if pad:
                for k, v in b.items():
                    if v.dim() >= 2 and v.shape[1] == b["mask"].shape[1] and k not in ("ded_steps",):
                        z = torch.zeros((1, pad, *v.shape[2:]), dtype=v.dtype)
                        bb[k] = torch.cat([v, z if k != "stage" else z - 100], 1)
                bb["ded_steps"] = torch.cat([b["ded_steps"], torch.zeros(*b["ded_steps"].shape[:2], pad)], 2)
            with torch.no_grad():
                o = model(bb)
            one = I.interval_signals(
                batch_outputs(o),
                [cal.records[i].action_code],
                [float(cal.records[i].dd)],
                I.sensitivity(model, bb, ref, "cpu"),
            )
            assert set(one) == set(sig)
            for k in sig:
                assert one[k][0] == pytest.approx(sig[k][i], rel=1e-4, abs=1e-5), k
        dd = float(cal.records[i].dd)
        got = I.interval_of(float(final[i]), doc, "final_score", 0.0, 30.0 * dd, dd, one)
        assert got == pytest.approx(rows[i]["final_score"], abs=0.011)
        assert got[0] <= final[i] <= got[1]


def test_an_empty_calib_half_gives_no_interval_and_no_error(fitted):
    """A tiny validation split (one video) has an empty calib half: constant entries without a finite width."""
    model, info, cal, out, sig, ref, _ = fitted
    empty = cal.subset([], "val:calib")
    e_out = collect_outputs(model, empty, 16, torch.device("cpu"))
    assert I.split_signals(model, empty, e_out, ref, "cpu", 16) == {}
    iv = I.fit_intervals(out, cal, sig, e_out, empty, {}, info, 0.1)
    assert iv["final_score"]["kind"] == "constant" and iv["final_score"]["q"] == float("inf")
    assert I.interval_of(50.0, {"intervals": iv}, "final_score", dd=3.0) is None
