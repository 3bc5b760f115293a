"""The optimizer base class: parameter groups, the step loop, ``zero_grad`` and ``state_dict``.

As in ``torch.optim``: an optimizer holds ``param_groups``, a list of
dicts each with its ``"params"`` and its own hyperparameters (``"lr"``,
...), filled in from ``defaults``; ``state`` maps each parameter to its
buffers. ``step()`` updates every parameter that has a gradient and skips
one whose ``grad`` is None (no gradient since the last ``zero_grad()``).

The arithmetic of a step runs in float32 or wider: a float16 parameter's
state is kept in float32 and its update computed there, then rounded into
the float16 weights, so that a squared gradient or an ``eps`` of 1e-8
cannot overflow or vanish in float16.
"""

import copy
import math
import numbers
import warnings

import numpy as np

from ..checks import check_bool
from ..parameter import Parameter


class Optimizer:
    """Base class: ``param_groups``, ``state``, ``step()``, ``zero_grad()``, ``state_dict()``.

    Subclasses give ``defaults`` and write ``_check_group(group)`` (validate
    a group's hyperparameters) and ``_update(param, grad, state, group)``.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.state = {}  # Parameter -> dict of buffers, made at its first update
        self.param_groups = []
        if isinstance(params, Parameter):
            raise TypeError(f"{name}: params must be an iterable of Parameters (e.g. "
                            "net.parameters()) or of dicts, got a single Parameter")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Parameters (e.g. "
                            f"net.parameters()) or of dicts, got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with ``"params"`` and any hyperparameters that differ from ``defaults``."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry, "
                            f"got {group!r}")
        params = group["params"]
        if isinstance(params, Parameter):
            params = [params]
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: a group's 'params' must be an iterable of Parameters, "
                            f"got {type(params).__name__}") from None
        named = [isinstance(p, tuple) for p in params]
        if any(named) and not all(named):
            raise ValueError(f"{name}: give every parameter with a name, as (name, Parameter) pairs "
                             "(named_parameters()), or none")
        if self.param_groups and any(named) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: all parameter groups must be given with names, or all without")
        names = []
        if any(named):
            for i, pair in enumerate(params):
                if len(pair) != 2 or not isinstance(pair[0], str):
                    raise TypeError(f"{name}: params[{i}] must be a (name, Parameter) pair, got {pair!r}")
            names, params = [k for k, _ in params], [p for _, p in params]
        unique, unique_names, seen = [], [], set()
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: params[{i}] is not a tinynet Parameter, "
                                f"got {type(p).__name__}")
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
                unique_names += names[i:i + 1]
        if len(unique) < len(params):
            # PyTorch warns alike but keeps both, stepping the parameter twice; a tied weight
            # appears once per use, and updating it twice per step would be wrong
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each is "
                          "updated once per step", UserWarning, stacklevel=3)
        if not unique:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if any(id(p) in seen for g in self.param_groups for p in g["params"]):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        if names:
            group = {**group, "param_names": unique_names}
        group = {**self.defaults, **group, "params": unique}
        self._check_group(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: to None (the default, as PyTorch 2), or to zeros."""
        set_to_none = check_bool(f"{type(self).__name__}.zero_grad", "set_to_none", set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient, in place; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad  # set by hand, it counts even without requires_grad, as in PyTorch
                if grad is None:
                    continue
                work = working_dtype(p.dtype)
                param = p.data if p.dtype == work else p.data.astype(work)
                state = self.state.get(p, {})
                self._update(param, grad.astype(work, copy=False), state, group)
                if state:  # an optimizer without buffers (plain SGD) keeps no state, as PyTorch's
                    self.state[p] = state
                if param is not p.data:
                    p.data[...] = param  # round the float32 result into the float16 weights
        return loss

    def _check_group(self, group):
        raise NotImplementedError

    def _update(self, param, grad, state, group):
        """Update ``param`` in place; ``grad`` may be the parameter's own array: never write it."""
        raise NotImplementedError

    def state_dict(self):
        """``{"state": {index: buffers}, "param_groups": [...]}`` with parameters as indices, copied.

        PyTorch's layout: parameters are numbered in the order of the groups,
        so the dict fits a new optimizer built the same way.
        """
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: copy.deepcopy(v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take over the state and hyperparameters of ``state_dict()``; resuming continues exactly."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups', as state_dict() returns")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        by_index, groups = {}, []
        for i, (group, old) in enumerate(zip(self.param_groups, saved)):
            if not isinstance(old, dict) or not isinstance(old.get("params"), list):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} should be a dict with "
                                 f"a list of parameter indices, got {old!r:.80}")
            if len(group["params"]) != len(old["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                    f"parameters, the loaded one {len(old['params'])}")
            by_index.update(zip(old["params"], group["params"]))
            # an option the saved dict predates takes its default, as PyTorch fills it in; every
            # value is checked as the constructor checks it, before anything changes
            loaded = {**self.defaults, **{k: v for k, v in group.items() if k == "param_names"},
                      **{k: copy.deepcopy(v) for k, v in old.items()}, "params": group["params"]}
            self._check_group(loaded)
            groups.append(loaded)
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}.load_state_dict: 'state' should be a dict, got {state_dict['state']!r:.80}")
        state = {}
        for key, buffers in state_dict["state"].items():
            p = by_index.get(key) if isinstance(key, int) and not isinstance(key, bool) else None
            if p is None or not isinstance(buffers, dict):
                raise ValueError(f"{name}.load_state_dict: state for parameter {key!r:.40}, "
                                 "which no group holds, or not a dict of buffers")
            state[p] = {}
            for k, v in buffers.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {key} "
                                         f"has shape {v.shape}, the parameter {p.shape}")
                    if v.dtype.kind != "f" or not np.all(np.isfinite(v)):
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {key} "
                                         "should hold finite floats")
                    if k in _SQUARES and np.any(v < 0):
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {key} "
                                         "is a mean of squares and cannot be negative")
                    v = v.astype(working_dtype(p.dtype))  # a copy
                elif k == "step" and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
                    raise ValueError(f"{name}.load_state_dict: state 'step' of parameter {key} should "
                                     f"be a count >= 0, got {v!r:.40}")
                state[p][k] = copy.deepcopy(v)
        self.state = state
        self.param_groups = groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}: {len(group['params'])} parameters")
            lines += [f"    {k}: {v!r}" for k, v in group.items() if k != "params"]
        return "\n".join(lines + [")"])


#: State buffers that hold means of squares: never negative.
_SQUARES = ("exp_avg_sq", "max_exp_avg_sq", "square_avg")


def working_dtype(dtype):
    """The dtype a step computes in: the parameter's own, but at least float32."""
    return np.promote_types(dtype, np.float32)


def lerp_(start, end, weight):
    """``start += weight * (end - start)`` in place, rounded as ``torch.lerp`` rounds it."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)
    return start


def as_scalar(value):
    """A 0-d array as its Python number (PyTorch takes a 0-d tensor wherever a number goes); else ``value``."""
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def check_hyper(owner, what, value, below_one=False):
    """``value`` (a number or 0-d array) as a finite float >= 0 (< 1 if asked), worded like PyTorch's."""
    value = as_scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {what} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int past float's range
        number = math.inf
    if not (number >= 0 and math.isfinite(number)):
        raise ValueError(f"{owner}: invalid {what}: {value} (must be a finite number >= 0)")
    if below_one and not number < 1:
        raise ValueError(f"{owner}: invalid {what}: {value} (must be in [0, 1))")
    return number
