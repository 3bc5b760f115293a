"""Remake the figures in docs/figures/: ``python docs/make_figures.py`` from the repository root.

Each figure comes from the command line shown next to it (``--plot PATH``),
so a figure in the docs is exactly what a reader's own command draws. The
``matrices`` command has no ``--plot``; its figure is drawn here from the
same computation (the same seed gives the same matrices).
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIGURES = os.path.join(HERE, "figures")

COMMANDS = [
    ("lecture.png", ["lecture"]),
    ("probe-relu-0.1.png", ["probe", "--activation", "relu", "--init", "normal:0.1"]),
    ("probe-relu-0.8-depth1000.png",
     ["probe", "--activation", "relu", "--init", "normal:0.8", "--depth", "1000", "--repeats", "1"]),
    ("train-relu-normal-0.05.png",
     ["train", "--activation", "relu", "--init", "normal:0.05", "--depth", "6", "--width", "32",
      "--epochs", "40"]),
    ("spectrum-tanh-orthogonal.png", ["spectrum", "--activation", "tanh", "--init", "orthogonal"]),
    ("spectrum-tanh-xavier_normal.png", ["spectrum", "--activation", "tanh", "--init", "xavier_normal"]),
]

# commands without a progress bar have no --quiet
SILENT = {"spectrum"}


def run_commands(env):
    for name, args in COMMANDS:
        path = os.path.join("docs", "figures", name)
        quiet = [] if args[0] in SILENT else ["--quiet"]
        cmd = [sys.executable, "-m", "diagnostics", *args, *quiet, "--plot", path]
        print("$", " ".join(["python", *cmd[1:]]))
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def matrices_figure(path, seed=0):
    """log10 of the product's norm after each factor, as ``matrices --scale S --seed 0`` computes it."""
    sys.path.insert(0, ROOT)
    from diagnostics import lecture as lec
    from diagnostics.plot import require_matplotlib

    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    for scale in (0.5, 0.7):
        (m,) = lec.run_tasks([("matrices", (scale, 4, 100, "float64"))], seed)
        ax.plot(range(1, m.n + 1), m.per_step_log10_norm, label=f"scale {scale:g}")
    ax.set_xlabel("matrices multiplied")
    ax.set_ylabel("log10 ||product||")
    ax.set_title("Products of random 4x4 matrices")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print("wrote", os.path.relpath(path, ROOT))


def main():
    os.makedirs(FIGURES, exist_ok=True)
    # the networks are small (100 x 100): one BLAS thread is faster than several
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    run_commands(env)
    os.environ.update(env)
    matrices_figure(os.path.join(FIGURES, "matrices.png"))


if __name__ == "__main__":
    main()
