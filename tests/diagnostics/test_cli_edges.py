"""No option value the command line accepts makes it print nan, inf or a traceback.

Each case runs in this process through ``main`` (fast); a few run as
``python -m diagnostics`` to see what a user's shell sees.
"""

import importlib.util
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from diagnostics import experiments
from diagnostics.cli import main

SMALL = ["--depth", "3", "--width", "4", "--repeats", "2"]
EDGES = [
    ["probe", "--activation", "relu", "--init", "zeros", *SMALL, "--per-layer"],
    ["probe", "--activation", "tanh", "--init", "normal:1e-300", *SMALL, "--per-layer"],
    ["probe", "--activation", "relu", "--init", "normal:1e300", *SMALL],
    ["probe", "--activation", "sigmoid", "--init", "normal:1e30", *SMALL, "--dtype", "float32"],
    ["probe", "--activation", "relu", "--init", "he_normal", "--depth", "1", "--width", "1", "--repeats", "1",
     "--per-layer"],
    ["probe", "--activation", "identity", "--init", "normal:1", "--bias-std", "1e300", *SMALL],
    ["probe", "--activation", "identity", "--init", "orthogonal", *SMALL, "--bias-std", "0"],
    ["probe", "--activation", "relu", "--init", "uniform:0,1", *SMALL],
    ["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "1,1", "--repeats", "2", "--per-layer"],
    ["probe", "--activation", "tanh", "--init", "normal:1", "--sizes", "5,3", "--final-linear", "--per-layer"],
    ["probe", "--activation", "relu", "--init", "zeros", "--sizes", "4,1,4", "--repeats", "2", "--per-layer"],
    ["probe", "--activation", "sigmoid", "--init", "normal:1e30", "--sizes", "3,5,2", "--dtype", "float32"],
    ["probe", "--activation", "identity", "--init", "normal:1", "--sizes", "8,1,8", "--bias-std", "1e300"],
    ["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "2,100000,2", "--repeats", "1"],
    ["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "200000,200000,2"],
    ["matrices", "--scale", "1e-300", "-k", "1", "-n", "1"],
    ["matrices", "--scale", "1e300", "-k", "2", "-n", "500"],
    ["matrices", "--scale", "1e308", "1e-308", "-k", "3", "-n", "50"],  # entries at float's limits
    ["critical", "--activation", "relu", "--depth", "0"],
    ["critical", "--activation", "identity", "--depth", "2", "--fan-in", "1", "--repeats", "1"],
    ["critical", "--activation", "gelu", "--depth", "3", "--repeats", "1"],
    ["critical", "--activation", "sigmoid", "--bias-std", "1e100", "--depth", "0"],
    ["critical", "--activation", "relu", "--depth", "3", "--fan-in", "1", "--repeats", "3"],  # dead networks
    ["phase", "--activation", "relu", "--sigma-w2", "0.001", "1000", "--sigma-b2", "0", "1000", "--points", "2", "2"],
    ["phase", "--activation", "identity", "--points", "3", "2"],
    ["phase", "--activation", "sigmoid", "--sigma-w2", "999", "1000", "--points", "2", "2"],
    ["phase", "--activation", "tanh", "--sigma-b2", "999", "1000", "--points", "2", "3"],
    ["spectrum", "--activation", "relu", "--init", "zeros", *SMALL],
    ["spectrum", "--activation", "identity", "--init", "orthogonal", "--depth", "1", "--width", "1",
     "--repeats", "1"],
    ["spectrum", "--activation", "tanh", "--init", "normal:1e300", *SMALL],
    ["spectrum", "--activation", "identity", "--init", "normal:1", "--bias-std", "1e300", *SMALL,
     "--dtype", "float32"],
    ["train", "--activation", "relu", "--init", "zeros", "--epochs", "1", "--width", "1", "--depth", "1"],
    ["train", "--activation", "tanh", "--init", "normal:1e-300", "--epochs", "1", "--dataset", "xor",
     "--depth", "3", "--width", "8"],
    ["train", "--activation", "relu", "--init", "uniform:0,1", "--epochs", "1", "--batch-size", "100000",
     "--optimizer", "adam", "--lr", "1e-300"],
    ["train", "--activation", "relu", "--init", "normal:0.5", "--depth", "10", "--width", "8", "--epochs", "1",
     "--clip-grad-norm", "1e-300"],
    ["train", "--activation", "relu", "--init", "zeros", "--epochs", "1", "--clip-grad-norm", "1e300"],
    # narrow networks whose ReLUs all die, batches too small for the theory, float32, one block, deep
    ["remedies", "--depth", "3", "--width", "4", "--repeats", "2", "--batch-size", "2", "3", "--jobs", "1"],
    ["remedies", "--depth", "1", "--width", "4", "--repeats", "1", "--batch-size", "2", "--dtype", "float32",
     "--jobs", "1"],
    ["remedies", "--depth", "400", "--width", "4", "--repeats", "1", "--batch-size", "4", "--jobs", "1"],
]
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
NOT_A_NUMBER = re.compile(r"\b(nan|inf|-inf|\+inf|infinity)\b", re.IGNORECASE)


@pytest.mark.parametrize("argv", EDGES, ids=lambda a: " ".join(a[:5]))
def test_edge_values_print_no_nan_inf_or_traceback(argv, tmp_path, capsys):
    # critical's figure is quick to draw, so its edges are drawn too
    figure = ["--plot", str(tmp_path / "out.png")] if argv[0] == "critical" and HAVE_MATPLOTLIB else []
    status = main([*argv, "--json", str(tmp_path / "out.json"), *figure,
                   *(["--quiet"] if argv[0] in ("probe", "train") else [])])
    out, err = capsys.readouterr()
    assert status in (0, 1, 2), err
    assert "Traceback" not in out + err
    if status == 2:  # refused (a std that overflows float32): one line saying why
        assert len(err.strip().splitlines()) == 1 and "error:" in err
    assert not NOT_A_NUMBER.search(out), out
    assert not NOT_A_NUMBER.search(err), err
    if status == 0:
        text = (tmp_path / "out.json").read_text()
        json.loads(text)
        assert "NaN" not in text and "Infinity" not in text


def test_json_dash_writes_to_stdout_and_the_report_to_stderr():
    proc = subprocess.run([sys.executable, "-m", "diagnostics", "matrices", "--scale", "0.5", "--json", "-"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["matrices"][0]["scale"] == 0.5
    assert "Product of 100 random 4x4 matrices" in proc.stderr
    assert not os.path.exists("-")


@pytest.mark.parametrize("option, name, message", [
    ("--json", "out.txt", "should end in .json"),
    ("--plot", "fig.xyz", "should end in ."),
    ("--json", "no/such/dir/out.json", "the directory of"),
    ("--plot", ".", "is a directory"),
    ("--json", "x" * 300 + ".json", "longer than this file system allows"),
    pytest.param("--plot", "fig.pgf", "cannot write .pgf", marks=pytest.mark.skipif(
        shutil.which("xelatex") is not None, reason="pgf needs no check where TeX is installed")),
])
def test_every_output_path_is_checked_before_any_work(option, name, message, tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)

    def no_work(*args, **kwargs):
        raise AssertionError("the lecture ran before its output path was checked")

    monkeypatch.setattr(experiments, "run_lecture", no_work)
    assert main(["lecture", option, name]) == 2
    err = capsys.readouterr().err
    assert message in err and (name[:40] in err or option == "--plot" and name in (".", "fig.pgf"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_directory_is_refused_before_any_work(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["matrices", "--scale", "0.5", "--json", str(locked / "m.json")]) == 2
    finally:
        locked.chmod(0o700)
    assert "is not writable" in capsys.readouterr().err


def test_a_failed_write_names_the_users_path_not_a_temporary_file(tmp_path, capsys, monkeypatch):
    import tempfile

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full_disk)
    path = tmp_path / "m.json"
    assert main(["matrices", "--scale", "0.5", "--json", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {str(path)!r}: No space left on device" in err and ".tmp-" not in err


def test_files_get_the_usual_permissions(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert main(["matrices", "--scale", "0.5", "--json", str(tmp_path / "m.json")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.json").st_mode) == 0o644


def test_matrices_has_a_plot(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "m.png"
    assert main(["matrices", "--scale", "0.7", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_probe_streams_a_network_too_large_to_hold():
    # the switch, at a small scale: 3 layers of 8 in float64 take 1,536 bytes of weights
    held = experiments.ProbeConfig("relu", "he_normal", depth=3, width=8, repeats=2)
    streamed = experiments.ProbeConfig("relu", "he_normal", depth=3, width=8, repeats=2, max_network_bytes=1000)
    assert not held.streamed and streamed.streamed
    a = experiments.synthetic_gradient(held, np.random.default_rng(0))
    b = experiments.synthetic_gradient(streamed, np.random.default_rng(0))
    assert b.streamed and not a.streamed
    assert len(b.per_layer_grad_norm_log10) == 3 and b.verdict == a.verdict == "stable"
    # the default bound: a network of 100,000 layers of 100 is never built whole
    assert experiments.ProbeConfig("relu", "he_normal", depth=100_000).streamed


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "synthetic_gradient", interrupted)
    assert main(["probe", "--activation", "relu", "--init", "he_normal"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "python -m diagnostics: interrupted"


def test_ctrl_c_during_training_exits_130(monkeypatch, capsys):
    import tinynet as tn

    class Interrupt:
        def on_batch_end(self, step, loss):
            raise KeyboardInterrupt

    real_fit = tn.fit

    def fit(*args, callbacks=(), **kwargs):
        return real_fit(*args, callbacks=[*callbacks, Interrupt()], **kwargs)

    monkeypatch.setattr(tn, "fit", fit)
    assert main(["train", "--activation", "relu", "--init", "he_normal", "--quiet"]) == 130
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err and "Traceback" not in err


def _wait_until_numpy_loads(proc, timeout=30.0):
    # Python's own start-up (site, .pth files) is not the program's to guard; numpy's
    # extension mapped into the process means the program's imports have begun
    maps = f"/proc/{proc.pid}/maps"
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        with open(maps) as f:
            if "_multiarray_umath" in f.read():
                return
        time.sleep(0.005)
    pytest.fail("numpy never loaded")


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc to see the imports begin")
@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3])
def test_ctrl_c_while_loading_exits_130_with_one_line(delay):
    # a real SIGINT while numpy, tinynet and the experiments are still being imported
    proc = subprocess.Popen([sys.executable, "-m", "diagnostics", "lecture"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_until_numpy_loads(proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "python -m diagnostics: interrupted"


def test_an_ascii_only_terminal_gets_ascii_not_an_error():
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run([sys.executable, "-m", "diagnostics", "probe", "--activation", "relu", "--init",
                           "normal:0.1", "--depth", "3", "--width", "8", "--repeats", "2", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "+/-" in proc.stdout and "±" not in proc.stdout


def test_phase_writes_its_figure_whole_or_leaves_the_old_one(tmp_path, capsys, monkeypatch):
    figure_module = pytest.importorskip("matplotlib.figure")
    figure = tmp_path / "phase.png"
    figure.write_bytes(b"the old figure")

    savefig = figure_module.Figure.savefig

    def interrupted(fig, path, *args, **kwargs):
        if not isinstance(path, (str, os.PathLike)):  # the check of the format, before any work
            return savefig(fig, path, *args, **kwargs)
        with open(path, "wb") as f:
            f.write(b"\x89PNG half a fig")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(figure_module.Figure, "savefig", interrupted)
    assert main(["phase", "--activation", "tanh", "--points", "3", "2", "--plot", str(figure)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert figure.read_bytes() == b"the old figure" and os.listdir(tmp_path) == ["phase.png"]
