"""Argument checks, fan computation and the ``Initializer`` base class."""

import functools
import math

import numpy as np

from ..checks import check_choice, check_number  # noqa: F401  (the initializers import them from here)

__all__ = ["Initializer", "compute_fans"]


def keyword_only(hint):
    """Decorate ``__init__`` so that positional arguments raise a TypeError ending in ``hint``.

    The text form of some initializers reads a lone number differently from
    the constructor's first parameter (``"normal:0.1"`` is a std, not a
    mean), so a positional call is far more likely a mistake than a choice.
    The wrapped signature stays keyword-only for ``help`` and ``inspect``.
    """
    def decorate(init):
        @functools.wraps(init)
        def wrapper(self, *args, **kwargs):
            if args:
                raise TypeError(f"{type(self).__name__}: {hint}")
            init(self, **kwargs)
        return wrapper
    return decorate


def check_shape(owner, shape):
    """``shape`` as a tuple of positive Python ints (an int means a 1-D shape)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{owner}: shape must be an int or a sequence of ints, got {shape!r}") from None
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims):
        raise TypeError(f"{owner}: shape must contain only ints, got {shape!r}")
    dims = tuple(int(d) for d in dims)
    if any(d <= 0 for d in dims):
        raise ValueError(f"{owner}: shape entries must be positive, got {dims}")
    return dims


def compute_fans(shape, owner="compute_fans"):
    """``(fan_in, fan_out)`` of a weight of ``shape``, laid out ``(out, in, *kernel)``.

    As in PyTorch, trailing (kernel) dimensions multiply both fans.
    """
    shape = check_shape(owner, shape)
    if len(shape) < 2:
        raise ValueError(
            f"{owner}: fan_in and fan_out need a shape with at least 2 dimensions, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def _check_generator(owner, rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{owner}: rng must be a numpy.random.Generator "
            f"(e.g. numpy.random.default_rng(seed)), got {_describe(rng)}")


class Initializer:
    """Base class: an initializer is called as ``init(shape, rng, dtype=np.float64)``.

    Subclasses set ``name`` (the ``from_spec`` name), store their validated
    constructor arguments in ``self._config`` and implement ``_sample``,
    ``variance`` and ``kurtosis``. ``_spec_params`` lists the constructor arguments in the
    order the text form ``name:ARG,ARG`` takes them.
    """

    name = ""
    _spec_params = ()
    #: True for initializers that draw (semi-)orthogonal matrices, whose entries are not independent
    orthogonal = False

    def __call__(self, shape, rng, dtype=np.float64):
        """Draw an array of ``shape`` from ``rng`` (a ``numpy.random.Generator``)."""
        owner = type(self).__name__
        shape = check_shape(owner, shape)
        _check_generator(owner, rng)
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{owner}: dtype must be a floating-point type, got {dtype}")
        # drawing in float64 keeps the stream, and so the weights, identical across dtypes
        values = np.asarray(self._sample(shape, rng), dtype=np.float64)
        return values.astype(dtype, copy=False)

    def fill_(self, array, rng):
        """Draw into ``array`` in place (as ``torch.nn.init``'s functions fill a tensor); returns it.

        The numbers are those ``self(array.shape, rng, array.dtype)`` returns.
        """
        owner = type(self).__name__
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            got = f"an array of dtype {array.dtype}" if isinstance(array, np.ndarray) else _describe(array)
            raise TypeError(f"{owner}.fill_: expected a floating-point numpy array, got {got}")
        if not array.flags.writeable:
            raise ValueError(f"{owner}.fill_: the array is read-only")
        values = np.asarray(self(array.shape, rng, dtype=array.dtype))
        # checked before it is copied in: an array of another shape might broadcast into this one
        if values.shape != array.shape:
            raise ValueError(f"{owner}: returned an array of shape {values.shape}, expected {array.shape}")
        array[...] = values
        return array

    def _sample(self, shape, rng):
        raise NotImplementedError

    def _fans(self, shape):
        if shape is None:
            raise TypeError(f"{type(self).__name__}: the variance depends on the weight shape; pass it")
        return compute_fans(shape, type(self).__name__)

    @property
    def mean(self):
        """Mean of every drawn entry."""
        return 0.0

    def variance(self, shape=None):
        """Variance of one drawn entry for a weight of ``shape``.

        ``shape`` may be omitted for initializers whose variance does not
        depend on it (Normal, Uniform, TruncatedNormal, Constant).
        """
        raise NotImplementedError

    def kurtosis(self, shape=None):
        """``E[(w - mean)**4] / variance**2`` of one drawn entry for a weight of ``shape`` (3 for a normal).

        ``shape`` may be omitted where the distribution does not depend on
        it, as for ``variance``. nan for a constant (variance 0).
        """
        raise NotImplementedError(f"{type(self).__name__} does not say its kurtosis")

    def std(self, shape=None):
        """Standard deviation of one drawn entry; see ``variance``."""
        return math.sqrt(self.variance(shape))

    def get_config(self):
        """The constructor arguments as a JSON-able dict."""
        return dict(self._config)

    def to_spec(self):
        """The ``from_spec`` text form that rebuilds an equal initializer."""
        values = [self._config[p] for p in self._spec_params]
        # leave out trailing arguments that the constructor would fill in the same way
        while values:
            try:
                shorter = type(self)(**dict(zip(self._spec_params, values[:-1])))
            except (TypeError, ValueError):  # the argument is required
                break
            if shorter != self:
                break
            values.pop()
        return format_spec(self.name, values)

    @classmethod
    def _from_spec_values(cls, values):
        if len(values) > len(cls._spec_params):
            params = ",".join(p.upper() for p in cls._spec_params)
            most = f"at most {len(cls._spec_params)} argument(s) ({params})" if params else ""
            raise ValueError(arity_message(cls.name, most, len(values)))
        return cls(**dict(zip(cls._spec_params, values)))

    def __eq__(self, other):
        return type(self) is type(other) and self._config == other._config

    def __hash__(self):
        return hash((type(self), tuple(sorted(self._config.items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


def format_spec(name, values):
    """``name`` or ``name:V1,V2`` with floats written so they parse back exactly."""
    if not values:
        return name
    return name + ":" + ",".join(repr(v) if isinstance(v, float) else str(v) for v in values)


def arity_message(name, forms, got):
    """Error text for a text form with the wrong number of arguments."""
    return f"{name} takes {forms or 'no arguments'}, got {got} argument(s)"
