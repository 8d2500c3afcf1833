"""``python -m cragru_gui [--demo]`` and the ``cragru`` command."""

from __future__ import annotations

import sys


def main() -> int:
    from cragru_gui.app import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
