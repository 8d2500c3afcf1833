"""What a first ``cragru-run`` in a process imports lazily (about 2.5 s on an idle 2-core
machine, five times that on a loaded one: torch's compiler, Ray, SciPy's statistics, the
report writer), imported when a hostile-test module is collected.

Each hostile test has a timeout well under a minute to catch a hang; without this, the
first test of a run that happens to start the engine would also pay the imports, and on a
loaded machine its time would say more about the import order than about the test.
"""

from __future__ import annotations

import importlib

LAZY = (
    "core.experiment",
    "core.methods.registry",
    "core.references.evidence",
    "core.reporting.export",
    "core.receipt",
    "core.signing",
    "scipy.stats",
    "sklearn.decomposition",
    "torch._dynamo",
    "ray",
)


def engine() -> None:
    for name in LAZY:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part (Ray) missing here: its tests skip themselves
            pass
