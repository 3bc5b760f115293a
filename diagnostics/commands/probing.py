"""Commands that probe networks at initialization: lecture, probe, matrices."""

import contextlib

import numpy as np

import tinynet as tn

from .. import lecture as lec
from ..cli import (
    _nonnegative_float, _positive_float, _positive_int, add_activation, add_common, add_dtype, add_init,
    add_jobs, command, executor_for, progress_on, write_json,
)
from ..table import Table, format_log10


def _finish(args, data, results=None, title=None):
    if args.json:
        write_json(args.json, data)
        print(f"wrote {args.json}")
    if getattr(args, "plot", None) and results:
        from ..plot import plot_gradient_curves

        plot_gradient_curves(results, args.plot, title=title)
        print(f"wrote {args.plot}")


@contextlib.contextmanager
def _executor(args, n_tasks):
    """The process pool --jobs asks for (None: run here), shut down on leaving."""
    executor = executor_for(args, n_tasks)
    try:
        yield executor
    finally:
        if executor is not None:
            executor.shutdown()


def _run_with(args, tasks):
    with _executor(args, len(tasks)) as executor:
        return lec.run_tasks(tasks, args.seed, executor, progress_on(args))


def matrices_table(results):
    """Measured size of each product, beside the theory's typical value and growth rate."""
    table = Table(["scale", "k", "n", "mean|entry|", "log10", "typical", "decades/step", "Lyapunov"],
                  formats={"log10": ".2f", "typical": ".2f", "scale": "g", "decades/step": "+.4f",
                           "Lyapunov": "+.4f"})
    for m in results:
        table.append({"scale": m.scale, "k": m.k, "n": m.n,
                      "mean|entry|": format_log10(m.log10_mean_abs), "log10": m.log10_mean_abs,
                      "typical": m.extra.get("typical_log10_mean_abs"),
                      "decades/step": m.extra.get("measured_log10_per_step"),
                      "Lyapunov": m.extra.get("lyapunov_log10_per_step")})
    return table


MATRICES_NOTE = ("typical: predicted log10 of one product's mean |entry| (- before the product has collapsed "
                 f"to rank one, n (lambda_1 - lambda_2) < {lec.RANK_ONE_MARGIN:g}); decades/step: measured growth of "
                 "log10 ||Y|| from the identity; Lyapunov: its exact rate, log10(scale) + (log 2 + digamma(k/2)) "
                 "/ (2 ln 10)")
EXPERIMENTS_NOTE = (
    "log10: measured, of the mean over the networks, as the lecture averaged; typical: predicted for one\n"
    "network (the median); mean-field: predicted log of the mean over infinitely wide networks.\n"
    "regime: ordered / critical / chaotic as chi_1 at the fixed point is below / at / above 1.\n"
    f"verdict: vanishing / exploding when the gradient norm shrinks / grows by more than "
    f"{lec.STABLE_DECADES:g} decade from output to input, else stable")


@command("lecture", "reproduce every experiment of the lecture (EXPERIMENTS.md)")
def run_lecture(args):
    """Run the lecture's experiments on real tinynet networks, through hooks, and print a table.

    Verdicts: the gradient's norm changes by more than 1 decade from the
    output to the input: vanishing (smaller) or exploding (larger);
    otherwise stable.
    """
    with _executor(args, len(lec.MATRIX_SCALES) + len(lec.lecture_configs())) as executor:
        result = lec.run_lecture(args.seed, args.dtype, executor, progress_on(args))
    print(f"The lecture's experiments on tinynet networks (seed {args.seed}, {args.dtype})\n")
    print("1. Products of 100 random 4x4 matrices with N(0, scale^2) entries")
    print(matrices_table(result.matrices))
    print(MATRICES_NOTE)
    print("\n2. Gradient of a 50-layer MLP at initialization (width 100, no bias, input of ones),")
    print("   mean |J| of its input-output Jacobian, averaged over 10 fresh networks")
    print(lec.experiment_table(result.experiments))
    print()
    print(EXPERIMENTS_NOTE)
    _finish(args, result.to_json(), result.experiments, "The lecture's networks: gradient norm by depth")
    return 0


run_lecture.arguments = lambda p: (add_common(p), add_dtype(p), add_jobs(p))


@command("probe", "probe the gradient of one MLP configuration")
def run_probe(args):
    """Probe a freshly initialized MLP (no training): mean |J| and per-layer gradient norms."""
    tn.activation(args.activation)  # fail early, with the list of known names
    init = tn.init.from_spec(args.init)
    config = lec.ProbeConfig(args.activation, init.to_spec(), depth=args.depth, width=args.width,
                             repeats=args.repeats, bias_std=args.bias_std, dtype=args.dtype)
    (result,) = _run_with(args, [("gradient", config)])
    bias = "no bias" if args.bias_std is None else f"bias std {args.bias_std:g}"
    print(f"{args.depth}-layer MLP, width {args.width}, {args.activation}, weights {init!r}, {bias}; "
          f"{args.repeats} repeats, seed {args.seed}, {args.dtype}")
    print(lec.experiment_table([result]))
    if "prediction_note" in result.extra:
        print(f"no prediction: {result.extra['prediction_note']}")
    if args.per_layer and result.per_layer_grad_norm_log10:
        curve = result.per_layer_grad_norm_log10
        gains = np.diff(np.concatenate([[0.5 * np.log10(args.width)], curve]))
        typical = result.extra.get("typical_per_layer_grad_norm_log10") or [None] * len(curve)
        mean_field = result.extra.get("predicted_per_layer_grad_norm_log10") or [None] * len(curve)
        table = Table(["layers back", "forward layer", "log10 ||grad||", "gain (decades)", "typical",
                       "mean-field"],
                      formats={"log10 ||grad||": ".3f", "gain (decades)": "+.3f", "typical": ".3f",
                               "mean-field": ".3f"})
        for i, (c, g, t, m) in enumerate(zip(curve, gains, typical, mean_field)):
            table.append({"layers back": i + 1, "forward layer": args.depth - i,
                          "log10 ||grad||": c, "gain (decades)": g, "typical": t, "mean-field": m})
        print()
        print(table)
    print()
    print(EXPERIMENTS_NOTE)
    data = {"seed": args.seed, "dtype": args.dtype, "experiments": [result.to_json()]}
    _finish(args, data, [result], f"{args.activation}, {init!r}")
    return 0


def _probe_arguments(p):
    add_activation(p)
    add_init(p, "normal:0.1, xavier_uniform, he_normal")
    p.add_argument("--depth", type=_positive_int, default=50, help="number of layers (default 50)")
    p.add_argument("--width", type=_positive_int, default=100, help="width of every layer (default 100)")
    p.add_argument("--repeats", type=_positive_int, default=10,
                   help="fresh networks averaged over (default 10)")
    p.add_argument("--bias-std", type=_nonnegative_float, default=None, metavar="S",
                   help="give the layers biases drawn from N(0, S^2) (default: no bias)")
    p.add_argument("--per-layer", action="store_true",
                   help="also print the gradient norm after every layer")
    add_common(p)
    add_dtype(p)


run_probe.arguments = _probe_arguments


@command("matrices", "the product of random matrices (the lecture's first experiment)")
def run_matrices(args):
    """Multiply n random k x k matrices with N(0, scale^2) entries and print the product."""
    (m,) = _run_with(args, [("matrices", (args.scale, args.k, args.n, "float64"))])
    print(f"Product of {m.n} random {m.k}x{m.k} matrices with N(0, {m.scale:g}^2) entries (seed {args.seed}):")
    exp = m.log10_scale
    for row in m.mantissa:
        print("  " + "  ".join(_format_entry(v, exp) for v in row))
    print(matrices_table([m]))
    print(MATRICES_NOTE)
    _finish(args, {"seed": args.seed, "matrices": [lec.matrix_json(m)]})
    return 0


def _format_entry(mantissa, log10_scale):
    if mantissa == 0:
        return f"{0.0:>9}"
    text = format_log10(np.log10(abs(mantissa)) + log10_scale)
    return f"{'-' if mantissa < 0 else ''}{text}".rjust(9)


def _matrices_arguments(p):
    p.add_argument("--scale", type=_positive_float, required=True, help="std of the entries")
    p.add_argument("-k", type=_positive_int, default=4, help="matrix size (default 4)")
    p.add_argument("-n", type=_positive_int, default=100, help="number of factors (default 100)")
    add_common(p, plot=False, quiet=False)


run_matrices.arguments = _matrices_arguments
