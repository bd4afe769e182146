"""`python -m vidseek.cli ...`, the same as the `vidseek` script."""

import sys

from vidseek.cli import main

sys.exit(main())
