"""utils.progress: a bar redrawn in place in a terminal, a few whole lines in a file or CI log."""

from __future__ import annotations

import io

from judgemind.utils.progress import LOG_STEPS, _LineWriter, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_tenth_of_the_work():
    log = io.StringIO()
    bar = progress_bar(total=1000, desc="work", unit="item", file=log)
    for _ in range(1000):
        bar.update(1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == LOG_STEPS + 1, lines  # 0 %, 10 %, ..., 100 %, each once
    assert lines[-1].startswith("work: 100%") and "1000/1000" in lines[-1]
    assert len(log.getvalue()) < 2000


def test_a_log_of_an_iterable_and_a_resumed_bar():
    log = io.StringIO()
    assert list(progress_bar(range(7), desc="it", file=log)) == list(range(7))
    assert log.getvalue().splitlines()[-1].startswith("it: 100%")
    log = io.StringIO()
    bar = progress_bar(total=10, initial=4, desc="resumed", file=log)
    bar.update(6)
    bar.close()
    assert "10/10" in log.getvalue().splitlines()[-1]


def test_a_terminal_gets_the_redrawn_bar_and_disabled_bars_write_nothing():
    tty = _Terminal()
    bar = progress_bar(total=50, desc="tty", file=tty)
    for _ in range(50):
        bar.update(1)
    bar.close()
    assert "\r" in tty.getvalue()
    quiet = io.StringIO()
    bar = progress_bar(total=50, desc="off", enabled=False, file=quiet)
    bar.update(50)
    bar.close()
    assert quiet.getvalue() == ""


def test_a_redraw_of_the_same_count_with_a_narrower_bar_is_not_repeated():
    """tqdm's closing redraw carries a new rate; a longer rate text draws a shorter bar. On a fast CPU that used to
    print the last line twice."""
    log = io.StringIO()
    writer = _LineWriter(log)
    writer.write("\rwork:  50%|#####     | 500/1000 [00:00<00:00, 19.5item/s]")
    writer.write("\rwork:  50%|####    | 500/1000 [00:00<00:00, 1979995.54item/s]")
    writer.write("\rwork: 100%|##########| 1000/1000 [00:00<00:00, 19.5item/s]")
    writer.write("\rwork: 100%|#######| 1000/1000 [00:00<00:00, 1904768.84item/s]")
    writer.write("\rwork: 7item [00:01, 5.1item/s]")
    writer.write("\rwork: 7item [00:02, 3.4item/s]")
    assert [line.split("|")[0].split("[")[0] for line in log.getvalue().splitlines()] == [
        "work:  50%",
        "work: 100%",
        "work: 7item ",
    ]
