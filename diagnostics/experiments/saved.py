"""``probe --model``: a network saved with ``tinynet.save``, probed as it is, beside the theory's prediction."""

import numpy as np

import tinynet as tn

from .. import theory
from ..probes import gradient_probe
from ..profile import GradientProfile
from .gradient import ConfigPrediction, ExperimentResult, config_prediction, verdict


def load_model(path):
    """The network ``tinynet.save`` wrote at ``path``; ValueError naming the path where there is none."""
    try:
        net = tn.load(path)
    except FileNotFoundError:
        raise ValueError(f"no such file: {path!r}") from None
    except IsADirectoryError:
        raise ValueError(f"{path!r} is a directory, not a saved network") from None
    # tn.ModelFileError (a ValueError) names the path and the problem already
    if not isinstance(net, tn.Layer):
        raise ValueError(f"{path!r} holds a state dict, not a network: save the network itself with "
                         "tinynet.save(net, path)")
    return net


def described_by_its_weights(net):
    """Set each Linear's initializers of ``net`` to N(0, s^2), s^2 the mean square of its saved values.

    A file keeps the values, not the initializers that drew them, and the
    theory reads initializers: so a saved network is predicted as if its
    weights were drawn at their own scale, which holds at initialization
    and is an approximation after training.
    """
    for _, m in net.named_modules():
        if isinstance(m, tn.Linear):
            m.weight_init = tn.init.Normal(std=float(np.sqrt(np.mean(np.square(m.weight.data, dtype=np.float64)))))
            if m.bias is not None:
                m.bias_init = tn.init.Normal(std=float(np.sqrt(np.mean(np.square(m.bias.data, dtype=np.float64)))))
    return net


def _predict(net, measured_layers):
    """``(ConfigPrediction or None, note)`` for ``net`` as its weights describe it."""
    try:
        p = theory.predict_network(described_by_its_weights(net))
    except (ValueError, TypeError, OverflowError) as e:
        return None, str(e)
    if isinstance(p, GradientProfile) and len(p.layers) == measured_layers:
        return _from_profile(p), None
    if not isinstance(p, theory.NetworkPrediction):
        return None, (f"the theory predicts {net.label()} block by block ({type(p).__name__}), not at each "
                      "layer the probe measures: see theory.predict_network")
    hidden = [i for i, a in enumerate(p.activations) if a != "identity"]
    names = {p.activations[i] for i in hidden}
    return config_prediction(p, hidden, names.pop() if len(names) == 1 else None), None


def _from_profile(p):
    """A ``ConfigPrediction`` of the per-layer curves of a ``GradientProfile`` (no regime, no mean|J|)."""
    none = [None] * len(p.layers)
    mean_field = p.mean_field_per_layer_grad_norm_log10

    def floats(values):
        return None if values is None else [float(v) for v in values]

    return ConfigPrediction(
        sigma_w=None, log10_mean_abs_grad=None, typical_log10_mean_abs_grad=None,
        per_layer_grad_norm_log10=none if mean_field is None else floats(mean_field),
        typical_per_layer_grad_norm_log10=floats(p.per_layer_grad_norm_log10), regime=None, chi_1=None,
        depth_scale=None, log10_grad_norm_sd=p.change_log10_sd,
        per_layer_grad_norm_log10_sd=floats(p.per_layer_grad_norm_log10_sd),
        regime_note="no single regime: the theory composed this network's layers one by one")


def probe_model(net):
    """Probe ``net`` once, with its weights as they are, beside the theory's prediction for them.

    An :class:`ExperimentResult` of one repeat; its ``activation`` names the
    network's activations, ``sizes`` its Linear layers' widths.
    """
    for _, m in net.named_modules():
        if isinstance(m, tn.BatchNorm1d):
            raise ValueError(f"{net.label()} holds {m.label()}, which normalizes over a batch, and probe --model "
                             "probes one input (in Python: diagnostics.probes.batch_gradient_probe)")
    r = gradient_probe(net)  # before the prediction, which replaces the Linear layers' initializers
    linears = [m for _, m in net.named_modules() if isinstance(m, tn.Linear)]
    activations = list(dict.fromkeys(m.name for _, m in net.named_modules() if isinstance(m, tn.Activation)))
    prediction, note = _predict(net, len(r.layers))
    sizes = tuple([linears[0].in_features] + [m.out_features for m in linears]) if linears else None
    common = dict(activation=", ".join(activations) or "none", init="as saved", scale=None, depth=len(r.layers),
                  width=max(sizes) if sizes else None, repeats=1, prediction=prediction, prediction_note=note,
                  sizes=sizes)
    if not r.finite:
        where = r.nonfinite
        return ExperimentResult(**common, log10_mean_abs_grad=None, per_layer_grad_norm_log10=[],
                                repeat_log10_mean_abs_grad=[], decades_per_layer=None, verdict="non-finite",
                                nonfinite=f"the {where['pass']} pass became non-finite at layer {where['layer']} "
                                          f"({where['type']})")
    change = float(r.per_layer_grad_norm_log10[-1] - r.log10_initial_norm)
    return ExperimentResult(**common, log10_mean_abs_grad=float(r.log10_mean_abs_grad),
                            per_layer_grad_norm_log10=[float(v) for v in r.per_layer_grad_norm_log10],
                            repeat_log10_mean_abs_grad=[float(r.log10_mean_abs_grad)],
                            decades_per_layer=change / len(r.layers), verdict=verdict(change))
