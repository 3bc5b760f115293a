"""Argument checks shared by tinynet's modules (and by diagnostics).

Each error names who was called and which argument was wrong, so every
constructor and function words a bad number or generator the same way.
"""

import math
import numbers

import numpy as np


def check_number(owner, name, value, *, positive=False, nonnegative=False):
    """``value`` as a finite float, or an error naming ``owner`` and ``name``."""
    # bool is an int subclass, but True as a std is always a mistake
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    if positive and number <= 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {value}")
    if nonnegative and number < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
    return number


def check_rng(rng, who, hint=""):
    """``rng``, or a fresh unseeded Generator for None; a TypeError naming ``who`` otherwise.

    ``hint`` follows the type's name in the message, e.g. how to make one.
    """
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who}: rng must be a numpy.random.Generator{hint}, got {type(rng).__name__}")
    return rng


def check_bool(owner, name, value):
    """``value`` if it is a bool (numpy's included), else a TypeError naming ``owner`` and ``name``.

    Strings are refused rather than read: ``bias="False"`` is truthy, and
    taking it as True would silently build the opposite of what was asked.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)
