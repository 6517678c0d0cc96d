"""``python -m portal_archive.cli``: the ``portal-archive`` command without the console script."""

from __future__ import annotations

import sys

from portal_archive.cli import main

if __name__ == "__main__":
    sys.exit(main())
