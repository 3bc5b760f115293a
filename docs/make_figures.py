"""Remake the figures in docs/figures/: ``python docs/make_figures.py`` from the repository root.

Each figure comes from the command line shown next to it (``--plot PATH``),
so a figure in the docs is exactly what a reader's own command draws.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIGURES = os.path.join(HERE, "figures")

COMMANDS = [
    ("lecture.png", ["lecture"]),
    ("matrices.png", ["matrices"]),
    ("probe-relu-0.1.png", ["probe", "--activation", "relu", "--init", "normal:0.1"]),
    ("probe-relu-0.8-depth1000.png",
     ["probe", "--activation", "relu", "--init", "normal:0.8", "--depth", "1000", "--repeats", "1"]),
    ("train-relu-normal-0.05.png",
     ["train", "--activation", "relu", "--init", "normal:0.05", "--hidden-layers", "6", "--width", "32",
      "--epochs", "40"]),
    ("train-relu-normal-0.5-clip-1.png",
     ["train", "--activation", "relu", "--init", "normal:0.5", "--hidden-layers", "10", "--width", "32",
      "--epochs", "10", "--clip-grad-norm", "1"]),
    ("critical-tanh.png", ["critical", "--activation", "tanh"]),
    ("spectrum-tanh-orthogonal.png", ["spectrum", "--activation", "tanh", "--init", "orthogonal"]),
    ("spectrum-tanh-xavier_normal.png", ["spectrum", "--activation", "tanh", "--init", "xavier_normal"]),
    ("remedies.png", ["remedies"]),
    ("trainability-tanh.png", ["trainability"]),
]

# figures the theory draws without probing a network: (name, Python code run from the root)
THEORY = [
    ("phase-diagram-tanh.png",
     "from diagnostics import theory; theory.plot_phase_diagram("
     "theory.phase_diagram('tanh', points=(57, 36)), 'docs/figures/phase-diagram-tanh.png')"),
]

# commands without a progress bar have no --quiet
SILENT = {"matrices"}


def run_commands(env):
    for name, args in COMMANDS:
        path = os.path.join("docs", "figures", name)
        quiet = [] if args[0] in SILENT else ["--quiet"]
        cmd = [sys.executable, "-m", "diagnostics", *args, *quiet, "--plot", path]
        print("$", " ".join(["python", *cmd[1:]]))
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def run_theory(env):
    for _, code in THEORY:
        print("$ python -c", repr(code))
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def main():
    os.makedirs(FIGURES, exist_ok=True)
    # the networks are small (100 x 100): one BLAS thread is faster than several
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    run_commands(env)
    run_theory(env)


if __name__ == "__main__":
    main()
