"""Issue 14: the input boundary, fuzzed. Hypothesis generates records, dataset.json files, feature manifests,
checkpoint dicts, annotation pickles and command-line values; every example must end in a correct result or in a
JudgemindError (a one-line message naming the file/record/field), never in another exception, a hang or output
left behind.

Bounded: derandomized (the same examples every run), ``EXAMPLES`` examples per property, no per-example deadline
but small sizes; the whole module runs in well under 60 s on one core (see docs/reliability.md for the count).
"""

from __future__ import annotations

import io
import json
import math
import pickle
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from judgemind.errors import JudgemindError  # noqa: E402

EXAMPLES = 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALID = {
    "id": "jump_0001",
    "video": "videos/jump_0001.mp4",
    "frames": [0, 10],
    "action_code": "bFdFF",
    "dd": 4.425,
    "stages": {"takeoff": [0, 3], "flight": [3, 7], "landing": [7, 10]},
    "judges": [
        {"air": 1.8, "form": 4.4, "landing": 2.7},
        {"air": 1.9, "form": 4.5, "landing": 2.5},
        {"air": 1.8, "form": 4.3, "landing": 2.8},
        {"air": 2.0, "form": 4.8, "landing": 2.9},
        {"air": 1.5, "form": 3.9, "landing": 2.4},
    ],
    "final_score": 118.14,
    "deductions": [{"item": "bent_knees", "stage": "flight", "points": 0.3, "frames": [4, 6]}],
}

# numbers as text, so that JSON can carry what Python floats cannot (1e400000000, 5000-digit integers)
NUMBER_TEXT = st.one_of(
    st.integers(-(10**6), 10**7).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        [
            "1e400000000",
            "-1e999999999",
            "1e-999999",
            "NaN",
            "Infinity",
            "-Infinity",
            "9" * 5000,
            "0.1e1",
            "-0",
            "1E+30",
            "4.425",
        ]
    ),
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["a/b", "id_612f62", "../x", "/etc/passwd", "\ud800", "a\x00b", "x" * 300, "$x$", "<script>", " "]),
)


def _json_value(depth=2):
    leaf = st.one_of(st.none(), st.booleans(), NUMBER_TEXT.map(lambda t: ("num", t)), TEXT)
    if depth == 0:
        return leaf
    return st.one_of(
        leaf,
        st.lists(_json_value(depth - 1), max_size=4),
        st.dictionaries(
            st.sampled_from(["takeoff", "flight", "landing", "air", "form", "x"]), _json_value(depth - 1), max_size=4
        ),
    )


def _dump(v) -> str:
    """JSON text of a generated value, numbers written verbatim from their text."""
    if isinstance(v, tuple) and v and v[0] == "num":
        return v[1]
    if isinstance(v, list):
        return "[" + ",".join(_dump(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _dump(x) for k, x in v.items()) + "}"
    return json.dumps(v)


FIELDS = sorted(VALID) + ["boxes", "cuts", "extra", "sex", "synchro", "unknown"]


@st.composite
def records(draw):
    """A valid record with 0-3 fields replaced by arbitrary JSON (or removed)."""
    rec = {k: ("raw", json.dumps(v)) for k, v in VALID.items()}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()) and name in rec:
            del rec[name]
        else:
            rec[name] = ("raw", _dump(draw(_json_value())))
    return "{" + ",".join(json.dumps(k) + ":" + v[1] for k, v in rec.items()) + "}"


def _cli(argv) -> tuple[int, str]:
    from judgemind.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@FUZZ
@given(
    lines=st.lists(records(), min_size=1, max_size=3),
    fps=NUMBER_TEXT,
    split=st.lists(st.sampled_from(["jump_0001", "a/b", "nope"]), max_size=3),
)
def test_fuzz_data_validate(lines, fps, split):
    """Records and dataset.json: `data validate` exits 0 or 1 with a report, never a traceback (exit 70)."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        meta = (
            '{"name": "f", "fps": ' + fps + ', "scoring": "aerials5", "splits": {"train": ' + json.dumps(split) + "}}"
        )
        (root / "dataset.json").write_text(meta, encoding="utf-8")
        (root / "annotations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        code, err = _cli(["data", "validate", str(root), "--no-videos", "--json"])
        assert code in (0, 1), err
        assert "Traceback" not in err and "internal error" not in err
        from judgemind.data import load_dataset
        from judgemind.features.cache import safe_name

        try:
            ds = load_dataset(root)
        except JudgemindError:
            return
        for rec in ds.records:  # accepted records are usable downstream: portable file names, JSON-able
            assert len(safe_name(rec.id).encode()) < 240
            from judgemind.data.dataset import dumps_record

            json.loads(dumps_record(rec))
        assert math.isfinite(ds.meta.fps)


MANIFEST_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 2**40), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["extractor", "config", "dims", "global", "foreground", "steps"]), inner, max_size=4
        ),
    ),
    max_leaves=10,
)


@FUZZ
@given(m=MANIFEST_VALUE)
def test_fuzz_manifest(m):
    """Feature manifests: accepted ones have what every reader relies on; the rest are JudgemindErrors."""
    from judgemind.features.cache import check_manifest

    try:
        out = check_manifest(m, "manifest.json")
    except JudgemindError as e:
        assert "manifest.json" in str(e)
        return
    assert isinstance(out["config"], dict) and out["dims"]["global"] > 0 and out["dims"]["foreground"] > 0
    assert isinstance(out["extractor"], str)


CK_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
CONFIG_KEYS = {
    "data": ["dataset", "features", "dim_global"],
    "model": ["name", "d_model", "knowledge", "heads"],
    "optim": ["lr", "epochs", "batch_size", "seed"],
    "run": ["threads", "device", "end_to_end"],
}


@st.composite
def checkpoint_dicts(draw):
    cfg = {
        sec: {k: draw(CK_VALUE) for k in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True))}
        for sec, keys in CONFIG_KEYS.items()
    }
    info = {
        "dim_global": 8,
        "dim_foreground": 8,
        "steps": 16,
        "n_items": 3,
        "n_judges": 5,
        "code_dim": 34,
        "n_actions": 2,
    }
    for k in draw(
        st.lists(st.sampled_from(sorted(info) + ["scoring", "item_ids", "score_std", "bogus"]), max_size=2, unique=True)
    ):
        info[k] = draw(CK_VALUE)
    ck = {
        "format": "judgemind-checkpoint/1",
        "model_name": "mlp",
        "config": cfg,
        "data_info": info,
        "model": {},
        "epoch": 0,
        "features_manifest": None,
    }
    for k in draw(st.lists(st.sampled_from(sorted(ck)), max_size=2, unique=True)):
        ck[k] = draw(CK_VALUE)
    return ck


@FUZZ
@given(ck=checkpoint_dicts())
def test_fuzz_checkpoint_dict(ck):
    """Checkpoint contents: the payload check, the stored config and DataInfo accept or raise JudgemindError."""
    from judgemind.models.base import DataInfo
    from judgemind.runs.checkpoint import check_payload
    from judgemind.runs.config import TrainConfig

    try:
        check_payload(ck, "best.pt")
        cfg = TrainConfig.from_dict(ck["config"], where="best.pt config")
        info = DataInfo.from_dict(ck["data_info"])
    except JudgemindError:
        return
    assert cfg.optim.epochs >= 0 and math.isfinite(cfg.optim.lr) and info.scoring in ("aerials5", "aerials7", "diving")


OPTION_TEXT = st.one_of(
    NUMBER_TEXT, TEXT, st.sampled_from(["[1,2]", "[8,16]", "{}", "true", "null", '"x"', "-1", "0", "[" * 50])
)


@FUZZ
@given(
    key=st.sampled_from(
        [
            "steps",
            "in_size",
            "margin",
            "channels",
            "clip_len",
            "dim",
            "seed",
            "batch",
            "bogus",
            "fg_size",
            "motion_gap",
            "short_side",
        ]
    ),
    value=OPTION_TEXT,
    extractor=st.sampled_from(["tiny3d", "pixels"]),
)
def test_fuzz_extractor_options(key, value, extractor):
    """`extract --set KEY=VALUE`: parsed and checked before anything is written; accepted options build an
    extractor whose steps stay within the limit."""
    from judgemind.cli.cmd_extract import parse_options
    from judgemind.features.base import get_extractor
    from judgemind.limits import max_steps

    try:
        opts = parse_options([f"{key}={value}"], "--set")
        ex = get_extractor(extractor, **opts)
    except JudgemindError as e:
        assert len(str(e).splitlines()) == 1
        return
    cfg = ex.config()
    assert cfg.get("steps") is None or 1 <= cfg["steps"] <= max_steps()
    json.dumps(cfg, allow_nan=False)  # a manifest made from it is strict JSON
    ex.close()


@FUZZ
@given(
    sets=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "optim.lr",
                    "optim.epochs",
                    "optim.batch_size",
                    "model.d_model",
                    "model.knowledge",
                    "run.threads",
                    "data.features",
                    "optim.x",
                    "bogus",
                    "optim.seed",
                ]
            ),
            OPTION_TEXT,
        ),
        max_size=3,
    )
)
def test_fuzz_train_set_values(sets):
    """`train --set SECTION.KEY=VALUE`: a resolved config or a JudgemindError, never a later crash on a type."""
    from judgemind.runs.config import resolve_config

    try:
        cfg = resolve_config(None, [f"{k}={v}" for k, v in sets], {"model": {"name": "judgemind"}})
    except JudgemindError:
        return
    assert isinstance(cfg.optim.epochs, int) and math.isfinite(cfg.optim.lr) and cfg.optim.lr >= 0
    assert isinstance(cfg.model.get("d_model", 0), int)


PLAIN = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(), st.text(max_size=5), st.binary(max_size=5)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(
            st.sampled_from(
                ["start_frame", "end_frame", "judge_scores", "difficulty", "dive_score", "action_type", "frames_labels"]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    coarse=st.dictionaries(
        st.sampled_from(["start_frame", "end_frame", "judge_scores", "difficulty", "dive_score", "action_type"]),
        PLAIN,
        max_size=6,
    ),
    fine=PLAIN,
    protocol=st.sampled_from([0, 2, 4, 5]),
)
def test_fuzz_finediving_pickles(coarse, fine, protocol):
    """FineDiving annotation pickles of plain data with any field types: records or one JudgemindError."""
    from judgemind.data.adapters import load_finediving

    key = ("FINADivingWorldCup2021_Men3m_final_r1", 1)
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "Annotations"
        src.mkdir()
        for name, obj in (
            ("FineDiving_coarse_annotation.pkl", {key: coarse}),
            ("FineDiving_fine-grained_annotation.pkl", {key: fine}),
            ("Sub_action_Types_Table.pkl", {1: "Forward", 2: "Pike", 3: "Entry"}),
            ("train_split.pkl", [key]),
            ("test_split.pkl", []),
        ):
            (src / name).write_bytes(pickle.dumps(obj, protocol=protocol))
        try:
            load_finediving(src)
        except JudgemindError:
            pass
