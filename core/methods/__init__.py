"""Unlearning methods. Importing this package registers every built-in method.

The list is explicit (no importlib strings): a new method adds one import line here, or lives
outside the package as a plug-in (core/methods/plugins.py).
"""

from core.methods import (  # noqa: F401 - importing registers each method
    controls,
    cragru,
    dual_memory,
    e2urec,
    finetune,
    ids_only,
    neggrad,
    receraser,
    retrain,
    reverse_bpr,
    sisa,
    unlearnrec,
)
from core.methods.registry import (  # noqa: F401
    METHODS,
    MethodSpec,
    ParamSpec,
    UnlearnContext,
    UnlearnOutcome,
    get_method,
    list_methods,
    register,
)
