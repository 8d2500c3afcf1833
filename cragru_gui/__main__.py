"""``python -m cragru_gui [--demo]`` and the ``cragru`` command."""

from __future__ import annotations

import os
import sys

# before any import of torch: its OpenMP threads sleep rather than spin while waiting (issue 23)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> int:
    from cragru_gui.app import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
