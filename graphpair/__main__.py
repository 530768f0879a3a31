"""``python -m graphpair``: the command-line interface."""

import sys

from graphpair.cli import main

sys.exit(main())
