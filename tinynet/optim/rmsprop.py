"""RMSprop, as ``torch.optim.RMSprop``."""

import numpy as np

from ..checks import check_bool
from .optimizer import Optimizer, check_hyper, lerp_


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (eps added outside the square root).

    Per parameter: ``g = grad`` (``-grad`` with ``maximize``) ``+
    weight_decay * p``; ``v = alpha v + (1 - alpha) g**2``; with
    ``centered``, ``a = alpha a + (1 - alpha) g`` and ``v - a**2`` replaces
    v below; ``d = sqrt(v) + eps``; with momentum ``buf = momentum buf + g /
    d`` and ``p -= lr * buf``, else ``p -= lr * g / d``.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group):
        name = type(self).__name__
        group["lr"] = check_hyper(name, "learning rate", group["lr"])
        group["alpha"] = check_hyper(name, "alpha value", group["alpha"])
        group["eps"] = check_hyper(name, "epsilon value", group["eps"])
        group["weight_decay"] = check_hyper(name, "weight_decay value", group["weight_decay"])
        group["momentum"] = check_hyper(name, "momentum value", group["momentum"])
        group["centered"] = check_bool(name, "centered", group["centered"])
        group["maximize"] = check_bool(name, "maximize", group["maximize"])

    def _update(self, param, grad, state, group):
        alpha = group["alpha"]
        g = -grad if group["maximize"] else grad
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = lerp_(state["grad_avg"], g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            param -= group["lr"] * buf
        else:
            param += (-group["lr"] * g) / avg
