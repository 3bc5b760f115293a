"""Argument checks shared by tinynet's modules (and by diagnostics).

Every validator takes ``(owner, name, value, *options)`` and returns the
value in its canonical form, or raises a TypeError (wrong kind) or
ValueError (right kind, bad value) whose message starts with ``owner`` and
names ``name``, so every constructor and function words a bad argument the
same way.
"""

import math
import numbers
import sys

import numpy as np


_LARGEST_SIZE = np.iinfo(np.intp).max  # numpy's limit on one dimension


def check_number(owner, name, value, *, positive=False, nonnegative=False):
    """``value`` as a finite float, or an error naming ``owner`` and ``name``."""
    # bool is an int subclass, but True as a std is always a mistake
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int past float's range (10**400)
        raise ValueError(f"{owner}: {name} must be finite, got an integer of {value.bit_length()} bits, "
                         "past float's range") from None
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    if positive and number <= 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {value}")
    if nonnegative and number < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
    return number


def check_size(owner, name, value):
    """``value`` as a positive Python int (bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value}")
    if value > _LARGEST_SIZE:
        raise ValueError(f"{owner}: {name} is too large for an array dimension, got {value}")
    return int(value)


def check_choice(owner, name, value, allowed):
    """``value`` if it is one of the strings ``allowed``, else a ValueError listing them."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{owner}: {name} must be one of {options}, got {value!r}")
    return value


def check_rng(owner, name, value):
    """``value`` if it is a ``numpy.random.Generator``; a fresh unseeded one for None."""
    if value is None:
        return np.random.default_rng()
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{owner}: {name} must be a numpy.random.Generator "
                        f"(e.g. numpy.random.default_rng(seed)), got {type(value).__name__}")
    return value


def check_bool(owner, name, value):
    """``value`` if it is a bool (numpy's included), else a TypeError naming ``owner`` and ``name``.

    Strings are refused rather than read: ``bias="False"`` is truthy, and
    taking it as True would silently build the opposite of what was asked.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def check_float_dtype(owner, name, value):
    """``value`` as a floating ``numpy.dtype`` (``np.float32``, ``"float64"``...), else a TypeError."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{owner}: {name} must be a floating dtype such as numpy.float64, "
                        f"got {value!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{owner}: {name} must be a floating dtype such as numpy.float64, got {dtype}")
    return dtype


def as_float_array(owner, name, value):
    """``value`` as a floating numpy array, or a TypeError naming ``owner`` and ``name``.

    ``owner`` is a name or a layer (whose ``label()`` is built only for the
    message: this runs on every forward and backward). Integers become
    float64; anything else non-numeric (strings, objects, complex, bool) is
    refused rather than silently misused.
    """
    if type(value) is not np.ndarray:
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{_name(owner)}: {name} must be a numeric array ({e})") from None
    kind = value.dtype.kind
    if kind == "f":
        return value
    if kind in "iu":
        return value.astype(np.float64)
    raise TypeError(f"{_name(owner)}: {name} must be a real numeric array, got dtype {value.dtype}")


def nested_too_deep(owner):
    """The ValueError for layers nested deeper than Python's recursion limit lets a walk through them go."""
    return ValueError(f"{owner}: layers nested deeper than Python's recursion limit ({sys.getrecursionlimit()} "
                      "calls) allows; flatten the nesting, or raise the limit with sys.setrecursionlimit")


def _name(owner):
    return owner if isinstance(owner, str) else owner.label()
