"""Checkpoints: safe loading, what they carry, and clear errors for checkpoints of another model or config."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from judgemind import __version__
from judgemind.cli.main import main
from judgemind.errors import CheckpointError
from judgemind.models import create_model
from judgemind.runs.checkpoint import git_revision, load_checkpoint, load_model_state
from judgemind.runs.config import resolve_config
from judgemind.train.loop import fit


@pytest.fixture(scope="module")
def mlp_run(tiny_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    cfg = resolve_config(
        None,
        [
            f"data.dataset={tiny_dataset}",
            "data.features=toy",
            "model.name=mlp",
            "model.hidden=16",
            "optim.epochs=2",
            "optim.batch_size=8",
            f"run.out={out}",
        ],
    )
    threads = torch.get_num_threads()
    try:
        fit(cfg)
    finally:
        torch.set_num_threads(threads)
    return out


def test_run_folder_contents(mlp_run):
    assert {p.name for p in mlp_run.iterdir()} >= {
        "config.yaml",
        "run.json",
        "log.jsonl",
        "best.pt",
        "last.pt",
        "summary.json",
    }
    log = [json.loads(x) for x in (mlp_run / "log.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in log] == [1, 2]
    assert {"train", "val", "lr", "time_s", "best"} <= set(log[0]) and "rho" in log[0]["val"]
    info = json.loads((mlp_run / "run.json").read_text())
    assert info["judgemind_version"] == __version__ and info["git_revision"] == git_revision()
    ck = load_checkpoint(mlp_run / "last.pt")
    assert ck["model_name"] == "mlp" and ck["epoch"] == 1 and ck["config"]["model"]["hidden"] == 16
    assert ck["data_info"]["dim_global"] == 8 and {"optimizer", "scheduler", "rng"} <= set(ck)
    assert ck["features_manifest"]["extractor"] == "toy" and ck["features_manifest"]["dims"]["global"] == 8
    assert ck["git_revision"] == git_revision() and ck["judgemind_version"] == __version__


SHA_A, SHA_B, SHA_C = "a" * 40, "0123456789abcdef0123456789abcdef01234567", "c" * 40


def _fake_checkout(root, head: str, refs: dict | None = None, packed: dict | None = None):
    """A ``.git`` folder as git writes it: HEAD, loose refs, packed-refs."""
    g = root / ".git"
    (g / "refs" / "heads").mkdir(parents=True)
    (g / "HEAD").write_text(head + "\n")
    for ref, sha in (refs or {}).items():
        (g / ref).parent.mkdir(parents=True, exist_ok=True)
        (g / ref).write_text(sha + "\n")
    if packed:
        (g / "packed-refs").write_text(
            "# pack-refs with: peeled fully-peeled sorted\n" + "".join(f"{sha} {ref}\n" for ref, sha in packed.items())
        )
    (root / "src" / "pkg").mkdir(parents=True)
    return root / "src" / "pkg" / "module.py"


def test_git_revision_is_read_without_git(tmp_path):
    """Read from the .git files (no git program): a loose ref, a packed ref, a detached HEAD, a worktree's
    ``.git`` file; "unknown" only outside a checkout."""
    loose = _fake_checkout(tmp_path / "loose", "ref: refs/heads/main", refs={"refs/heads/main": SHA_A})
    assert git_revision(loose) == SHA_A
    packed = _fake_checkout(
        tmp_path / "packed", "ref: refs/heads/main", packed={"refs/heads/main": SHA_B, "refs/heads/other": SHA_C}
    )
    assert git_revision(packed) == SHA_B
    detached = _fake_checkout(tmp_path / "detached", SHA_C)
    assert git_revision(detached) == SHA_C
    # a linked worktree: .git is a file naming its gitdir, whose commondir holds the refs
    _fake_checkout(
        tmp_path / "main", "ref: refs/heads/main", refs={"refs/heads/main": SHA_A, "refs/heads/feature": SHA_B}
    )
    wt_git = tmp_path / "main" / ".git" / "worktrees" / "wt"
    wt_git.mkdir(parents=True)
    (wt_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (wt_git / "commondir").write_text("../..\n")
    (tmp_path / "wt" / "src").mkdir(parents=True)
    (tmp_path / "wt" / ".git").write_text(f"gitdir: {wt_git}\n")
    assert git_revision(tmp_path / "wt" / "src") == SHA_B
    bare = tmp_path / "no-checkout" / "x.py"
    bare.parent.mkdir()
    if not any((d / ".git").exists() for d in bare.parents):
        assert git_revision(bare) == "unknown"


def test_git_revision_of_this_checkout_matches_git():
    import shutil
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    if not (repo / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout (or no git program to compare with)")
    want = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_revision(repo / "src" / "judgemind" / "__init__.py") == want


def test_checkpoint_of_another_model_is_a_clear_error(mlp_run, tmp_path):
    with pytest.raises(CheckpointError, match="holds model 'mlp', not 'judgemind'"):
        load_checkpoint(mlp_run / "best.pt", expect_model="judgemind")
    ck = load_checkpoint(mlp_run / "best.pt")
    from judgemind.models import DataInfo

    model, _ = create_model("judgemind", {"text_encoder": "hashing"}, DataInfo.from_dict(ck["data_info"]))
    with pytest.raises(CheckpointError, match="weights do not fit the model"):
        load_model_state(model, ck, mlp_run / "best.pt")


def test_checkpoint_of_another_config_is_a_clear_error(mlp_run, capsys):
    ck = load_checkpoint(mlp_run / "last.pt")
    other = dict(ck["config"], optim=dict(ck["config"]["optim"], lr=0.1))
    with pytest.raises(CheckpointError, match="another config.*optim.lr"):
        load_checkpoint(mlp_run / "last.pt", expect_config=other)
    # the same through the command line: resume with other settings / another model
    assert main(["train", "--out", str(mlp_run), "--resume", "--set", "optim.lr=0.1"]) == 2
    assert "another config (optim.lr: 0.0005 != 0.1" in capsys.readouterr().err
    assert main(["train", "--out", str(mlp_run), "--resume", "--model", "judgemind"]) == 2
    assert "is a run of model 'mlp', not 'judgemind'" in capsys.readouterr().err


def test_unsafe_or_foreign_files_are_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    p = tmp_path / "evil.pt"
    p.write_bytes(pickle.dumps({"format": "judgemind-checkpoint/1", "x": Evil()}, protocol=2))
    with pytest.raises(CheckpointError, match="not a loadable judgemind checkpoint"):
        load_checkpoint(p)
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a judgemind checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_existing_run_folder_needs_resume(mlp_run, capsys):
    assert main(["train", "--out", str(mlp_run), "--data", "x"]) == 2
    assert "is not empty; pass --resume" in capsys.readouterr().err
