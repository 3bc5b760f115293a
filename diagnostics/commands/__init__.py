"""The commands of ``python -m diagnostics``; importing this package registers them."""

from . import probing, training  # noqa: F401
