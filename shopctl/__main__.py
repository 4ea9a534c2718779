"""``python -m shopctl``: what ``./manage_all.sh`` runs."""

import sys

from shopctl.cli import main

sys.exit(main())
