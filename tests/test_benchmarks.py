"""The benchmark compares like with like, and judges a ratio only when its rounds agree."""

import argparse
import pathlib
import subprocess
import sys

import numpy as np

import tinynet as tn

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import fit_numpy  # noqa: E402
import run  # noqa: E402


def test_the_plain_numpy_loop_trains_exactly_as_fit():
    x, y = tn.datasets.moons(n_samples=100, rng=np.random.default_rng(0))
    net = tn.MLP([2, 16, 16, 2], tn.Tanh(), rng=np.random.default_rng(1))
    params = [p.data.copy() for p in net.parameters()]
    state = fit_numpy.init_adam(params)
    opt = tn.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(2):
        history = tn.fit(net, tn.CrossEntropyLoss(), opt, x, y, epochs=1, batch_size=32,
                         rng=np.random.default_rng(epoch), progress=False)
        loss, accuracy = fit_numpy.train_epoch(params, state, x, y, 32, np.random.default_rng(epoch))
        assert np.isclose(loss, history["loss"][0], rtol=1e-12) and accuracy == history["accuracy"][0]
    for p, q in zip(net.parameters(), params):
        np.testing.assert_allclose(q, p.data, rtol=1e-12, atol=1e-15)


def test_a_ratio_is_judged_only_when_its_rounds_agree():
    args = argparse.Namespace(quick=False)
    steady = {"ratio": 1.1, "spread": (1.05, 1.2)}
    assert run.verdict(steady, 1.15, args) == "yes"
    assert run.verdict(steady, 1.0, args) == "NO"
    assert run.verdict({"ratio": 1.1, "spread": (0.9, 1.2)}, 1.15, args) == "noisy"
    assert run.verdict(steady, 1.15, argparse.Namespace(quick=True)) == "noisy"


def test_the_benchmark_explains_itself():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--quick" in out and "--skip-fit" in out


def test_the_lecture_benchmark_times_run_lecture_from_python_against_the_command_line(capsys):
    contenders = run.lecture_contenders()
    assert [name for name, _, _ in contenders] == ["tinynet", "numpy", "python"]
    for name, command, env in contenders:
        if name != "numpy":  # started as from a user's shell or notebook: each applies its own BLAS policy
            assert not set(env) & set(run.BLAS_THREAD_VARIABLES)
    assert "run_lecture()" in contenders[2][1][-1]
    compile(contenders[2][1][-1], "<notebook>", "exec")
    quick = [(name, [sys.executable, "-c", "pass"], env) for name, _, env in contenders]  # run, not timed
    verdicts = run.bench_lecture(argparse.Namespace(quick=False), runs=2, contenders=quick)
    out = capsys.readouterr().out
    assert "run_lecture() in a fresh Python" in out and "ratio to the command line" in out
    assert len(verdicts) == 2 and all(v in ("yes", "NO", "noisy") for v in verdicts)
