"""``python -m heradecode`` runs the command line."""

import sys

from heradecode.cli import main

sys.exit(main())
