"""Unlearning methods. Importing this package registers every built-in method.

The list is explicit (no importlib strings): a new method adds one import line here.
"""

from core.methods import (  # noqa: F401,E402  # noqa: F401,E402  # noqa: F401,E402
    controls,
    cragru,  # noqa: F401,E402
    dual_memory,
    e2urec,
    finetune,
    ids_only,
    neggrad,
    receraser,
    retrain,
    reverse_bpr,
    sisa,
    unlearnrec,  # noqa: F401,E402
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
