"""Unlearning methods. Importing this package registers every built-in method.

The list is explicit (no importlib strings): a new method adds one import line here.
"""

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
from core.methods import retrain, ids_only  # noqa: F401,E402
from core.methods import finetune, neggrad, reverse_bpr, sisa, receraser  # noqa: F401,E402
from core.methods import unlearnrec  # noqa: F401,E402
from core.methods import cragru  # noqa: F401,E402
from core.methods import dual_memory, e2urec  # noqa: F401,E402
