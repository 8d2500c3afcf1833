"""Unlearning methods. Importing this package registers every built-in method."""

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
from core.methods import retrain  # noqa: F401,E402  (registers itself)
