"""``python -m diagnostics``: see ``python -m diagnostics --help``."""

import sys

from .cli import main

sys.exit(main())
