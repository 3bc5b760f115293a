"""progress_bar: shown on a terminal and in Jupyter, never in logs, never when progress=False."""

import io

import pytest

import tinynet as tn

pytest.importorskip("tqdm")


class Terminal(io.StringIO):
    def isatty(self):
        return True


class KernelStream(io.StringIO):
    """What a Jupyter kernel's stderr is: not a terminal, yet shown below the cell."""

    __module__ = "ipykernel.iostream"


@pytest.mark.parametrize("stream", [Terminal, KernelStream])
def test_the_bar_shows_on_a_terminal_and_in_jupyter(stream, monkeypatch):
    err = stream()
    monkeypatch.setattr("sys.stderr", err)
    assert list(tn.progress_bar(range(3), desc="counting")) == [0, 1, 2]
    assert "counting" in err.getvalue() and "/3" in err.getvalue()


@pytest.mark.parametrize("stream", [Terminal, KernelStream, io.StringIO])
def test_enabled_false_shows_nothing_and_still_iterates(stream, monkeypatch):
    err = stream()
    monkeypatch.setattr("sys.stderr", err)
    bar = tn.progress_bar(range(3), desc="counting", enabled=False)
    assert list(bar) == [0, 1, 2]
    bar.update(1), bar.set_postfix(loss=1.0), bar.close()
    assert err.getvalue() == ""


def test_a_log_file_gets_no_bar(monkeypatch):
    err = io.StringIO()  # not a terminal, not a kernel: a log or a pipe
    monkeypatch.setattr("sys.stderr", err)
    assert list(tn.progress_bar(range(3), desc="counting")) == [0, 1, 2]
    assert err.getvalue() == ""
