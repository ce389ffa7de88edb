"""``python -m solver …``: the same command line as the ``xeploai`` console script."""

import sys

from solver.commands.cli import main

sys.exit(main())
