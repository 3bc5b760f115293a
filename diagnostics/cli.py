"""The command line, ``python -m diagnostics COMMAND ...``: its options, and one function per command.

Each command reads its options, runs an experiment (``diagnostics.experiments``),
prints what ``diagnostics.report`` makes of the result, and writes the JSON
and the figure (``diagnostics.plot``) the user asked for. To add a command,
write ``NAME_options(p)`` and ``NAME(args) -> exit status`` and add a line
to ``COMMANDS``. Nothing imports this module but ``__main__``.

Exit status: 0 done; 1 a failed write, or training that diverged; 2 a bad
option, in one line on stderr; 130 Ctrl-C, in one line. Never a traceback.
"""

import argparse
import codecs
import functools
import inspect
import json
import os
import shlex
import sys

import numpy as np

import tinynet as tn

from . import display, experiments, html, parallel, plot, report, theory
from .files import replace_whole

PROG = "python -m diagnostics"


class UsageError(Exception):
    """A bad option or value: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message}")


# ---------------------------------------------------------------------------
# option types
# ---------------------------------------------------------------------------

def _int_at_least(low, expected):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonnegative_int = _int_at_least(0, "an integer >= 0")


def _float_above(low, strict, expected):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (value > low if strict else value >= low) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return parse


_positive_float = _float_above(0.0, True, "a positive number")
_nonnegative_float = _float_above(0.0, False, "a number >= 0")


def _sizes(text):
    """``784,256,10`` -> (784, 256, 10): at least two positive widths."""
    expected = "at least 2 positive integers separated by commas, such as 784,256,10"
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return sizes


def _activation(p, required=True):
    p.add_argument("--activation", required=required, metavar="NAME",
                   help="activation name: " + ", ".join(tn.available_activations()))


def _init(p, example, required=True):
    p.add_argument("--init", required=required, metavar="SPEC",
                   help=f"weight initializer as tinynet.init.from_spec reads it, e.g. {example}")


def _old_spelling(p, old, dest, **kw):
    """Keep ``old``, an option's former name that users' scripts may hold, working, unlisted in --help."""
    p.add_argument(old, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kw)


def _network(p, repeats, repeats_help, sizes=False):
    # with --sizes (and --model), --depth, --width and --repeats default to None, so giving them
    # beside it can be refused
    default = dict(depth=None, width=None, repeats=None) if sizes else dict(depth=50, width=100, repeats=repeats)
    p.add_argument("--depth", type=_positive_int, default=default["depth"], help="number of layers (default 50)")
    p.add_argument("--width", type=_positive_int, default=default["width"], help="width of every layer (default 100)")
    if sizes:
        p.add_argument("--sizes", type=_sizes, metavar="N,N,...",
                       help="widths of a network of mixed widths, input first, e.g. 784,256,128,10 "
                            "(instead of --depth and --width)")
        p.add_argument("--final-linear", action="store_true", help="no activation after the last layer")
    p.add_argument("--repeats", type=_positive_int, default=default["repeats"],
                   help=f"{repeats_help} (default {repeats})")
    _bias(p)


def _bias(p):
    p.add_argument("--bias-std", type=_nonnegative_float, default=None, metavar="S",
                   help="give the layers biases drawn from N(0, S^2) (default: no bias)")


def _outputs(p, plot=True, quiet=True, seed=True):
    if seed:
        p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results to PATH (.json; - for stdout, "
                                                  "the printed report then going to stderr)")
    if plot:
        p.add_argument("--plot", metavar="PATH", help="write a figure to PATH (.png, .pdf, .svg...; "
                                                      "needs matplotlib)")
    if quiet:
        p.add_argument("--quiet", action="store_true",
                       help="no progress bar (it is off anyway when stderr is not a terminal)")


def _dtype(p, default="float64"):
    # probe's default is None, so giving --dtype beside --model (which has its own) can be refused
    p.add_argument("--dtype", choices=("float64", "float32"), default=default,
                   help="floating type of the networks (default float64)")


def _jobs(p):
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="run configurations in N worker processes (default: one per available core; "
                        "1 runs them in this process); results are identical for any N")


# ---------------------------------------------------------------------------
# output files: checked before any work, written whole, errors naming the user's path
# ---------------------------------------------------------------------------

def check_outputs(args):
    """Fail before any work if an output cannot be written, or plotting is unavailable."""
    for opt, allowed in (("json", ["json"]), ("plot", None), ("html", ["html", "htm"])):
        path = getattr(args, opt, None)
        if path is None or (opt == "json" and path == "-"):
            continue
        if opt == "plot":
            try:
                plot.require_matplotlib()
            except ImportError as e:
                raise UsageError(f"--plot: {e}") from None
            allowed = plot.supported_formats()
        ext = os.path.splitext(path)[1].lstrip(".").lower()
        if os.path.isdir(path):
            raise UsageError(f"--{opt}: {path!r} is a directory; give a file name")
        if ext not in allowed:
            common = [e for e in ("json", "html", "png", "pdf", "svg") if e in allowed]
            others = " or another format matplotlib writes" if opt == "plot" else ""
            raise UsageError(f"--{opt}: {path!r} should end in ." + ", .".join(common) + others)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise UsageError(f"--{opt}: the directory of {path!r} does not exist")
        if len(os.fsencode(os.path.basename(path))) > _name_max(directory):
            raise UsageError(f"--{opt}: the file name {os.path.basename(path)[:40]!r}... is longer than "
                             "this file system allows")
        if opt == "plot":
            try:
                plot.check_format(ext)
            except RuntimeError as e:
                raise UsageError(f"--plot: {e}") from None
        if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
            raise UsageError(f"--{opt}: {path!r} is not writable")


def _name_max(directory):
    """The longest file name, in bytes, that ``directory``'s file system takes."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no answer: the usual limit
        return 255


def _out(args):
    """Where the printed report goes: stderr when the JSON goes to stdout."""
    return sys.stderr if getattr(args, "json", None) == "-" else sys.stdout


def say(args, text=""):
    print(text, file=_out(args))


def write_json(args, data):
    """Write ``data`` to ``--json`` (stdout for ``-``), replacing any old file whole."""
    if args.json is None:
        return
    text = json.dumps(data, indent=1) + "\n"
    if args.json == "-":
        sys.stdout.write(text)
        return
    _write_text(args, "json", text)


def _write_text(args, opt, text):
    """Write ``text`` to the path of option ``--opt``, replacing any old file whole; errors name the path."""
    path = getattr(args, opt)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    try:
        replace_whole(path, write, suffix="." + opt)
    except OSError as e:
        raise OSError(f"--{opt}: cannot write {path!r}: {e.strerror or e}") from None
    say(args, f"wrote {path}")


#: The commands that write a page with --html (their ``run`` calls ``write_html``).
HTML_COMMANDS = ("lecture", "probe", "critical", "phase", "train", "remedies", "trainability")


def _html(p):
    p.add_argument("--html", metavar="PATH", help="also write a page to share to PATH (.html): the command, the "
                                                  "table, its legend and the figure, all in one file")


def write_html(args, document, draw=None, alt=None, no_figure=None):
    """Write the ``--html`` page, if asked: ``document`` (what the command printed) and the figure ``draw(path)``.

    ``alt`` describes the figure (default: its title); ``no_figure`` says why there is none.
    """
    if not getattr(args, "html", None):
        return
    if alt is None and draw is not None:
        alt = draw.keywords.get("title") or ""
    command = " ".join([PROG, shlex.join(args.argv)])
    title = f"{args.command}: {COMMANDS[args.command][2]}"
    _write_text(args, "html", html.page(title, command, document, draw, alt, no_figure))


def write_plot(args, draw, *what, **kw):
    """Draw the figure to ``--plot``, if given; errors name the user's path."""
    if not getattr(args, "plot", None):
        return
    try:
        draw(*what, args.plot, **kw)
    except OSError as e:
        raise OSError(f"--plot: cannot write {args.plot!r}: {e.strerror or e}") from None
    say(args, f"wrote {args.plot}")


def _progress(args):
    return not getattr(args, "quiet", False)


# ---------------------------------------------------------------------------
# the commands
# ---------------------------------------------------------------------------

def lecture(args):
    """Run the lecture's experiments on real tinynet networks, through hooks, and print its tables.

    The lecture (see docs/tutorial-numerical-stability.md) multiplies 100
    random 4x4 matrices at two scales, then measures the gradient of a
    50-layer MLP at initialization for 13 activations and weight scales.
    """
    tasks = experiments.lecture_tasks(args.dtype)
    with parallel.pool(args.jobs, len(tasks)) as executor:
        result = experiments.run_lecture(args.seed, args.dtype, executor, _progress(args))
    text = report.lecture_text(result)
    say(args, text)
    write_json(args, report.lecture_json(result))
    figure = functools.partial(plot.gradient_curves, result.experiments,
                               title="The lecture's 13 networks: the gradient's norm, layer by layer")
    write_plot(args, figure)
    write_html(args, text, figure)
    return 0


def lecture_options(p):
    _dtype(p)
    _jobs(p)
    _outputs(p)


def probe(args):
    """Probe freshly initialized MLPs (no training): mean |J| and the gradient's norm at every layer.

    A network whose weights would take more than 512 MB is probed one layer
    at a time, so memory stays O(depth x width) at any depth. --sizes
    builds an MLP of mixed widths instead (--final-linear: no activation
    after its last layer), predicted layer by layer; one too large to hold
    is refused. --model FILE probes a network saved with tinynet.save, as
    it is, beside the theory's prediction from its weights' scales.
    """
    if args.model is not None:
        return probe_model(args)
    missing = [f"--{name}" for name in ("activation", "init") if getattr(args, name) is None]
    if missing:
        raise UsageError(f"{PROG} probe: error: the following arguments are required: {', '.join(missing)} "
                         "(or --model FILE)")
    tn.activation(args.activation)  # fail early, with the list of known names
    init = tn.init.from_spec(args.init)
    if args.sizes is not None and (args.depth is not None or args.width is not None):
        raise UsageError(f"{PROG} probe: error: --sizes gives every layer's width; leave out --depth and --width")
    config = experiments.ProbeConfig(args.activation, init, depth=args.depth or 50, width=args.width or 100,
                                     repeats=args.repeats or 10, bias_std=args.bias_std,
                                     dtype=args.dtype or "float64", sizes=args.sizes, final_linear=args.final_linear)
    # seeded as run_tasks seeds a task, so the numbers are the lecture's for the lecture's configurations
    rng = np.random.default_rng(np.random.SeedSequence(args.seed).spawn(1)[0])
    result = experiments.synthetic_gradient(config, rng, progress=_progress(args))
    text = report.probe_text(result, config, init, args.seed, args.per_layer)
    say(args, text)
    write_json(args, {"seed": args.seed, "dtype": config.dtype, "experiments": [report.experiment_json(result)]})
    shape = (f"{config.depth} layers of {config.width}" if config.square
             else "MLP " + " -> ".join(map(str, config.layer_sizes)))
    figure = functools.partial(plot.gradient_curves, [result], title=f"{args.activation}, weights {init!r}, {shape}")
    write_plot(args, figure)
    write_html(args, text, figure,
               alt=f"The gradient's norm layer by layer, measured and predicted: {figure.keywords['title']}")
    return 0


def probe_model(args):
    """``probe --model FILE``: the saved network, probed once as it is, beside the theory's prediction."""
    given = [f"--{name.replace('_', '-')}" for name in ("activation", "init", "depth", "width", "sizes", "repeats",
                                                         "bias_std", "dtype")
             if getattr(args, name) is not None] + (["--final-linear"] if args.final_linear else [])
    if given:
        raise UsageError(f"{PROG} probe: error: --model gives the network; leave out {', '.join(given)}")
    try:
        net = experiments.load_model(args.model)
        result = experiments.probe_model(net)
    except ValueError as e:
        raise UsageError(f"{PROG} probe: error: --model: {e}") from None
    say(args, report.model_text(result, args.model, net, args.per_layer))
    write_json(args, {"model": args.model, "experiments": [report.experiment_json(result)]})
    write_plot(args, plot.gradient_curves, [result], title=f"{os.path.basename(args.model)}: {net.label()}, "
                                                            "as saved")
    return 0


def probe_options(p):
    _activation(p, required=False)
    _init(p, "normal:0.1, xavier_uniform, he_normal", required=False)
    p.add_argument("--model", metavar="FILE", help="probe a network saved with tinynet.save instead "
                                                   "(without --activation, --init and the network's shape)")
    _network(p, 10, "fresh networks averaged over", sizes=True)
    p.add_argument("--per-layer", action="store_true", help="also print the gradient's norm after every layer")
    _outputs(p)
    _dtype(p, default=None)


def matrices(args):
    """Multiply n random k x k matrices with N(0, scale^2) entries and print the product, for each scale.

    Product i draws from child i of SeedSequence(seed). Without --scale,
    the lecture's first experiment: 100 random 4x4 matrices at scales 0.5
    and 0.7.
    """
    tasks = [("matrices", (scale, args.k, args.n, args.dtype)) for scale in args.scale]
    products = experiments.run_tasks(tasks, args.seed, progress=False)  # a fraction of a second
    say(args, "\n\n".join(report.product_text(m, args.seed) for m in products))
    write_json(args, {"seed": args.seed, "matrices": [report.matrix_json(m) for m in products]})
    write_plot(args, plot.matrix_products, products,
               title=f"Products of {args.n} random {args.k}x{args.k} matrices")
    return 0


def matrices_options(p):
    default = list(experiments.MATRIX_SCALES)
    p.add_argument("--scale", type=_positive_float, default=default, nargs="+",
                   help="std of the entries; several give several products (default "
                        f"{' '.join(map(str, default))}, the lecture's two)")
    p.add_argument("-k", type=_positive_int, default=4, help="matrix size (default 4)")
    p.add_argument("-n", type=_positive_int, default=100, help="number of factors (default 100)")
    _dtype(p)
    _outputs(p, quiet=False)


def critical(args):
    """Which weight scale keeps this activation's gradients stable, and does the probe agree?

    Prints the mean-field critical sigma_w (the gradient's gain per layer
    chi_1 = 1: the mean gradient of an infinitely wide network is kept)
    and, for the given depth and width, the sigma_w at which a real
    network's typical gradient is kept; the weight std each means at that
    fan-in; the regime of the lecture's scales; then probes fresh networks
    at both scales and prints predicted against measured.
    """
    result = experiments.check_scales(args.activation, args.bias_std, args.width, args.depth, args.repeats,
                                      args.seed, progress=_progress(args), dtype=args.dtype)
    text = report.critical_text(result)
    say(args, text)
    write_json(args, report.critical_json(result, args.seed))
    figure = why = None
    if any(c.prediction is not None for c in result.candidates):
        figure = functools.partial(plot.critical_curves, result,
                                   title=f"{result.activation}: the gradient's norm at each candidate sigma_w, "
                                         f"{result.repeats} networks of {result.depth} layers of {result.fan_in}")
        write_plot(args, figure)
    else:
        why = "--depth 0 probes no network" if not result.depth else "there is no candidate sigma_w to probe"
        if args.plot:
            say(args, f"no figure written to {args.plot}: {why}, so there is nothing to draw")
    write_html(args, text, figure, no_figure=why)
    return 0


def critical_options(p):
    _activation(p)
    _bias(p)
    p.add_argument("--width", "--fan-in", type=_positive_int, default=100, metavar="K",
                   help="width of every layer, the fan-in, for the weight std and the probe (default 100)")
    p.add_argument("--depth", type=_nonnegative_int, default=50,
                   help="number of layers, for the finite-network answer and the probe; 0 skips both (default 50)")
    p.add_argument("--repeats", type=_positive_int, default=10, help="networks probed (default 10)")
    _dtype(p)
    _outputs(p)


def spectrum(args):
    """Measure the singular values of J for fresh MLPs and compare their spread with the theory.

    A network is well conditioned when all singular values are close: the
    spread (the std of their log10) is 0 for a perfect isometry. The
    prediction is the free-probability value of var/mean^2 of the
    eigenvalues of J J^T (Pennington, Schoenholz and Ganguli 2017).
    """
    init = tn.init.from_spec(args.init)
    tn.activation(args.activation)
    config = experiments.ProbeConfig(args.activation, init, depth=args.depth, width=args.width,
                                     repeats=args.repeats, bias_std=args.bias_std, dtype=args.dtype)
    result = experiments.measure_spectra(config, args.seed, progress=_progress(args))
    say(args, report.spectrum_text(result, init, args.seed))
    write_json(args, report.spectrum_json(result, args.seed))
    finite = [s for s in result.spectra if s is not None and s.resolved.any()]
    if finite:
        write_plot(args, plot.spectrum_histogram, finite, measured=result.log10_normalized_variance,
                   predicted=result.predicted_log10_normalized_variance,
                   title=f"Singular values of J: {args.activation}, {init!r}, depth {args.depth}")
    elif args.plot:
        say(args, f"no figure written to {args.plot}: no network has a singular value to draw")
    return 0


def spectrum_options(p):
    _activation(p)
    _init(p, "orthogonal")
    _network(p, 3, "networks measured")
    _outputs(p)
    _dtype(p)


#: The ranges ``phase`` accepts: beyond them the theory's fixed points take minutes to find.
PHASE_LIMITS = {"sigma_w2": (1e-3, 1e3), "sigma_b2": (0.0, 1e3), "points": (2, 201)}


def phase(args):
    """The order-to-chaos phase diagram of an activation, from mean-field theory (no network is drawn).

    For each weight and bias variance (sigma_w^2, sigma_b^2) on a grid:
    xi_c, the depth over which two inputs' correlation settles, and
    chi_1, the gradient's gain per layer; and, for each bias variance, the
    sigma_w^2 where chi_1 = 1, the line between order and chaos that
    critical initialization sits on. Prints that line and xi_c at a few
    points; --plot draws the whole plane. The grid's points are solved
    together, in a few seconds of CPU time for every built-in activation
    (a bar shows the progress). Where the variance grows without bound there is no xi_c:
    such points print "q unbounded".
    """
    tn.activation(args.activation)
    for name in ("sigma_w2", "sigma_b2"):
        (low, high), (least, most) = getattr(args, name), PHASE_LIMITS[name]
        if not least <= low < high <= most:
            raise UsageError(f"{PROG} phase: error: --{name.replace('_', '-')} expects LOW < HIGH, both from "
                             f"{least:g} to {most:g}, got {low:g} {high:g}")
    least, most = PHASE_LIMITS["points"]
    if not all(least <= n <= most for n in args.points):
        raise UsageError(f"{PROG} phase: error: --points expects two counts from {least} to {most}, "
                         f"got {args.points[0]} {args.points[1]}")
    diagram = theory.phase_diagram(args.activation, tuple(args.sigma_w2), tuple(args.sigma_b2),
                                   tuple(args.points), progress=_progress(args))
    text = report.phase_text(diagram)
    say(args, text)
    write_json(args, report.phase_json(diagram))
    figure = why = None
    if np.isfinite(diagram.xi_c).any():
        figure = functools.partial(theory.plot_phase_diagram, diagram)
        write_plot(args, figure)
    else:
        why = "xi_c is infinite, or undefined where the variance grows without bound, at every point of this range"
        if args.plot:
            say(args, f"no figure written to {args.plot}: {why}")
    write_html(args, text, figure, no_figure=why,
               alt=f"The phase diagram of {diagram.activation}: xi_c over sigma_w^2 and sigma_b^2, and the critical "
                   "line chi_1 = 1 between order and chaos")
    return 0


def phase_options(p):
    _activation(p)
    p.add_argument("--sigma-w2", type=_positive_float, nargs=2, default=(0.5, 4.0), metavar=("LOW", "HIGH"),
                   help="range of sigma_w^2 = fan-in x the weights' variance (default 0.5 4)")
    p.add_argument("--sigma-b2", type=_nonnegative_float, nargs=2, default=(0.0, 0.25), metavar=("LOW", "HIGH"),
                   help="range of sigma_b^2, the biases' variance (default 0 0.25)")
    p.add_argument("--points", type=_positive_int, nargs=2, default=(41, 26), metavar=("NW", "NB"),
                   help="grid points along sigma_w^2 and sigma_b^2 (default 41 26)")
    _outputs(p, seed=False)


def train(args):
    """Build an MLP, print the probe's verdict for it untrained, train it, print the accuracy.

    The network is HIDDEN_LAYERS layers of WIDTH units with the activation
    after each, and a linear output layer; it is trained with cross-entropy
    and SGD (momentum 0.9) or Adam. Watch whether a network the probe calls
    vanishing or exploding trains. With --clip-grad-norm MAX the gradient is
    clipped to norm MAX before every step, and the JSON and the figure show its
    norm before and after clipping.
    """
    init = tn.init.from_spec(args.init)
    tn.activation(args.activation)
    result = experiments.probe_before_training(args.activation, init, args.dataset, args.hidden_layers,
                                               args.width, args.seed, dtype=args.dtype)
    before = report.train_text_before(result, init, args)
    say(args, before)
    try:
        experiments.train(result, args.epochs, args.batch_size, args.optimizer, args.lr, progress=_progress(args),
                          clip_grad_norm=args.clip_grad_norm)
    except tn.NonFiniteLossError as e:
        raise FloatingPointError(_diverged(e, args)) from None
    if result.history.interrupted:
        return 130  # fit has said so, in one line
    say(args, report.train_text_after(result))
    write_json(args, report.train_json(result, args.seed))
    clipped = "" if args.clip_grad_norm is None else f", gradient clipped to norm {args.clip_grad_norm:g}"
    figure = functools.partial(result.monitor.plot, title=f"{args.activation}, weights {init!r}, {args.hidden_layers} "
                                                          f"hidden layers of {args.width}{clipped}",
                               chance_loss=float(np.log(result.n_classes)), clip_grad_norm=args.clip_grad_norm)
    write_plot(args, figure)
    write_html(args, display.train_document(before, result), figure)
    return 0


def _diverged(error, args):
    """What ``train`` says when the loss became nan or inf: where, and which options help."""
    clip = ("a smaller --clip-grad-norm than " + f"{args.clip_grad_norm:g}" if args.clip_grad_norm is not None
            else "--clip-grad-norm 1")
    extra = str(error).split("\n", 1)[1:]  # what the callbacks found (the TrainingMonitor's last record)
    return "\n".join([f"train: the loss became {error.loss} at epoch {error.epoch} of {args.epochs}, step "
                      f"{error.step} (optimizer step {error.global_step}); training stopped there. "
                      f"Try {clip}, a smaller --lr than {args.lr:g} or a better-scaled --init.", *extra])


def train_options(p):
    p.add_argument("--dataset", choices=sorted(experiments.DATASETS), default="spirals",
                   help="toy data set (default spirals)")
    p.add_argument("--hidden-layers", type=_positive_int, default=2, metavar="N",
                   help="number of hidden layers, each followed by the activation (default 2)")
    _old_spelling(p, "--depth", "hidden_layers", type=_positive_int)
    p.add_argument("--width", type=_positive_int, default=64, help="units per hidden layer (default 64)")
    _activation(p)
    _init(p, "he_normal")
    p.add_argument("--epochs", type=_positive_int, default=100, help="passes over the data (default 100)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="minibatch size (default 32)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                   help="SGD with momentum 0.9, or Adam (default sgd)")
    p.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--clip-grad-norm", type=_positive_float, default=None, metavar="MAX",
                   help="clip the gradient to norm MAX before each step (default: no clipping)")
    _dtype(p)
    _outputs(p)


def remedies(args):
    """The lecture's failing networks with each remedy: the gradient's change, measured and predicted.

    ReLU at weight std 0.1 (vanishing) and 0.4 (exploding) and the sigmoid
    at 0.1, each as it is and with the critical initialization, residual
    blocks (alpha 1 and 1/sqrt(depth)), LayerNorm and BatchNorm (one row
    per batch size). Each is probed on fresh networks and predicted by the
    theory of docs/remedies.md; BatchNorm networks are probed on a N(0, I)
    batch, the others on the lecture's ones.
    """
    configs = experiments.remedy_configs(args.blocks, args.width, args.repeats, args.dtype,
                                         tuple(dict.fromkeys(args.batch_size)))
    with parallel.pool(args.jobs, len(configs)) as executor:
        results = experiments.run_remedies(configs, args.seed, executor, _progress(args))
    text = report.remedies_text(results, args.seed)
    say(args, text)
    write_json(args, report.remedies_json(results, args.seed))
    figure = functools.partial(plot.remedy_curves, results,
                               title=f"The remedies: gradient norm through {args.blocks} blocks of {args.width}, "
                                     "measured and predicted")
    write_plot(args, figure)
    write_html(args, text, figure)
    return 0


def remedies_options(p):
    p.add_argument("--blocks", type=_positive_int, default=50, metavar="N",
                   help="number of blocks, each a Linear layer and what follows it (default 50)")
    _old_spelling(p, "--depth", "blocks", type=_positive_int)
    p.add_argument("--width", type=_int_at_least(4, "an integer >= 4"), default=100,
                   help="width of every block, at least 4 (default 100)")
    p.add_argument("--repeats", type=_positive_int, default=10, help="fresh networks per row (default 10)")
    p.add_argument("--batch-size", type=_int_at_least(2, "an integer >= 2"), nargs="+", default=[8, 64],
                   metavar="B", help="BatchNorm's batch sizes, one row each (default 8 64)")
    _dtype(p)
    _jobs(p)
    _outputs(p)


def trainability(args):
    """Train MLPs over a grid of weight variance and depth: does the theory's 6 xi_c say which train?

    Each cell trains --seeds networks (weights N(0, sigma_w^2 / fan-in),
    biases N(0, sigma_b^2)) on the spirals set with one recipe: Adam at a
    learning rate of 0.003 / depth, 200 steps of 30 points. It prints the
    training accuracy per cell, the theory's trainable depth (6 xi_c) per
    sigma_w^2 beside the measured one, and a verdict per column (within 3x:
    agrees). Without --sigma-w2, five variances from 0.55 to 2.2 times the
    critical one. More: docs/trainability.md.
    """
    act = tn.activation(args.activation)
    limits = TRAINABILITY_LIMITS
    (least, most), sigma_w2 = limits["sigma_w2"], args.sigma_w2
    if sigma_w2 is not None and not all(least <= s <= most for s in sigma_w2):
        raise UsageError(f"{PROG} trainability: error: --sigma-w2 expects values from {least:g} to {most:g}, "
                         f"got {' '.join(f'{s:g}' for s in sigma_w2)}")
    if args.sigma_b2 > limits["sigma_b2"]:
        raise UsageError(f"{PROG} trainability: error: --sigma-b2 expects a value from 0 to "
                         f"{limits['sigma_b2']:g}, got {args.sigma_b2:g}")
    for name, values in (("hidden-layers", args.hidden_layers), ("width", [args.width])):
        if max(values) > limits[name]:
            raise UsageError(f"{PROG} trainability: error: --{name} expects at most {limits[name]}, "
                             f"got {max(values)}")
    if sigma_w2 is None:
        try:
            sigma_w2 = experiments.default_sigma_w2(act, args.sigma_b2)
        except theory.NoCriticalPoint as e:
            raise UsageError(f"{PROG} trainability: error: {act.name} has no critical sigma_w^2 to place the "
                             f"default grid around ({e}); give --sigma-w2") from None
    n_tasks = len(sigma_w2) * len(args.hidden_layers) * args.seeds
    with parallel.pool(args.jobs, n_tasks) as executor:
        result = experiments.run_trainability(act.name, sigma_w2, args.hidden_layers, args.sigma_b2, args.width, args.seeds,
                                              seed=args.seed, dtype=args.dtype, executor=executor,
                                              progress=_progress(args))
    text = report.trainability_text(result)
    say(args, text)
    write_json(args, report.trainability_json(result))
    if getattr(args, "plot", None) or getattr(args, "html", None):
        dense = np.geomspace(min(sigma_w2) / 1.5, max(sigma_w2) * 1.5, 41)  # to the outer cells' edges
        figure = functools.partial(
            plot.trainability_heatmap, result,
            boundary=(dense, experiments.predicted_boundary(act, args.sigma_b2, dense)),
            title=f"Which {result.activation} networks train? {result.recipe.steps} Adam steps, "
                  rf"width {result.width}, $\sigma_b^2$ = {result.sigma_b2:g}")
        write_plot(args, figure)
        write_html(args, text, figure, alt=f"Training accuracy of {result.activation} networks by depth and "
                                            "sigma_w^2, with the theory's trainable depth 6 xi_c as a line")
    return 0


#: The ranges ``trainability`` accepts: a grid beyond them takes hours, or has no theory to compare.
TRAINABILITY_LIMITS = {"sigma_w2": (1e-2, 1e2), "sigma_b2": 10.0, "hidden-layers": 2000, "width": 2000}


def trainability_options(p):
    p.add_argument("--activation", default="tanh", metavar="NAME",
                   help="activation name (default tanh): " + ", ".join(tn.available_activations()))
    p.add_argument("--sigma-w2", type=_positive_float, nargs="+", default=None, metavar="S",
                   help="weight variances, fan-in x the weights' variance (default: 0.55, 0.75, 1, 1.4 and 2.2 "
                        "times the critical one)")
    p.add_argument("--sigma-b2", type=_nonnegative_float, default=0.05, metavar="S",
                   help="the biases' variance (default 0.05)")
    p.add_argument("--hidden-layers", type=_positive_int, nargs="+", default=list(experiments.TRAINABILITY_DEPTHS),
                   metavar="N", help="numbers of hidden layers, one row each (default "
                                     + " ".join(map(str, experiments.TRAINABILITY_DEPTHS)) + ")")
    _old_spelling(p, "--depths", "hidden_layers", type=_positive_int, nargs="+")
    p.add_argument("--width", type=_positive_int, default=100, help="units per hidden layer (default 100)")
    p.add_argument("--seeds", type=_positive_int, default=2, help="networks trained per cell (default 2)")
    _dtype(p)
    _jobs(p)
    _outputs(p)


#: name: (run, options, one-line help). The order is the order of --help.
COMMANDS = {
    "lecture": (lecture, lecture_options, "reproduce every experiment of the lecture"),
    "probe": (probe, probe_options, "probe the gradient of one MLP configuration"),
    "matrices": (matrices, matrices_options, "the product of random matrices (the lecture's first experiment)"),
    "critical": (critical, critical_options, "the initialization that keeps gradients stable, checked by the probe"),
    "phase": (phase, phase_options, "the order-to-chaos phase diagram of an activation (mean field)"),
    "spectrum": (spectrum, spectrum_options, "singular values of the input-output Jacobian (dynamical isometry)"),
    "train": (train, train_options, "probe an MLP at initialization, then train it on toy data"),
    "remedies": (remedies, remedies_options, "the failing networks with each remedy, measured and predicted"),
    "trainability": (trainability, trainability_options, "train MLPs over weight variance and depth, beside 6 xi_c"),
}


def build_parser():
    """The argparse parser of every command."""
    parser = _Parser(prog=PROG, description="Numerical-stability diagnostics for tinynet networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (run, options, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=inspect.cleandoc(run.__doc__),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        options(p)
        if name in HTML_COMMANDS:
            _html(p)
        p.set_defaults(run=run)
    return parser


#: What the reports' few non-ASCII characters become on a terminal that cannot show them.
ASCII = {"±": "+/-", "²": "^2", "√": "sqrt", "σ": "sigma", "≈": "~", "—": "--", "–": "-", "×": "x", "…": "...", "ᵀ": "T"}


def _ascii_fallback(error):
    return "".join(ASCII.get(c, "?") for c in error.object[error.start:error.end]), error.end


codecs.register_error("diagnostics-ascii", _ascii_fallback)


def _speak_what_the_terminal_can(*streams):
    """Let streams whose encoding lacks ``±`` (an ASCII-only terminal) write ``+/-`` instead of failing."""
    for stream in streams:
        try:
            "±".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="diagnostics-ascii")
        except AttributeError:  # a stream with no encoding (some test harnesses) takes text as it is
            pass


def main(argv=None):
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    _speak_what_the_terminal_can(sys.stdout, sys.stderr)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        check_outputs(args)
        args.argv = list(argv)  # the command, as the --html page shows it
        return args.run(args) or 0
    except UsageError as e:
        print(str(e).splitlines()[0] if str(e) else "bad usage", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as e:
        # bad values that got past argparse (an unknown activation, a bad init spec)
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OverflowError:
        print(f"{PROG}: error: a value is too large to compute with (a std or scale near 1e154 or more "
              "overflows when squared)", file=sys.stderr)
        return 2
    except FloatingPointError as e:
        # a result, not a usage error: training diverged (the message names where)
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG}: error: not enough memory for these sizes", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
