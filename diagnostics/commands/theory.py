"""Commands that ask the theory first: critical (which initialization), spectrum (how well conditioned)."""

import math

import numpy as np

import tinynet as tn

from .. import lecture as lec
from .. import theory
from ..cli import (
    _nonnegative_float, _nonnegative_int, _positive_int, add_activation, add_common, add_dtype, add_init, command, write_json,
)
from ..probes import gradient_probe
from ..spectrum import NonFiniteNetwork, jacobian_spectrum, largest_log10_normalized_variance
from ..table import Table


@command("critical", "the initialization that keeps gradients stable, checked by the probe")
def run_critical(args):
    """Which weight scale keeps this activation's gradients stable, and does the probe agree?

    Prints the mean-field critical sigma_w (chi_1 = 1: the mean gradient of
    an infinitely wide network is preserved) and, for the given depth and
    width, the sigma_w at which the typical gradient of a real network is
    preserved (a network of finite width loses a little every layer, which
    adds up over hundreds of layers); the weight std each means at that
    fan-in; the regime of the lecture's scales; then probes fresh networks
    at both scales and prints predicted against measured.
    """
    act = tn.activation(args.activation)
    sigma_b = args.bias_std or 0.0
    width = args.fan_in
    data = {"activation": act.name, "sigma_b": sigma_b, "fan_in": width, "depth": args.depth}
    candidates = []
    try:
        sigma_w = theory.critical_sigma_w(act, sigma_b)
        candidates.append(("mean-field critical", sigma_w))
        data["critical_sigma_w"] = sigma_w
    except theory.NoCriticalPoint as e:
        print(f"{act.name}: {e}")
    if args.depth:
        try:
            tuned = theory.stable_sigma_w(act, args.depth, width, sigma_b)
            candidates.append((f"stable at depth {args.depth}", tuned))
            data["stable_sigma_w"] = tuned
        except theory.NoCriticalPoint as e:
            print(f"{act.name}: {e}")
    for label, sw in candidates:
        print(f"{label + ':':<22} sigma_w = {sw:.6g} (sigma_w^2 = {sw ** 2:.6g}), weight std "
              f"{theory.weight_std(sw, width):.6g} at fan-in {width}; init spec {_spec(sw)}")
        if args.depth:
            low, high = (theory.typical_change(act, sw * f, args.depth, width, sigma_b) -
                         theory.typical_change(act, sw, args.depth, width, sigma_b) for f in (0.99, 1.01))
            print(f"  sensitivity: sigma_w 1% lower or higher moves the typical change over {args.depth} "
                  f"layers by {low:+.2f} / {high:+.2f} decades")
    print(f"\nThe lecture's scales (weights N(0, scale^2), so sigma_w = scale * sqrt({width})), "
          f"bias std {sigma_b:g}:")
    table = Table(["scale", "sigma_w", "chi_1", "regime", "depth scale"],
                  formats={"scale": "g", "sigma_w": ".4g", "chi_1": ".4g", "depth scale": ".3g"})
    data["lecture_scales"] = []
    for scale in lec.LECTURE_SCALES:
        r = theory.regime(act, theory.sigma_w_from_std(scale, width), sigma_b)
        row = {"scale": scale, "sigma_w": r.sigma_w, "chi_1": r.chi, "regime": r.name, "depth scale": r.depth_scale}
        table.append(row)
        data["lecture_scales"].append(row)
    print(table)
    print("chi_1: the gradient's gain per layer (squared norm) deep in the network; depth scale: the\n"
          "layers over which that changes the squared norm by a factor e")
    if candidates and args.depth:
        print(f"\nProbe: {args.repeats} fresh networks of {args.depth} layers of {width}, seed {args.seed}; "
              "decades by which the gradient norm changes from output to input")
        probe = Table(["sigma_w", "", "predicted (typical)", "measured median", "measured range", "verdict"],
                      formats={"sigma_w": ".6g", "predicted (typical)": "+.2f", "measured median": "+.2f"})
        data["probe"] = []
        for (label, sw), seed in zip(candidates, np.random.SeedSequence(args.seed).spawn(len(candidates))):
            changes = _measured_changes(act, sw, sigma_b, args.depth, width, args.repeats, seed)
            predicted = theory.typical_change(act, sw, args.depth, width, sigma_b)
            median = float(np.median(changes))
            row = {"sigma_w": sw, "": label, "predicted (typical)": predicted, "measured median": median,
                   "measured range": f"{min(changes):+.2f} .. {max(changes):+.2f}", "verdict": lec.verdict(median)}
            probe.append(row)
            data["probe"].append({**row, "measured": changes})
        print(probe)
    if args.json:
        write_json(args.json, lec._json_safe(data))
        print(f"wrote {args.json}")
    return 0


def _spec(sigma_w):
    return f"variance_scaling:{sigma_w ** 2:.10g},fan_in,untruncated_normal"


def _measured_changes(act, sigma_w, sigma_b, depth, width, repeats, seed):
    """Per network: decades by which the probe's gradient norm changes through the network."""
    config = lec.ProbeConfig(act.name, _spec(sigma_w), depth=depth, width=width, repeats=repeats,
                             bias_std=sigma_b or None)
    rng = np.random.default_rng(seed)
    changes = []
    for _ in range(repeats):
        result = gradient_probe(config.build(rng))
        changes.append(float(result.log10_grad_norm - result.log10_initial_norm) if result.finite else math.nan)
    return changes


def _critical_arguments(p):
    add_activation(p)
    p.add_argument("--bias-std", type=_nonnegative_float, default=None, metavar="S",
                   help="biases drawn from N(0, S^2) (default: no bias)")
    p.add_argument("--fan-in", type=_positive_int, default=100, metavar="K",
                   help="fan-in, the width of every layer, for the weight std and the probe (default 100)")
    p.add_argument("--depth", type=_nonnegative_int, default=50,
                   help="depth for the finite-network answer and the probe; 0 skips both (default 50)")
    p.add_argument("--repeats", type=_positive_int, default=10, help="networks probed (default 10)")
    add_common(p, plot=False, quiet=False)


run_critical.arguments = _critical_arguments


@command("spectrum", "singular values of the input-output Jacobian (dynamical isometry)")
def run_spectrum(args):
    """Measure the singular values of J for fresh MLPs and compare their spread with the theory.

    A network is well conditioned when all singular values are close: the
    spread (the std of their log10) is 0 for a perfect isometry. The
    prediction is the free-probability value of var/mean^2 of the
    eigenvalues of J J^T (Pennington, Schoenholz and Ganguli 2017); the
    measurement takes all of them, those below rounding counted as 0.
    """
    init = tn.init.from_spec(args.init)
    config = lec.ProbeConfig(args.activation, init.to_spec(), depth=args.depth, width=args.width,
                             repeats=args.repeats, bias_std=args.bias_std, dtype=args.dtype)
    rng = np.random.default_rng(args.seed)
    spectra, failures = [], []
    for i in range(args.repeats):
        try:
            spectra.append(jacobian_spectrum(config.build(rng)))
        except NonFiniteNetwork as e:
            # a network that overflows is a finding about it, not a bad option
            spectra.append(None)
            failures.append(f"network {i + 1}: the {e.where['pass']} pass became non-finite at layer "
                            f"{e.where['layer']} ({e.where['type']}), so J is not defined")
    table = Table(["network", "log10 max", "log10 median", "log10 min", "spread", "resolved"],
                  formats={"log10 max": ".3f", "log10 median": ".3f", "log10 min": ".3f", "spread": ".3f"})
    for i, s in enumerate(spectra):
        if s is None:
            table.append({"network": i + 1, "resolved": "non-finite"})
            continue
        resolved = s.log10_singular_values[s.resolved]
        table.append({"network": i + 1, "log10 max": s.log10_max if resolved.size else None,
                      "log10 median": s.log10_median, "log10 min": float(resolved[-1]) if resolved.size else None,
                      "spread": s.spread, "resolved": f"{int(s.resolved.sum())}/{len(s.resolved)}"})
    print(f"{args.depth}-layer MLP, width {args.width}, {args.activation}, weights {init!r}; "
          f"{args.repeats} networks, seed {args.seed}")
    print(table)
    for line in failures:
        print(line)
    finite = [s for s in spectra if s is not None]
    values = [s.log10_normalized_variance for s in finite]
    values = [v for v in values if not math.isnan(v)]  # nan: J is exactly zero
    measured = float(np.median(values)) if values else math.nan
    bound = largest_log10_normalized_variance(args.width)
    data = {"seed": args.seed, "activation": args.activation, "init": init.to_spec(), "depth": args.depth,
            "width": args.width,
            "log10_singular_values": [None if s is None else s.log10_singular_values.tolist() for s in spectra],
            "log10_normalized_variance": measured,
            "per_network_log10_normalized_variance": [
                None if s is None else s.log10_normalized_variance for s in spectra],
            "largest_log10_normalized_variance": bound}
    what = f"\nvar/mean^2 of the {args.width} eigenvalues of J J^T, log10"
    if not finite:
        measured_text = "not measured (no network stayed finite)"
    elif not values:
        measured_text = "not measured (J is exactly zero in every network: no signal reaches the output)"
    else:
        measured_text = f"measured {measured:.2f} (median over networks)"
    try:
        sigma_w = theory.sigma_w_from_init(init, fan_in=args.width)
        p = theory.jacobian_spectrum(args.activation, sigma_w, args.depth, sigma_b=args.bias_std or 0.0,
                                     weights=theory.weights_kind(init))
        predicted = math.log10(p.normalized_variance) if p.normalized_variance > 0 else -math.inf
        data["predicted_log10_normalized_variance"] = predicted
        print(f"{what}: {measured_text}, predicted {predicted:.2f}")
        if predicted > bound:
            print(f"the prediction (infinite width) exceeds log10({args.width} - 1) = {bound:.2f}, the largest "
                  f"var/mean^2 of {args.width} values >= 0\n(one non-zero, the rest 0): no network of width "
                  f"{args.width} can reach it")
    except (ValueError, TypeError, OverflowError) as e:
        print(f"{what}: {measured_text}; no prediction: {e}")
    print("spread: std of log10 singular values (0: perfect isometry); resolved: singular values an SVD\n"
          "can tell from rounding (within 15 decades of the largest in float64, 7 in float32); var/mean^2\n"
          "counts the unresolved eigenvalues as 0 (below 1e-30 of the largest, 1e-14 in float32)")
    if args.json:
        write_json(args.json, lec._json_safe(data))
        print(f"wrote {args.json}")
    if args.plot and finite:
        _plot_spectrum(finite, args.plot, f"{args.activation}, {init!r}, depth {args.depth}")
        print(f"wrote {args.plot}")
    return 0


def _plot_spectrum(spectra, path, title):
    from ..plot import require_matplotlib

    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(6, 4))
    values = np.concatenate([s.log10_singular_values[s.resolved] for s in spectra])
    ax.hist(values, bins=40)
    ax.set_xlabel("log10 singular value of J")
    ax.set_ylabel("count")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _spectrum_arguments(p):
    add_activation(p)
    add_init(p, "orthogonal")
    p.add_argument("--depth", type=_positive_int, default=50, help="number of layers (default 50)")
    p.add_argument("--width", type=_positive_int, default=100, help="width of every layer (default 100)")
    p.add_argument("--repeats", type=_positive_int, default=3, help="networks measured (default 3)")
    p.add_argument("--bias-std", type=_nonnegative_float, default=None, metavar="S",
                   help="biases drawn from N(0, S^2) (default: no bias)")
    add_common(p, quiet=False)
    add_dtype(p)


run_spectrum.arguments = _spectrum_arguments
