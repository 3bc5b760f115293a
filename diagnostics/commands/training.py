"""The ``train`` command: probe a network, then train it, so the verdict can be checked."""

import math

import numpy as np

import tinynet as tn

from .. import lecture as lec
from ..cli import (
    _positive_float, _positive_int, add_activation, add_common, add_init, command,
)
from ..monitor import TrainingMonitor
from ..probes import gradient_probe

DATASETS = {"spirals": 3, "moons": 2, "xor": 2, "blobs": 3}


@command("train", "probe an MLP at initialization, then train it on toy data")
def run_train(args):
    """Build an MLP, print the probe's verdict for it untrained, train it, print the accuracy.

    The network is DEPTH hidden layers of WIDTH units with the activation
    after each, and a linear output layer; it is trained with cross-entropy
    and SGD (momentum 0.9) or Adam. Watch whether a network the probe calls
    vanishing or exploding trains.
    """
    act = tn.activation(args.activation)
    init = tn.init.from_spec(args.init)
    rng = np.random.default_rng(args.seed)
    x, y = getattr(tn.datasets, args.dataset)(rng=rng)
    sizes = [x.shape[1]] + [args.width] * args.depth + [DATASETS[args.dataset]]
    net = tn.MLP(sizes, act, weight_init=init, final_activation=False, rng=rng)

    probe = gradient_probe(net)
    print(f"{args.depth} hidden layers of {args.width}, {args.activation}, weights {init!r}; "
          f"{args.dataset} ({len(x)} points), seed {args.seed}")
    hidden = []
    if probe.finite:
        change = probe.log10_grad_norm - probe.log10_initial_norm
        print(f"untrained: gradient norm changes by {change:+.2f} decades from output to input: "
              f"{lec.verdict(change)}")
        # backward order: the output layer first, the input layer last; only the square
        # layers between them have the fan-in and the gain the theory's line is about
        hidden = [float(g) for g in probe.per_layer_gain_log10[1:args.depth]]
        if hidden:
            print(f"  per hidden {args.width} -> {args.width} layer: {np.mean(hidden):+.2f} decades "
                  f"(mean of {len(hidden)}; range {min(hidden):+.2f} .. {max(hidden):+.2f})")
    else:
        change = float("nan")
        where = probe.nonfinite
        print(f"untrained: the {where['pass']} pass became non-finite at layer {where['layer']} "
              f"({where['type']}): {lec.verdict(change)}")
    print(f"theory, for the hidden layers: {_predicted_regime(act, init, args.width)}")

    opt = (tn.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9) if args.optimizer == "sgd"
           else tn.optim.Adam(net.parameters(), lr=args.lr))
    monitor = TrainingMonitor(net, every=10)
    # a diverging run overflows on its way to nan; fit stops there and says where,
    # so numpy's warnings along the way would only repeat it less clearly
    with np.errstate(over="ignore", invalid="ignore"):
        history = tn.fit(net, tn.CrossEntropyLoss(), opt, x, y, epochs=args.epochs,
                         batch_size=args.batch_size, rng=rng, callbacks=[monitor], progress=not args.quiet)
    status = " (interrupted)" if history.interrupted else ""
    print(f"after {history.epochs} epochs{status}: loss {history['loss'][-1]:.4f}, "
          f"training accuracy {history['accuracy'][-1]:.3f}")
    if args.json:
        from ..cli import write_json

        write_json(args.json, lec._json_safe({"seed": args.seed, "verdict": lec.verdict(change),
                                              "decades": change, "decades_per_hidden_layer": hidden,
                                              "history": history.history, "monitor": monitor.history}))
        print(f"wrote {args.json}")
    if args.plot:
        monitor.plot(args.plot, title=f"{args.activation}, {init!r}, {args.depth} layers")
        print(f"wrote {args.plot}")
    return 0


def _predicted_regime(act, init, width):
    """The mean-field regime of the hidden layers (weights of fan-in ``width``) and its gain, or why not."""
    from .. import theory

    try:
        r = theory.regime(act, theory.sigma_w_from_init(init, fan_in=width))
    except (ValueError, TypeError, OverflowError) as e:
        return f"no prediction: {e}"  # e.g. an initializer with a non-zero mean
    gain = 0.5 * math.log10(r.chi) if r.chi > 0 else -math.inf
    return f"{r}\n  deep in the network, 0.5 log10 chi_1 = {gain:+.2f} decades per layer"


def _arguments(p):
    p.add_argument("--dataset", choices=sorted(DATASETS), default="spirals", help="toy data set (default spirals)")
    p.add_argument("--depth", type=_positive_int, default=2, help="number of hidden layers (default 2)")
    p.add_argument("--width", type=_positive_int, default=64, help="units per hidden layer (default 64)")
    add_activation(p)
    add_init(p, "he_normal")
    p.add_argument("--epochs", type=_positive_int, default=100, help="passes over the data (default 100)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="minibatch size (default 32)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                   help="SGD with momentum 0.9, or Adam (default sgd)")
    p.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (default 0.01)")
    add_common(p)


run_train.arguments = _arguments
