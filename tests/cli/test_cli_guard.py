"""Issue 14: the one top-level guard of the command line -- an unexpected exception becomes one line with a
pointer to --debug and exit code 70; --debug (anywhere on the line) shows the traceback."""

from __future__ import annotations

import pytest

from judgemind.cli import main as cli_main


@pytest.fixture
def boom(monkeypatch):
    """`judgemind models` made to fail with the given exception."""
    import judgemind.cli.cmd_models as cmd

    def arm(exc):
        def run(args):
            raise exc

        monkeypatch.setattr(cmd, "run", run)  # add_parser binds `run` when main() builds the parser

    return arm


def test_unexpected_exception_is_one_line_and_exit_70(boom, capsys):
    boom(TypeError("unsupported operand\nsecond line"))
    assert cli_main.main(["models"]) == 70
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "TypeError: unsupported operand second line" in err and "--debug" in err


@pytest.mark.parametrize("where", [0, 1])
def test_debug_shows_the_traceback(boom, where):
    boom(KeyError("x"))
    argv = ["models"]
    argv.insert(where, "--debug")
    with pytest.raises(KeyError):
        cli_main.main(argv)


def test_os_errors_name_the_file(boom, capsys):
    boom(PermissionError(13, "Permission denied", "/some/out/result.json"))
    assert cli_main.main(["models"]) == 1
    err = capsys.readouterr().err
    assert "/some/out/result.json: Permission denied" in err and len(err.strip().splitlines()) == 1


def test_memory_error(boom, capsys):
    boom(MemoryError())
    assert cli_main.main(["models"]) == 1
    assert "out of memory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--data", "d", "--features", "pixels", "--model", "mlp"],
        ["bench", "--data", "d", "--features", "pixels"],
        ["evaluate", "run"],
        ["demo", "--quick"],
        ["pose", "train", "--data", "d"],
        ["score", "v.mp4", "--checkpoint", "c.pt"],
    ],
)
def test_dangerous_out_folders_are_refused(argv, tmp_path, monkeypatch, capsys):
    """Issue 24, class 12: nothing stopped `--out /`; the home folder and a data set's folder are refused too."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "dataset.json").write_text("{}")
    for out, words in (
        ("/", "root of the file system"),
        (str(tmp_path / "home"), "home folder"),
        (str(tmp_path / "ds"), "data set's folder"),
    ):
        assert cli_main.main([*argv, "--out", out]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
