"""Issue 14: the feature cache and `judgemind extract` under hostile input -- colliding ids, two processes with
different settings, damaged finished files, bad CLI values, private file modes (classes 3, 5, 8, 10, 11, 12)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from judgemind.cli.main import main
from judgemind.errors import JudgemindError
from judgemind.features import FeatureCache
from judgemind.features.cache import safe_name

TINY = [
    "--extractor",
    "tiny3d",
    "--steps",
    "4",
    "--set",
    "in_size=32",
    "--set",
    "clip_len=2",
    "--set",
    "channels=[8,16]",
    "--set",
    "dim=16",
    "--no-progress",
    "--threads",
    "1",
]


def _tensors(T=3, D=4, value=0.0):
    return {
        "global": np.full((T, D), value, np.float32),
        "foreground": np.zeros((T, D), np.float32),
        "frame_index": np.arange(T),
    }


def test_escaped_id_never_equals_another_id(tmp_path):
    """Class 3: `a/b` and `id_612f62` both became id_612f62.safetensors (6 records, 5 files)."""
    ids = ["a/b", "id_612f62", "id_69645f363132663632", "x" * 300, "y" * 300, "é", "id_", ".hidden", "ok"]
    names = [safe_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert all(len(n.encode()) + len(".safetensors") < 255 for n in names)
    cache = FeatureCache(tmp_path, "c")
    cache.open_for_writing({"extractor": "c"}, {"global": 4, "foreground": 4})
    for k, rid in enumerate(ids):
        cache.save(rid, _tensors(value=k))
    assert len(cache.record_files()) == len(ids)
    assert [float(cache.load(rid)["global"][0, 0]) for rid in ids] == list(range(len(ids)))
    cache.close()


def test_ids_differing_only_in_case_are_refused(tmp_path):
    from judgemind.features.cache import check_file_names

    with pytest.raises(JudgemindError, match="upper/lower case"):
        check_file_names(["Jump1", "jump1"], "annotations.jsonl")


def test_feature_files_are_readable_by_others(tmp_path):
    """Class 10: feature files were written 0600 (another user got "corrupt feature file")."""
    old = os.umask(0o022)
    try:
        cache = FeatureCache(tmp_path, "c")
        cache.open_for_writing({"extractor": "c"}, {"global": 4, "foreground": 4})
        cache.save("r", _tensors())
        cache.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.path("r").stat().st_mode) == 0o644


_HOLDER = textwrap.dedent("""
    import sys, time
    from judgemind.features import FeatureCache
    c = FeatureCache(sys.argv[1], "c")
    c.open_for_writing({"extractor": "c", "steps": 1}, {"global": 4, "foreground": 4})
    print("ready", flush=True)
    time.sleep(60)
""")


def test_two_processes_with_other_settings_cannot_share_a_cache(tmp_path):
    """Class 5: two extract runs with different settings under one cache name both exited 0."""
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        other = FeatureCache(tmp_path, "c")
        with pytest.raises(JudgemindError, match="other settings"):
            other.open_for_writing({"extractor": "c", "steps": 2}, {"global": 4, "foreground": 4})
        same = FeatureCache(tmp_path, "c")  # the same settings: shards of one extraction may share it
        same.open_for_writing({"extractor": "c", "steps": 1}, {"global": 4, "foreground": 4})
        same.close()
    finally:
        p.kill()
        p.wait()
    # the holder is gone and the cache holds no feature file: other settings may re-make it (class 11)
    again = FeatureCache(tmp_path, "c")
    again.open_for_writing({"extractor": "c", "steps": 2}, {"global": 4, "foreground": 4})
    assert again.config["steps"] == 2
    again.save("r", _tensors())
    again.close()
    with pytest.raises(JudgemindError, match="other settings"):  # now it has data: refused
        FeatureCache(tmp_path, "c").open_for_writing({"extractor": "c", "steps": 3}, {"global": 4, "foreground": 4})


@pytest.mark.parametrize(
    "manifest",
    [
        "[1, 2]",
        '{"config": []}',
        '{"config": {}, "dims": {"global": "x"}}',
        '{"extractor": "pose", "config": {"extractor": "tiny3d"}, "dims": {"global": 4, "foreground": 4}}',
        "{not json",
    ],
)
def test_malformed_manifest_is_an_error_naming_it(tmp_path, manifest):
    """Class 8: a manifest.json that is a list crashed train/predict/extract."""
    d = tmp_path / "features" / "c"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(manifest)
    with pytest.raises(JudgemindError, match="manifest"):
        FeatureCache(tmp_path, "c").dims


def test_resume_re_extracts_a_damaged_file(tiny_dataset, capsys):
    """Class 5: extract resume never re-checked existing files (a NaN file was skipped forever)."""
    assert main(["extract", str(tiny_dataset), *TINY]) == 0
    cache = FeatureCache(tiny_dataset, "tiny3d")
    from safetensors.numpy import save_file

    t = cache.load("r0")
    t["global"][0, 0] = np.nan
    save_file(t, str(cache.path("r0")))
    assert cache.verify("r0") is not None and cache.verify("r1") is None
    capsys.readouterr()
    assert main(["extract", str(tiny_dataset), *TINY]) == 0
    assert "1 extracted, 1 already cached" in capsys.readouterr().out
    assert cache.verify("r0") is None


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--threads=-1"], "--threads"),
        (["--set", "steps=abc"], "steps"),
        (["--set", "steps=[1,2]"], "steps"),
        (["--set", "steps=10000000"], "JUDGEMIND_MAX_STEPS"),
        (["--set", "margin=NaN"], "finite"),
        (["--set", "margin=1e999"], "finite"),
        (["--set", "steps=" + "9" * 5000], "steps"),
        (["--locator-set", "bogus=1"], "bogus"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_cli_values_are_one_line_errors_and_leave_no_cache(tiny_dataset, capsys, extra, words):
    """Class 11/12: these printed tracebacks, or left a cache holding only manifest.json."""
    args = ["extract", str(tiny_dataset), "--extractor", "tiny3d", "--no-progress", *extra]
    if "--locator-set" in extra:
        args += ["--locator", "motion"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and words in err and len(err.strip().splitlines()) == 1
    assert not (tiny_dataset / "features").exists() or not any((tiny_dataset / "features").rglob("manifest.json"))


def test_manifest_never_holds_nan(tmp_path):
    cache = FeatureCache(tmp_path, "c")
    with pytest.raises(ValueError):
        cache.open_for_writing({"extractor": "c", "margin": float("nan")}, {"global": 4, "foreground": 4})
    assert not cache.exists()
    cache.close()
