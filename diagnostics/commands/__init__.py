"""The commands of ``python -m diagnostics``; importing this package registers them."""

from . import probing, theory, training  # noqa: F401
