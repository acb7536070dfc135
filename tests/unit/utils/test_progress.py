"""Progress output: plain lines with the ETA in logs, a rich bar on a terminal, nothing but results with -q."""

from __future__ import annotations

import pytest

from alignlab.utils import progress
from alignlab.utils.progress import QUIET, StepProgress, interactive, progress_callback


@pytest.fixture(autouse=True)
def normal_verbosity():
    yield
    progress.set_verbosity(progress.NORMAL)


def test_plain_lines_carry_the_eta_and_periodic_status():
    lines: list[str] = []
    bar = StepProgress(4, "train", lines.append, every_s=0.0, bar=False)
    bar.advance()
    bar.note("step 1/4  loss 0.5")
    bar.close()
    assert lines[0].startswith("train 1/4  elapsed 0:00  eta ")
    assert lines[1].startswith("step 1/4  loss 0.5  (eta ") and lines[1].endswith(")")


def test_quiet_prints_nothing():
    progress.set_verbosity(QUIET)
    lines: list[str] = []
    bar = StepProgress(2, "train", lines.append, every_s=0.0)
    bar.advance()
    bar.note("step 1/2")
    assert lines == []


def test_not_a_terminal_means_plain(monkeypatch):
    import io

    assert not interactive(io.StringIO())
    monkeypatch.setenv("CI", "1")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert not interactive(Tty())
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "xterm")
    assert interactive(Tty())


def test_trainer_callback_notes_each_log_and_follows_the_steps():
    from transformers import TrainerControl, TrainerState

    lines: list[str] = []
    callback = progress_callback(lines.append, keys=("loss",), bar=False)
    state = TrainerState(max_steps=3)
    callback.on_train_begin(None, state, TrainerControl())
    for step in (1, 2, 3):
        state.global_step = step
        callback.on_step_end(None, state, TrainerControl())
    callback.on_log(None, state, TrainerControl(), logs={"loss": 0.25})
    callback.on_train_end(None, state, TrainerControl())
    assert callback.progress.done == 3
    assert lines[-1].startswith("step 3/3  loss 0.25  (eta 0:00)")


def test_a_bar_on_a_terminal_prints_notes_above_it(capsys):
    bar = StepProgress(2, "train", print, bar=True)
    bar.advance()
    bar.note("step 1/2  loss 0.5")
    bar.advance()
    bar.close()
    assert "step 1/2  loss 0.5" in capsys.readouterr().out


def test_a_bar_opened_inside_another_is_a_row_of_the_same_display(capsys):
    """rich allows one live display: an inner bar (a suite's generation inside the bar over suites) adds a row to
    the outer one and removes it when closed; opening it must not raise rich's LiveError."""
    with StepProgress(2, "eval suites", print, bar=True) as outer:
        with StepProgress(None, "generate", print, bar=True) as inner:
            inner.set_total(8)
            inner.advance(8)
            assert inner._bar is outer._bar
            assert [task.description for task in outer._bar.tasks] == ["eval suites", "generate"]
            assert outer._bar.tasks[1].total == 8 and outer._bar.tasks[1].completed == 8
        assert [task.description for task in outer._bar.tasks] == ["eval suites"]
        outer.advance(2)
    with StepProgress(1, "next", print, bar=True) as later:  # the first display has stopped: a new one starts
        assert later._owner and later._bar is not outer._bar
