"""Optimizers: SGD and Adam, with PyTorch's update rules, step for step.

An optimizer holds a list of parameters; ``step()`` updates each
``p.data`` in place from ``p.grad`` and ``zero_grad()`` clears the
gradients. Parameters with ``requires_grad`` False are left alone.
"""

import math

import numpy as np

from .parameter import Parameter


class Optimizer:
    """Base class: keeps the parameters and per-parameter state; subclasses write ``_update``."""

    def __init__(self, params, lr):
        name = type(self).__name__
        if isinstance(params, Parameter):
            raise TypeError(f"{name}: params must be an iterable of Parameters (e.g. "
                            "net.parameters()), got a single Parameter")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Parameters (e.g. "
                            f"net.parameters()), got {type(params).__name__}") from None
        unique, seen = [], set()
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: params[{i}] is not a tinynet Parameter, "
                                f"got {type(p).__name__}")
            # a tied weight appears once per use; updating it twice per step would be wrong
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
        if not unique:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        self.params = unique
        self.lr = check_hyper(name, "learning rate", lr)
        self.state = [{} for _ in unique]  # per parameter, in the order of self.params

    def zero_grad(self):
        """Set the gradient of every parameter to zero."""
        for p in self.params:
            p.zero_grad()

    def step(self):
        """Update every parameter that requires a gradient, in place."""
        for p, state in zip(self.params, self.state):
            if p.requires_grad:
                self._update(p, state)

    def _update(self, p, state):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"

    def get_config(self):
        """The hyperparameters."""
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD``.

    Per parameter: ``g = grad + weight_decay * p``; with momentum the buffer
    starts as ``g`` and then becomes ``momentum * buf + (1 - dampening) * g``;
    the update is ``p -= lr * (g + momentum * buf)`` with ``nesterov``, else
    ``p -= lr * buf`` (``p -= lr * g`` without momentum).
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        name = type(self).__name__
        super().__init__(params, lr)
        self.momentum = check_hyper(name, "momentum value", momentum)
        self.dampening = check_hyper(name, "dampening value", dampening)
        self.weight_decay = check_hyper(name, "weight_decay value", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"{name}: Nesterov momentum requires a momentum and zero dampening, "
                             f"got momentum={momentum}, dampening={dampening}")

    def _update(self, p, state):
        g = p.grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p.data -= self.lr * g

    def get_config(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (L2 ``weight_decay``, not AdamW).

    Per parameter, at step t: ``g = grad + weight_decay * p``;
    ``m = beta1 * m + (1 - beta1) * g``; ``v = beta2 * v + (1 - beta2) * g**2``;
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``,
    with ``eps`` outside the square root.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        name = type(self).__name__
        super().__init__(params, lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}") from None
        for i, beta in enumerate((beta1, beta2)):
            beta = check_hyper(name, f"beta parameter at index {i}", beta)
            if not beta < 1:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta} "
                                 "(must be in [0, 1))")
        self.betas = (float(beta1), float(beta2))
        self.eps = check_hyper(name, "epsilon value", eps)
        self.weight_decay = check_hyper(name, "weight_decay value", weight_decay)

    def _update(self, p, state):
        beta1, beta2 = self.betas
        g = p.grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # in place, in the order PyTorch's single-tensor Adam uses, so results agree to rounding
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * g * g
        step_size = self.lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + self.eps
        p.data -= step_size * (m / denom)

    def get_config(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay}


def check_hyper(owner, what, value):
    """``value`` as a finite float >= 0, or an error worded like PyTorch's ("invalid learning rate")."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {what} must be a number, got {value!r}")
    number = float(value)
    if not (number >= 0 and math.isfinite(number)):
        raise ValueError(f"{owner}: invalid {what}: {value} (must be a finite number >= 0)")
    return number
