"""Adam and AdamW, as ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

import numpy as np

from ..checks import check_bool
from .optimizer import Optimizer, check_hyper, lerp_


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (L2 ``weight_decay``; see ``AdamW``).

    Per parameter, at its step t: ``g = grad`` (``-grad`` with
    ``maximize``) ``+ weight_decay * p``; ``m = beta1 m + (1 - beta1) g``;
    ``v = beta2 v + (1 - beta2) g**2``; with ``amsgrad``, ``v_max =
    max(v_max, v)`` replaces v below; ``p -= lr / (1 - beta1**t) * m /
    (sqrt(v) / sqrt(1 - beta2**t) + eps)``. t counts the steps this
    parameter was updated (a step it had no gradient does not count).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_group(self, group):
        name = type(self).__name__
        group["lr"] = check_hyper(name, "learning rate", group["lr"])
        try:
            beta1, beta2 = group["betas"]
        except (TypeError, ValueError):
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), "
                             f"got {group['betas']!r}") from None
        group["betas"] = tuple(check_hyper(name, f"beta parameter at index {i}", b, below_one=True)
                               for i, b in enumerate((beta1, beta2)))
        group["eps"] = check_hyper(name, "epsilon value", group["eps"])
        group["weight_decay"] = check_hyper(name, "weight_decay value", group["weight_decay"])
        group["amsgrad"] = check_bool(name, "amsgrad", group["amsgrad"])
        group["maximize"] = check_bool(name, "maximize", group["maximize"])

    def _update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t = float(state["step"])
        if weight_decay != 0:
            if self._decoupled:
                param *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # in place, in the order of PyTorch's single-tensor Adam, so the numbers agree to rounding
        lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        step_size = lr / (1 - beta1 ** t)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = np.sqrt(v) / (1 - beta2 ** t) ** 0.5 + group["eps"]
        param += (-step_size * m) / denom


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``: ``p *= 1 - lr * weight_decay``.

    The decay shrinks the weights directly before the Adam step instead of
    entering the gradient, so it is not rescaled by Adam's ``1 / sqrt(v)``.
    Default ``weight_decay=1e-2``, as PyTorch's.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
