"""CRAGRU Studio engine: data, forget requests, recommenders, unlearning methods, evaluation.

Imports no Qt: the desktop app in ``cragru_gui`` is a thin layer over this package.
"""

__version__ = "0.1.0"
