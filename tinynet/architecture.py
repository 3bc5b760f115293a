"""A network's architecture as JSON, read from the layer classes themselves.

A layer kind is described once, on its class (see ``tinynet.layer``):
``get_config()`` and ``from_config(config)``, its constructor's arguments;
``state_spec(config)``, the arrays a layer of that configuration holds; and
``reset_parameters(rng)``, how it draws them. ``register_layer`` files the
class under a name, the built-ins as a user's own layer. A description is
``{"type": name, **get_config()}``; a container's configuration holds its
sub-layers' descriptions.

From a description alone, ``arrays`` lists every array a file must hold
(name, shape, dtype) before anything is built, and stops as soon as the
count passes what the file holds, so a header that declares a million layers
costs what the file weighs; ``build`` then calls the constructors, whose own
checks refuse a bad entry. Loading never imports or
runs code named in a file: a kind is found only if the program that loads
the file registered it.
"""

import contextvars
import functools
import inspect

import numpy as np

from .checks import nested_too_deep
from .layer import Layer

#: The dtypes a file holds: floating arrays, and int64 for counters (PyTorch's
#: ``num_batches_tracked``).
FLOAT_DTYPES = tuple(np.dtype(d) for d in ("float16", "float32", "float64"))
STATE_DTYPES = FLOAT_DTYPES + (np.dtype("int64"),)

_CLASSES = {}  # name -> class
# [most, counted] while an arrays(..., most=) walk runs: its sub-layers' calls count toward it
_BUDGET = contextvars.ContextVar("tinynet_arrays_budget", default=None)


class DescriptionError(ValueError):
    """A description that cannot be read or built; ``where`` is the layer's ``named_modules`` name."""

    def __init__(self, where, problem):
        super().__init__(f"{_name(where)} {problem}")
        self.where = where
        self.problem = problem


def register_layer(cls=None, *, name=None):
    """Register a ``Layer`` subclass under ``name`` (its class name by default), so that it is saved and loaded.

    A decorator, as Keras's ``register_keras_serializable``: ``@register_layer``
    or ``@register_layer(name="MyScale")``. Only the class itself is
    registered, not its subclasses. The same class defined again (a notebook
    cell run twice) replaces itself; another class under a taken name is a
    ValueError.
    """
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"register_layer: name must be a non-empty string, got {name!r:.40}")

    def register(cls):
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise TypeError(f"register_layer: expected a tinynet Layer subclass, got {cls!r:.60}")
        key = cls.__name__ if name is None else name
        old = _CLASSES.get(key)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"register_layer: the name {key!r} is taken by {old.__module__}."
                             f"{old.__qualname__}; register {cls.__qualname__} under another, "
                             "with @register_layer(name=...)")
        _CLASSES[key] = cls
        return cls
    return register if cls is None else register(cls)


def registered_layers():
    """``{name: class}`` of every registered layer kind, activations included."""
    return dict(_CLASSES)


# ---- writing a description (save) ---------------------------------------------
def describe(layer):
    """``{"type": name, **layer.get_config()}``, or a TypeError if ``layer``'s class is not registered."""
    name = _name_of(type(layer))
    if name is None:
        raise TypeError(f"{layer!r:.80} is of the unregistered class {type(layer).__qualname__}")
    try:
        return {"type": name, **layer.get_config()}
    except RecursionError:  # a container's get_config describes its sub-layers, and so on down
        raise nested_too_deep(type(layer).__name__) from None


def unregistered(net):
    """``(where, layer)`` of the first layer in ``net`` whose class is not registered, or None."""
    return next(((where, m) for where, m in net.named_modules() if _name_of(type(m)) is None), None)


def _name_of(cls):
    return next((name for name, registered in _CLASSES.items() if registered is cls), None)


# ---- reading a description (load) ---------------------------------------------
def arrays(description, where="", most=None):
    """``{name: (shape, dtype)}`` of every array ``description`` implies, named as ``named_parameters``.

    Asks each class's ``state_spec``; builds nothing, so a description that
    claims a huge network costs no memory. ``where`` prefixes the names; a
    container's ``state_spec`` calls it for each sub-layer's description.
    ``most``, the number of arrays a file holds, is a DescriptionError as soon
    as the count passes it, however many layers are still to come.
    """
    if most is not None:
        token = _BUDGET.set([most, 0])
        try:
            return arrays(description, where)
        finally:
            _BUDGET.reset(token)
    cls, config = _kind(description, where)
    budget = _BUDGET.get()
    before = budget[1] if budget else 0
    try:
        spec = cls.state_spec(config)
    except DescriptionError as e:
        raise DescriptionError(_join(where, e.where), e.problem) from None
    except RecursionError:
        raise DescriptionError(where, str(nested_too_deep(f"({description['type']})"))) from None
    except (TypeError, ValueError, KeyError, IndexError) as e:
        raise DescriptionError(where, f"({description['type']}): {_problem(e)}") from None
    if budget:  # the sub-layers' calls counted theirs; spec holds them and this layer's own
        budget[1] = before + len(spec)
        if budget[1] > budget[0]:
            raise DescriptionError(where, f"({description['type']}) brings the arrays the description "
                                          f"implies to {budget[1]}, more than the {budget[0]} the file holds")
    found = {}
    for name, (shape, dtype) in spec.items():
        dtype, shape = np.dtype(dtype), tuple(shape)
        if dtype not in STATE_DTYPES:
            raise DescriptionError(where, f"({description['type']}): its array {name!r} would be {dtype}; "
                                          f"a file holds {', '.join(d.name for d in STATE_DTYPES)}")
        found[_join(where, name)] = (shape, dtype)
    return found


def build(description, where=""):
    """The layer ``description`` describes, built by its class's ``from_config``, arrays freshly drawn."""
    cls, config = _kind(description, where)
    problem = _arguments_problem(cls, config)
    if problem:
        raise DescriptionError(where, f"({description['type']}): {problem}")
    try:
        return cls.from_config(config)
    except DescriptionError as e:
        raise DescriptionError(_join(where, e.where), e.problem) from None
    except (TypeError, ValueError, KeyError, IndexError) as e:
        raise DescriptionError(where, f"({description['type']}): {_problem(e)}") from None


def _kind(description, where):
    if not isinstance(description, dict):
        raise DescriptionError(where, f"should be a layer's description (a JSON object), got {description!r:.80}")
    name = description.get("type")
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise DescriptionError(where, f"has the layer type {name!r:.40}, which this program has not "
                                      f"registered (it knows {', '.join(sorted(_CLASSES))}); register the "
                                      "class with @tinynet.register_layer before loading")
    return cls, {k: v for k, v in description.items() if k != "type"}


def _arguments_problem(cls, config):
    """The entry of ``config`` that ``cls``'s constructor does not take, or a required one missing."""
    arguments = _arguments(cls)
    if arguments is None:
        return None  # such a class's from_config reads its entries itself
    names, required = arguments
    unknown = [k for k in config if k not in names]
    if unknown:
        return f"the entry {unknown[0]!r:.40} is not an argument of its constructor ({', '.join(names)})"
    missing = [name for name in required if name not in config]
    return f"has no entry {missing[0]!r}" if missing else None


@functools.lru_cache(maxsize=None)  # a file of 100,000 layers asked inspect 100,000 times
def _arguments(cls):
    """``(names, required names)`` of ``cls``'s constructor's arguments; None if it takes ``*args``/``**kwargs``."""
    params = inspect.signature(cls).parameters.values()
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return tuple(p.name for p in params), tuple(p.name for p in params if p.default is p.empty)


def _problem(error):
    return f"has no entry {error.args[0]!r:.40}" if isinstance(error, KeyError) else str(error)


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _name(where):
    if len(where) > 100:  # a nesting hundreds deep: its name's ends say enough
        where = f"{where[:45]}...{where[-45:]}"
    return f"layer {where!r}" if where else "the network"
