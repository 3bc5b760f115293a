"""A network's architecture as JSON, and the arrays that architecture implies.

Each layer type that ``save`` can describe and ``load`` can rebuild is one
entry of ``KINDS``: the class, the fields of its JSON object with a check for
each, the arrays it holds (``name -> (shape, dtype)``, worked out from the
fields alone), its children, and how to build it. From the JSON alone,
``load`` thus knows every array a file must hold before it builds anything,
and ``save`` checks a network against the same entry before it writes
anything, so what ``save`` writes, ``load`` reads.

Checks return a problem as text (or None); ``load`` words it as a damaged
file, ``save`` as a network it cannot write.
"""

import math

import numpy as np

from .activations import Activation, activation, available_activations
from .containers import MLP, Sequential
from .dropout import Dropout
from .linear import Linear
from .normalization import BatchNorm1d, LayerNorm
from .residual import Residual

FLOAT_DTYPES = tuple(np.dtype(d) for d in ("float16", "float32", "float64"))


class Kind:
    """How one layer type is described: see the module docstring."""

    def __init__(self, cls, fields, build, arrays=None, children=None, describe=None):
        self.cls = cls
        self.fields = fields  # field -> check(value) returning a problem or None
        self.build = build  # (description, built children, rng) -> layer
        self.arrays = arrays or (lambda d: {})
        self.children = children or (lambda d: [])  # description -> [(name, child description)]
        self.describe = describe  # layer -> description; default get_config() plus dtype


# ---- checks of one field ----------------------------------------------------
def _size(value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return f"should be a positive integer, got {value!r:.40}"
    return None


def _bool(value):
    return None if isinstance(value, bool) else f"should be true or false, got {value!r:.40}"


def _float_dtype(value):
    if value not in [d.name for d in FLOAT_DTYPES]:
        names = ", ".join(d.name for d in FLOAT_DTYPES)
        return f"should be one of {names}, got {value!r:.40}"
    return None


def _sizes(value):
    if not isinstance(value, list) or len(value) < 2:
        return f"should be a list of at least two widths, got {value!r:.40}"
    return next((f"entry {i} {p}" for i, p in enumerate(map(_size, value)) if p), None)


def _shape(value):
    if not isinstance(value, list) or not value:
        return f"should be a list of at least one size, got {value!r:.40}"
    return next((f"entry {i} {p}" for i, p in enumerate(map(_size, value)) if p), None)


def _number(value, low=-math.inf, high=math.inf, low_open=False):
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) \
        and (low < value if low_open else low <= value) and value <= high
    return None if ok else f"should be a number in {'(' if low_open else '['}{low}, {high}], got {value!r:.40}"


def _float_dtype_or_none(value):
    return None if value is None else _float_dtype(value)


def _layers(value):
    return None if isinstance(value, list) else f"should be a list of layers, got {value!r:.40}"


def _activation_or_none(value):
    return None if value is None else _activation_spec(value)


def _activation_spec(value):
    if not isinstance(value, dict) or set(value) != {"type", "name", "config"} \
            or value["type"] != "activation":
        return f"should be an activation's description, got {value!r:.80}"
    if not isinstance(value["config"], dict):
        return f"should have a config object, got {value['config']!r:.40}"
    try:
        activation(value["name"], **value["config"])
    except (TypeError, ValueError) as e:
        return str(e)
    return None


# ---- the kinds --------------------------------------------------------------
def _linear_arrays(d):
    dtype = np.dtype(d["dtype"])
    arrays = {"weight": ((d["out_features"], d["in_features"]), dtype)}
    if d["bias"]:
        arrays["bias"] = ((d["out_features"],), dtype)
    return arrays


def mlp_children(d):
    """The descriptions of the layers ``MLP`` builds from its description ``d``."""
    sizes, n = d["sizes"], len(d["sizes"]) - 1
    children = []
    for i in range(n):
        children.append({"type": "Linear", "in_features": sizes[i], "out_features": sizes[i + 1],
                         "bias": d["bias"], "dtype": d["dtype"]})
        if i < n - 1 or d["final_activation"]:
            children.append(d["activation"])
    return [(str(i), c) for i, c in enumerate(children)]


def _describe_mlp(mlp):
    first = mlp.layers[0]
    act = next((layer for layer in mlp.layers if isinstance(layer, Activation)), None)
    return {"sizes": list(mlp.sizes),
            "activation": None if act is None else describe_activation(act),
            "bias": first.bias is not None, "final_activation": mlp.final_activation,
            "dtype": first.dtype.name}


def _build_mlp(d, children, rng):
    # an MLP of one Linear and no final activation holds no activation to record
    act = activation("identity") if d["activation"] is None else children[1]
    return MLP(d["sizes"], act, bias=d["bias"], final_activation=d["final_activation"],
               rng=rng, dtype=d["dtype"])


def _describe_residual(res):
    return {"alpha": res.get_config()["alpha"], "learnable_alpha": res.learnable_alpha,
            "dtype": res.alpha.dtype.name if res.learnable_alpha else None,
            "block": describe(res.block)}


def _build_residual(d, children, rng):
    res = Residual(children[0], alpha=d["alpha"], learnable_alpha=d["learnable_alpha"])
    if res.learnable_alpha:
        res.alpha.data = res.alpha.data.astype(d["dtype"] or "float64")
    return res


def _affine_arrays(d, shape, weight, bias):
    dtype = np.dtype(d["dtype"])
    return {**({"weight": (shape, dtype)} if weight else {}), **({"bias": (shape, dtype)} if bias else {})}


def _batchnorm_arrays(d):
    dtype, shape = np.dtype(d["dtype"]), (d["num_features"],)
    arrays = _affine_arrays(d, shape, d["affine"], d["affine"])
    if d["track_running_stats"]:
        arrays.update(running_mean=(shape, dtype), running_var=(shape, dtype),
                      num_batches_tracked=((), np.dtype("int64")))
    return arrays


KINDS = {
    "Linear": Kind(
        Linear, {"in_features": _size, "out_features": _size, "bias": _bool, "dtype": _float_dtype},
        build=lambda d, children, rng: Linear(d["in_features"], d["out_features"], bias=d["bias"],
                                              rng=rng, dtype=d["dtype"]),
        arrays=_linear_arrays),
    "Sequential": Kind(
        Sequential, {"layers": _layers},
        build=lambda d, children, rng: Sequential(*children),
        children=lambda d: [(str(i), c) for i, c in enumerate(d["layers"])],
        describe=lambda seq: {"layers": None}),  # the children fill it in
    "MLP": Kind(
        MLP, {"sizes": _sizes, "activation": _activation_or_none, "bias": _bool,
              "final_activation": _bool, "dtype": _float_dtype},
        build=_build_mlp, children=mlp_children, describe=_describe_mlp),
    "Residual": Kind(
        Residual, {"alpha": _number, "learnable_alpha": _bool, "dtype": _float_dtype_or_none,
                   "block": lambda v: None},  # the block is checked as a child
        build=_build_residual, children=lambda d: [("block", d["block"])],
        arrays=lambda d: {"alpha": ((), np.dtype(d["dtype"] or "float64"))} if d["learnable_alpha"] else {},
        describe=_describe_residual),
    "LayerNorm": Kind(
        LayerNorm, {"normalized_shape": _shape, "eps": lambda v: _number(v, 0, low_open=True),
                    "elementwise_affine": _bool, "bias": _bool, "dtype": _float_dtype},
        build=lambda d, children, rng: LayerNorm(
            d["normalized_shape"], eps=d["eps"], elementwise_affine=d["elementwise_affine"],
            bias=d["bias"], dtype=d["dtype"]),
        arrays=lambda d: _affine_arrays(d, tuple(d["normalized_shape"]), d["elementwise_affine"],
                                        d["elementwise_affine"] and d["bias"])),
    "BatchNorm1d": Kind(
        BatchNorm1d, {"num_features": _size, "eps": lambda v: _number(v, 0, low_open=True),
                      "momentum": lambda v: None if v is None else _number(v, 0, 1),
                      "affine": _bool, "track_running_stats": _bool, "dtype": _float_dtype},
        build=lambda d, children, rng: BatchNorm1d(
            d["num_features"], eps=d["eps"], momentum=d["momentum"], affine=d["affine"],
            track_running_stats=d["track_running_stats"], dtype=d["dtype"]),
        arrays=_batchnorm_arrays),
    # a loaded Dropout draws its masks from a fresh generator: set its rng to repeat them
    "Dropout": Kind(
        Dropout, {"p": lambda v: _number(v, 0, 1)},
        build=lambda d, children, rng: Dropout(d["p"])),
    "activation": Kind(
        Activation, {"name": lambda v: None, "config": lambda v: None},  # checked as a whole
        build=lambda d, children, rng: activation(d["name"], **d["config"])),
}


# ---- reading a description (load) ---------------------------------------------
def check(spec, where=""):
    """The problem with the description ``spec``, or None; ``where`` is its ``named_modules`` name.

    Checks every field of every layer, recursively; builds nothing.
    """
    if not isinstance(spec, dict):
        return f"{_name(where)} should be a layer's description (a JSON object), got {spec!r:.80}"
    kind = KINDS.get(spec.get("type")) if isinstance(spec.get("type"), str) else None
    if kind is None:
        return (f"{_name(where)} has the unknown layer type {spec.get('type')!r:.40}; "
                f"this tinynet knows {', '.join(KINDS)}")
    who = f"{_name(where)} ({spec['type']})"
    unknown = [k for k in spec if k not in kind.fields and k != "type"]
    if unknown:
        return f"{who}: the entry {unknown[0]!r:.40} is not understood by this tinynet"
    missing = [k for k in kind.fields if k not in spec]
    if missing:
        return f"{who} has no entry {missing[0]!r}"
    if kind.cls is Activation:
        problem = _activation_spec(spec)
        return None if problem is None else f"{who}: {problem}"
    for field, check_field in kind.fields.items():
        problem = check_field(spec[field])
        if problem:
            return f"{who}: {field} {problem}"
    for name, child in kind.children(spec):
        problem = check(child, _join(where, name))
        if problem:
            return problem
    return None


def expected_arrays(spec, prefix=""):
    """``name -> (shape, dtype)`` of every array a checked description implies, in order."""
    kind = KINDS[spec["type"]]
    arrays = {_join(prefix, k): v for k, v in kind.arrays(spec).items()}
    for name, child in kind.children(spec):
        arrays.update(expected_arrays(child, _join(prefix, name)))
    return arrays


def build(spec, rng):
    """The layer a checked description describes, with freshly drawn arrays."""
    kind = KINDS[spec["type"]]
    children = [build(child, rng) for _, child in kind.children(spec)]
    return kind.build(spec, children, rng)


# ---- writing a description (save) ---------------------------------------------
def describe(layer, where=""):
    """The JSON-able description of ``layer``, or a TypeError naming the layer that has none."""
    kind = _kind_of(layer)
    if kind is None:
        raise TypeError(f"save: cannot save {_name(where)}, {layer!r}: tinynet can rebuild only "
                        f"{', '.join(k for k in KINDS if k != 'activation')} and registered "
                        "activations; save its weights with tinynet.save(net.state_dict(), path) "
                        "instead, and build the network in code before loading them")
    if kind.cls is Activation:
        return describe_activation(layer, where)
    # the children first, so that a layer that cannot be described is named where it sits
    children = [describe(c, _join(where, n)) for n, c in layer.named_children()]
    if kind.describe is not None:
        fields = kind.describe(layer)
    else:
        fields = dict(layer.get_config())
        if "dtype" in kind.fields:
            fields["dtype"] = layer.dtype.name
    spec = {"type": type(layer).__name__, **fields}
    if "layers" in spec:
        spec["layers"] = children
    elif [c for _, c in kind.children(spec)] != children:
        raise TypeError(f"save: cannot save {_name(where)}, {layer.label()}: its layers no longer "
                        "match its description; save Sequential(*layers) instead")
    return spec


def describe_activation(layer, where=""):
    """The description of a registered activation, or a TypeError saying why it has none."""
    name, config = layer.name, layer.get_config()
    try:
        rebuilt = activation(name, **config)
    except (TypeError, ValueError):
        rebuilt = None
    if rebuilt is None or type(rebuilt) is not type(layer) or rebuilt.get_config() != config:
        registered = ", ".join(available_activations())
        raise TypeError(
            f"save: cannot save {_name(where)}, {layer!r}: it is not a registered activation "
            f"(registered: {registered}); an Activation(fn, derivative) made on the spot cannot be "
            "rebuilt, so subclass Activation with a class attribute `name` instead, or save "
            "the network's state_dict()"
        )
    return {"type": "activation", "name": name, "config": config}


def _kind_of(layer):
    if isinstance(layer, Activation):
        return KINDS["activation"]
    kind = KINDS.get(type(layer).__name__)
    # a subclass may compute differently: only the class itself is rebuilt
    return kind if kind is not None and type(layer) is kind.cls else None


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _name(where):
    return f"layer {where!r}" if where else "the network"
