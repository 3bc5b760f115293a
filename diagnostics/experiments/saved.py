"""``probe --model``: a network saved with ``tinynet.save``, probed as it is, beside the theory's prediction."""

import numpy as np

import tinynet as tn

from .. import theory
from ..probes import gradient_probe
from .gradient import ConfigPrediction, ExperimentResult, verdict


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


#: Why a saved network gets no regime: its sigma_w is measured, and chi_1 = 1 is sharper than that measurement.
_NO_REGIME = ("no regime for a saved network: its sigma_w is estimated from the saved values, which cannot "
              "place it on either side of chi_1 = 1 as an initializer's exact scale does")


def _predict(net, measured_layers):
    """``(ConfigPrediction or None, note)`` for ``net`` as its weights describe it."""
    try:
        profile = theory.predict_network(described_by_its_weights(net))
    except (ValueError, TypeError, OverflowError) as e:
        return None, str(e)
    if len(profile.layers) != measured_layers:
        return None, (f"the theory predicts {net.label()} block by block, not at each layer the probe "
                      "measures: see theory.predict_network")
    return ConfigPrediction(profile, sigma_w=None, regime=None, chi_1=None, depth_scale=None,
                            regime_note=_NO_REGIME), None


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
