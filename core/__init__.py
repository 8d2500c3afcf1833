"""CRAGRU Studio engine: data, forget requests, recommenders, unlearning methods, evaluation.

Imports no Qt: the desktop app in ``cragru_gui`` is a thin layer over this package.
"""

import os as _os

# torch's OpenMP threads sleep while they wait instead of spinning on a core another program
# (or the window) needs (issue 23). It must be set before torch is imported: every entry point
# (cragru-run, the window, Ray workers, which unpickle core's functions) imports core first.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
