"""Building initializers from short text forms and from configs.

Grammar: ``NAME`` or ``NAME:ARG[,ARG...]``. Each class documents its own
arguments; numbers are anything ``float()`` accepts, other arguments are
words such as ``fan_out``.
"""

from .basic import Constant, Normal, Ones, Uniform, Zeros
from .orthogonal import Orthogonal
from .truncated import TruncatedNormal
from .variance_scaling import (
    HeNormal, HeUniform, LeCunNormal, LeCunUniform, VarianceScaling, XavierNormal, XavierUniform,
)

__all__ = ["from_spec", "from_config", "available_initializers"]

_CLASSES = {cls.name: cls for cls in (
    Normal, Uniform, TruncatedNormal, Constant, Zeros, Ones, XavierUniform, XavierNormal,
    HeNormal, HeUniform, LeCunNormal, LeCunUniform, Orthogonal, VarianceScaling)}
_ALIASES = {"glorot_uniform": "xavier_uniform", "glorot_normal": "xavier_normal",
            "kaiming_normal": "he_normal", "kaiming_uniform": "he_uniform"}


def available_initializers():
    """Every name ``from_spec`` and ``from_config`` accept, aliases included."""
    return sorted([*_CLASSES, *_ALIASES])


def _lookup(name, where):
    key = name.strip().lower() if isinstance(name, str) else name
    cls = _CLASSES.get(_ALIASES.get(key, key))
    if cls is None:
        raise ValueError(f"{where}: unknown initializer {name!r}; known: "
                         + ", ".join(available_initializers()))
    return cls


def _value(text):
    try:
        return float(text)
    except ValueError:
        return text


def from_spec(spec):
    """The initializer described by ``spec``, e.g. ``"normal:0.1"`` or ``"he_uniform"``.

    Accepted forms (brackets mark optional arguments):
    ``normal[:STD]``, ``normal:MEAN,STD``; ``uniform`` (U(0, 1)),
    ``uniform:BOUND`` (U(-BOUND, BOUND)), ``uniform:LOW,HIGH``;
    ``truncated_normal[:STD]``, ``truncated_normal:MEAN,STD`` (cut at
    MEAN -/+ 2 STD), ``truncated_normal:MEAN,STD,A,B``; ``constant:VALUE``;
    ``zeros``; ``ones``; ``xavier_uniform[:GAIN]``, ``xavier_normal[:GAIN]``;
    ``he_normal[:SLOPE[,MODE[,NONLINEARITY]]]``, ``he_uniform[...]`` (a
    non-zero SLOPE alone means leaky ReLU); ``lecun_normal``;
    ``lecun_uniform``; ``orthogonal[:GAIN]``;
    ``variance_scaling[:SCALE[,MODE[,DISTRIBUTION]]]``. Aliases:
    ``glorot_*`` for ``xavier_*``, ``kaiming_*`` for ``he_*``.
    ``init.to_spec()`` gives the form that rebuilds ``init``.
    """
    if not isinstance(spec, str):
        raise TypeError(f"from_spec: spec must be a string, got {spec!r}")
    name, colon, rest = spec.partition(":")
    cls = _lookup(name, f"from_spec({spec!r})")
    values = [_value(part.strip()) for part in rest.split(",")] if colon else []
    try:
        return cls._from_spec_values(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad initializer spec {spec!r}: {exc}") from exc


def get(identifier, owner="init.get"):
    """An initializer from an initializer object, a plain callable or a ``from_spec`` string.

    As Keras's ``initializers.get``: what layers accept as ``weight_init``.
    """
    if isinstance(identifier, str):
        return from_spec(identifier)
    if not callable(identifier):
        raise TypeError(f"{owner}: an initializer must be callable as init(shape, rng, dtype) "
                        f"or a spec string, got {identifier!r}")
    return identifier


def from_config(name, config):
    """Rebuild an initializer from its ``name`` and ``get_config()`` dict."""
    return _lookup(name, "from_config")(**config)
