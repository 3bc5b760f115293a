"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``."""

from ..checks import check_bool
from .optimizer import Optimizer, check_hyper


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD``.

    Per parameter: ``g = grad`` (``-grad`` with ``maximize``), plus
    ``weight_decay * p``; with momentum the buffer starts as ``g`` and then
    becomes ``momentum * buf + (1 - dampening) * g``; the update is
    ``p -= lr * (g + momentum * buf)`` with ``nesterov``, else
    ``p -= lr * buf`` (``p -= lr * g`` without momentum).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group):
        name = type(self).__name__
        group["lr"] = check_hyper(name, "learning rate", group["lr"])
        group["momentum"] = check_hyper(name, "momentum value", group["momentum"])
        group["dampening"] = check_hyper(name, "dampening value", group["dampening"])
        group["weight_decay"] = check_hyper(name, "weight_decay value", group["weight_decay"])
        group["nesterov"] = check_bool(name, "nesterov", group["nesterov"])
        group["maximize"] = check_bool(name, "maximize", group["maximize"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{name}: Nesterov momentum requires a momentum and zero dampening, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, param, grad, state, group):
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * g
