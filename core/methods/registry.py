"""The one registry of unlearning methods: the GUI builds forms and the CLI flags from it.

A method declares its parameters (:class:`ParamSpec`), an optional one-off ``prepare``
(timed apart: pre-training, sharded originals, item clusters...) and ``unlearn``, the
step whose wall time is the method's unlearning cost.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from core.curves import BASE_CURVES, CurveSpec
from core.data.dataset import Dataset
from core.errors import ConfigError
from core.evaluation.grouped import EvalSample, EvalTargets, sample_users
from core.events import Reporter
from core.forget_request import ResolvedRequest
from core.groups import Groups
from core.models.base import ModelConfig, Scorer
from core.params import PARAM_TYPES, ParamSpec  # noqa: F401 - re-exported for methods
from core.split import Split


@dataclass
class UnlearnContext:
    """Everything a method may read. ``train_model`` trains the experiment's base
    architecture with the experiment's hyper-parameters on any set of rows.

    ``targets`` are the evaluation's own ground truths and masks (a method may use them to
    pick users to sample, never as training data); ``retrain_valid_rows`` are the
    validation rows of every user who is not being forgotten: the only rows a method may
    stop early or tune on, so no choice depends on a forgotten user."""

    dataset: Dataset
    split: Split
    request: ResolvedRequest
    groups: Groups
    base_model: Scorer
    model_config: ModelConfig
    device: torch.device
    reporter: Reporter
    seed: int
    train_model: Callable[..., Scorer]
    targets: EvalTargets
    retrain_valid_rows: np.ndarray
    cache_dir: str | None = None
    use_cache: bool = True  # the run's "reuse cached models" switch (one-off preparation work)

    @property
    def retained_rows(self) -> np.ndarray:
        return self.request.retained_rows

    @property
    def removed_rows(self) -> np.ndarray:
        return self.request.removed_rows

    def eval_sample(self, per_group: int) -> EvalSample:
        """The seeded user sample a slow scorer is evaluated on (``per_group`` users of
        each group; ``<= 0``: everyone). Every method asking for the same size gets the
        same users, so sampled methods are compared on one sample."""
        return sample_users(self.targets, per_group, self.seed)


@dataclass
class UnlearnOutcome:
    """Everything a method hands back to the runner; nothing travels by attribute.

    ``eval_sample``: the users the model is measured on when it is too slow to rank
    everyone (the runner measures base and retrain on the same users beside it).
    ``late_extras``: figures known only after evaluation (which path produced each LLM
    list, users/s), merged into ``extras`` once the model has been measured."""

    model: Scorer
    extras: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    eval_sample: EvalSample | None = None
    late_extras: Callable[[], dict[str, float]] | None = None
    fold_in_model: Scorer | None = None
    """For a model with no item side of its own (an LLM re-ranking the base model's
    candidates): the model whose item side the fold-in attack uses; the results say so."""


PrepareFn = Callable[[UnlearnContext, dict], Any]
UnlearnFn = Callable[[UnlearnContext, dict, Any], UnlearnOutcome]


CAPABILITIES = {
    "exact": "the unlearned model is what retraining on the retained rows would give",
    "samples_users": "too slow to rank every user: measured on a seeded user sample",
    "needs_embeddings": "needs a base model with user/item embeddings (BPR, LightGCN)",
    "uses_llm": "runs a language model (slow on a CPU)",
    "sequential_requests": "a later request can be unlearned from this method's own model of the earlier ones "
    "(a request stream; without it every request starts again from the base model)",
    "control": "a control, not an unlearning method: its right answer is known (a second retraining must read "
    'as retraining, a do-nothing control must fail "forgotten?"); listed apart from the methods',
}
"""What a method may declare about itself; the views and the runner read these, never
``hasattr`` on the method's objects."""


@dataclass(frozen=True)
class MethodSpec:
    """A registered method. ``curves``: the values it reports while it runs (drawn by the
    window; retraining-like training reports :data:`~core.curves.BASE_CURVES`)."""

    name: str
    label: str
    description: str
    params: tuple[ParamSpec, ...]
    unlearn: UnlearnFn
    prepare: PrepareFn | None = None
    curves: tuple[CurveSpec, ...] = BASE_CURVES
    capabilities: frozenset[str] = frozenset()
    check: Callable[[dict], None] | None = None
    """Cross-field checks of the coerced parameters (a template, layer indices against the
    layer count): raise ``ValueError`` or ``ConfigError``; run by :meth:`validate`, so a bad
    combination is refused before any training."""

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def defaults(self, demo: bool = False) -> dict:
        return {p.name: p.default_for(demo) for p in self.params}

    def demo_changes(self) -> dict:
        """``name -> (standard, demo)`` for the parameters the demo preset sizes down."""
        return {p.name: (p.default, p.demo) for p in self.params if p.demo is not None and p.demo != p.default}

    def validate(self, values: dict | None, demo: bool = False) -> dict:
        """Defaults filled in (the demo preset's with ``demo``), unknown names refused, every
        value coerced and range-checked."""
        values = dict(values or {})
        known = {p.name for p in self.params}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"method {self.name!r} has no parameter {', '.join(map(repr, unknown))}"
                + (f"; it takes {', '.join(sorted(known))}" if known else "; it takes none")
            )
        try:
            checked = {p.name: p.coerce(values.get(p.name, p.default_for(demo))) for p in self.params}
        except ConfigError as exc:
            raise ConfigError(f"method {self.name!r}: {exc}") from None
        if self.check is not None:
            try:
                self.check(checked)
            except ValueError as exc:
                raise ConfigError(f"method {self.name!r}: {exc}") from None
        return checked


METHODS: dict[str, MethodSpec] = {}


def register(spec: MethodSpec) -> MethodSpec:
    if spec.name in METHODS:
        raise ValueError(f"method {spec.name!r} registered twice")
    for p in spec.params:
        if p.type not in PARAM_TYPES:
            raise ValueError(f"{spec.name}.{p.name}: unsupported parameter type {p.type}")
        p.coerce(p.default)  # a default outside its own range is a programming error
        if p.demo is not None:
            p.coerce(p.demo)
    unknown = set(spec.capabilities) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"{spec.name}: unknown capabilities {sorted(unknown)}")
    METHODS[spec.name] = spec
    return spec


def _load_all() -> None:
    """The built-in methods, then the plug-ins (installed entry points, CRAGRU_PLUGINS)."""
    import core.methods  # noqa: F401  (make sure built-ins are registered)
    from core.methods.plugins import load_installed_plugins

    load_installed_plugins()


def get_method(name: str) -> MethodSpec:
    _load_all()

    try:
        return METHODS[name]
    except KeyError:
        raise ConfigError(f"unknown method {name!r}; available: {', '.join(sorted(METHODS))}") from None


def list_methods() -> list[MethodSpec]:
    _load_all()

    return [METHODS[k] for k in sorted(METHODS, key=lambda n: (n != "retrain", METHODS[n].has("control"), n))]


def deferred(module: str) -> tuple[Callable[..., Any], Callable[..., UnlearnOutcome]]:
    """``(prepare, unlearn)`` that import ``module`` on first call and run its functions of
    those names: methods built on transformers/peft stay out of ``import core.methods``,
    which the GUI does at start-up."""

    def prepare(ctx: UnlearnContext, params: dict) -> Any:
        return importlib.import_module(module).prepare(ctx, params)

    def unlearn(ctx: UnlearnContext, params: dict, prepared: Any) -> UnlearnOutcome:
        return importlib.import_module(module).unlearn(ctx, params, prepared)

    return prepare, unlearn
