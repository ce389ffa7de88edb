"""``python -m solver …``: the same command line as the ``xeploai`` console script."""

import sys

from solver.cli import main

sys.exit(main())
