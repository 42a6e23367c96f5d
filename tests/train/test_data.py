"""The batch builder: keys, shapes and targets; every bad input is a clear error before training starts."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from judgemind.data import load_dataset
from judgemind.errors import JudgemindError
from judgemind.runs.batch import CODE_DIM, code_features, prepare_data
from judgemind.runs.config import resolve_config


def _cfg(root, *sets):
    return resolve_config(None, [f"data.dataset={root}", "data.features=toy", *sets])


def test_code_features_of_aerials_and_dive_codes():
    v = code_features("bFdFF")
    assert v.shape == (CODE_DIM,) and v[2] == 1 and v[20] == 1  # 3 somersaults, an aerials code
    assert np.allclose(v[3:6], [1 / 3, 2 / 3, 1 / 3]) and v[15] == pytest.approx(4 / 5)
    t = code_features("bLT")
    assert t[1] == 1 and t[6] == 1 and t[9 + 1] == 1  # layout, then tuck
    d = code_features("5253B")
    assert d[20] == 0 and d[21 + 4] == 1 and d[33] == 1  # group 5, a dive number
    assert d[27] == pytest.approx(0.5) and d[28] == pytest.approx(0.3)  # 5 half somersaults, 3 half twists
    assert not code_features("???").any()


def test_batches_follow_the_model_contract(tiny_dataset):
    data = prepare_data(_cfg(tiny_dataset).data)
    ds = load_dataset(tiny_dataset)
    info, train = data.info, data.train
    assert (info.dim_global, info.dim_foreground, info.steps, info.n_items) == (8, 8, 16, 23)
    assert len(train) == 16 and len(data.val) == 4
    b = train.batch([0, 3])
    assert torch.equal(b["global"][1], train.tensors["global"][3])
    shapes = {k: tuple(v.shape) for k, v in b.items()}
    assert shapes == {
        "global": (2, 16, 8),
        "foreground": (2, 16, 8),
        "mask": (2, 16),
        "shot": (2, 16),
        "stage": (2, 16),
        "frame_index": (2, 16),
        "bounds": (2, 2),
        "code": (2, CODE_DIM),
        "action": (2,),
        "dd": (2,),
        "score": (2,),
        "components": (2, 3),
        "judges": (2, 5),
        "deductions": (2, 23),
        "ded_points": (2, 23),
        "ded_steps": (2, 23, 16),
        "index": (2,),
    }
    # the annotated points and evidence steps of each deduction
    for row, rec in zip((0, 3), (train.records[0], train.records[3])):
        fi = np.array(train.tensors["frame_index"][row].tolist())
        for x in rec.deductions:
            k = info.item_ids.index(x.item)
            assert float(b["ded_points"][0 if row == 0 else 1, k]) == pytest.approx(float(x.points))
            if x.frames is not None:
                want = ((fi >= x.frames[0]) & (fi < x.frames[1])).astype(float)
                assert np.array_equal(b["ded_steps"][0 if row == 0 else 1, k].numpy(), want)
    for row, rec in zip((0, 3), (train.records[0], train.records[3])):
        fi = train.tensors["frame_index"][row].tolist()
        stage = train.tensors["stage"][row].tolist()
        assert stage == [rec.stage_of_frame(f) for f in fi]
        b1, b2 = train.tensors["bounds"][row].tolist()
        assert stage == [0] * b1 + [1] * (b2 - b1) + [2] * (16 - b2)
        shots = train.tensors["shot"][row].tolist()
        assert shots == [sum(c <= f for c in rec.cuts) for f in fi]
        ded = train.tensors["deductions"][row]
        assert {info.item_ids[k] for k in torch.nonzero(ded)[:, 0].tolist()} == {x.item for x in rec.deductions}
        assert float(train.tensors["score"][row]) == pytest.approx(float(rec.final_score))
        means = rec.component_means()
        assert train.tensors["components"][row].tolist() == pytest.approx(
            [float(means[c]) for c in ("air", "form", "landing")]
        )
    assert info.score_mean == pytest.approx(float(np.mean([float(r.final_score) for r in train.records])))
    assert set(info.action_codes) == {r.action_code for r in ds.split("train")}
    assert (train.tensors["action"] >= 0).all()


@pytest.fixture()
def copy(tiny_dataset, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(tiny_dataset, dst)
    return dst


def _fails(cfg, match, tmp_path):
    from judgemind.train.loop import fit

    cfg.run.out = str(tmp_path / "run")
    with pytest.raises(JudgemindError, match=match):
        fit(cfg)
    assert not (tmp_path / "run").exists(), "the error must come before anything is written"


def test_missing_feature_cache(copy, tmp_path):
    _fails(_cfg(copy, "data.features=i3d"), r"has no features 'i3d' \(available: toy\)", tmp_path)


def test_missing_feature_file(copy, tmp_path):
    (copy / "features" / "toy" / "toy_00002.safetensors").unlink()
    _fails(_cfg(copy), r"1 of 16 records of split 'train' have no features \('toy_00002'\)", tmp_path)


def test_dimension_mismatch_with_the_config(copy, tmp_path):
    _fails(
        _cfg(copy, "data.dim_global=1024"), "global features have dimension 8, but the config expects 1024", tmp_path
    )


def test_dimension_mismatch_inside_the_cache(copy, tmp_path):
    from safetensors.numpy import load_file, save_file

    p = copy / "features" / "toy" / "toy_00005.safetensors"
    t = load_file(str(p))
    t["foreground"] = np.zeros((16, 6), dtype=np.float32)
    save_file(t, str(p))
    _fails(_cfg(copy), r"toy_00005.*foreground has shape \(16, 6\), the manifest says \(T, 8\)", tmp_path)


def test_nan_in_features(copy, tmp_path):
    from safetensors.numpy import load_file, save_file

    p = copy / "features" / "toy" / "toy_00001.safetensors"
    t = load_file(str(p))
    t["global"][3, 2] = np.nan
    save_file(t, str(p))
    _fails(_cfg(copy), r"toy_00001.*global holds NaN/Inf \(first at step 3, dim 2\)", tmp_path)


def test_empty_and_missing_splits(copy, tmp_path):
    meta = json.loads((copy / "dataset.json").read_text())
    meta["splits"]["val"] = []
    (copy / "dataset.json").write_text(json.dumps(meta))
    _fails(_cfg(copy), "split 'val' is empty.*val split 'val' is needed", tmp_path)
    _fails(_cfg(copy, "data.val_split=dev"), "no split 'dev'", tmp_path)


def test_missing_dataset_argument(tmp_path):
    _fails(resolve_config(None, []), "no dataset given", tmp_path)


def test_shot_input_comes_from_the_cuts_the_extractor_found(copy):
    """A video-only cache stores the camera cuts its extractor found; the model's shot input must come from those,
    not from the annotated cuts (else a 'video only' run reads the annotation)."""
    from safetensors.numpy import load_file, save_file

    before = prepare_data(_cfg(copy).data).train
    rid = before.records[2].id
    i = [r.id for r in before.records].index(rid)
    p = copy / "features" / "toy" / f"{rid}.safetensors"
    t = load_file(str(p))
    fi = t["frame_index"].astype(np.int64)
    t["cuts"] = np.asarray([int(fi[5])], np.int64)  # one cut, at step 5's frame
    save_file(t, str(p))
    after = prepare_data(_cfg(copy).data).train
    shot = after.tensors["shot"][i, : len(fi)].numpy()
    assert (shot[:5] == 0).all() and (shot[5:] == 1).all()
    t["cuts"] = np.zeros(0, np.int64)  # the extractor found none: one shot, whatever the annotation says
    save_file(t, str(p))
    assert (prepare_data(_cfg(copy).data).train.tensors["shot"][i] == 0).all()
