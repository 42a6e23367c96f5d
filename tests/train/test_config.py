"""Config resolution: defaults < YAML < --set < flags; unknown keys are errors that name the key."""

from __future__ import annotations

import pytest

from judgemind.errors import JudgemindError
from judgemind.runs.config import TrainConfig, config_diff, resolve_config


def test_defaults_yaml_sets_and_flags_in_order(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "optim: {lr: 0.002, epochs: 7, batch_size: 8}\nmodel: {name: judgemind, knowledge: false}\n"
        "data: {features: toy}\n"
    )
    cfg = resolve_config(
        str(f), ["optim.lr=1e-3", "model.d_model=64", "model.global=false"], {"optim": {"epochs": 3, "seed": None}}
    )
    assert cfg.optim.lr == 1e-3  # --set beats YAML
    assert cfg.optim.epochs == 3  # flag beats YAML
    assert cfg.optim.batch_size == 8  # YAML beats default
    assert cfg.optim.seed == 0  # None flags are ignored
    assert cfg.model["knowledge"] is False and cfg.model["d_model"] == 64 and cfg.model["global_tokens"] is False
    assert cfg.model["heads"] == 4  # resolved config holds every model key
    assert cfg.data.features == "toy"
    again = TrainConfig.from_dict(cfg.to_dict())
    assert again.to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    "sets, message",
    [
        (["optim.learning_rate=1"], "unknown optim config key.*learning_rate"),
        (["model.no_such=1"], "model .judgemind. has no option no_such; its options are"),
        (["nosection.x=1"], "unknown section 'nosection'"),
        (["lr=1"], "needs a section"),
        (["optim.lr"], "expected SECTION.KEY=VALUE"),
        (["optim.epochs=many"], "optim.epochs expects a int"),
        (["model.name=nomodel"], "unknown model 'nomodel'"),
    ],
)
def test_bad_keys_and_values_are_clear_errors(sets, message):
    with pytest.raises(JudgemindError, match=message):
        resolve_config(None, sets)


def test_yaml_errors_name_the_file(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("optimiser: {lr: 1}\n")
    with pytest.raises(JudgemindError, match=r"bad.yaml.*unknown section\(s\) optimiser"):
        resolve_config(str(f))
    f.write_text("data: [1, 2]\n")
    with pytest.raises(JudgemindError, match="section 'data' must be a mapping"):
        resolve_config(str(f))
    with pytest.raises(JudgemindError, match="does not exist"):
        resolve_config(str(tmp_path / "missing.yaml"))


def test_model_keys_are_checked_against_the_chosen_model():
    cfg = resolve_config(None, ["model.name=mlp", "model.hidden=32"])
    assert cfg.model_name == "mlp" and cfg.model == {"hidden": 32, "layers": 2, "dropout": 0.1}
    with pytest.raises(JudgemindError, match="model .mlp. has no option knowledge; its options are hidden"):
        resolve_config(None, ["model.name=mlp", "model.knowledge=false"])


def test_config_diff_lists_changed_keys():
    a = resolve_config(None, []).to_dict()
    b = resolve_config(None, ["optim.lr=0.1"]).to_dict()
    assert config_diff(a, b) == ["optim.lr: 0.0005 != 0.1"]
    assert config_diff(a, b, ignore=("optim.lr",)) == []
