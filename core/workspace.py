"""What the window is set up to run: the dataset, the split, the resolved request, the groups.

A :class:`Workspace` holds them, recomputes them through :func:`core.experiment.load_data` and
:func:`core.experiment.prepare_data` (the run's own code) whenever the dataset, the split settings or
the request change, and tells its listeners. It imports no Qt: the slow steps go through a
*task starter* given to it (the window passes its background task runner; scripts and
tests use :class:`RunNow`). Panels observe the workspace and never read each other.

A result that arrives after a newer change is dropped (each computation carries the
version it was started for), so listeners only ever see the latest settings' state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

import numpy as np

from core.config import DataConfig, ExperimentConfig
from core.data.dataset import Dataset
from core.errors import CragruError
from core.forget_request import ForgetRequest, ResolvedRequest
from core.split import SplitConfig


class TaskStarter(Protocol):
    """Runs ``fn(task)`` (``task.should_stop()`` tells it to give up), then ``on_done(value)``
    or ``on_error(exc)`` on the caller's thread. Starting a task of a kind supersedes the
    running one of that kind."""

    def start(
        self,
        kind: str,
        fn: Callable[[Any], Any],
        *,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> Any: ...


class _NeverStop:
    @staticmethod
    def should_stop() -> bool:
        return False


class RunNow:
    """A task starter that runs each task at once on the calling thread (scripts, tests)."""

    def start(self, kind: str, fn, *, on_done, on_error) -> None:
        try:
            value = fn(_NeverStop())
        except Exception as exc:  # noqa: BLE001 - handed to on_error, like a background task
            on_error(exc)
        else:
            on_done(value)


@dataclass(frozen=True)
class WorkspaceState:
    """One consistent snapshot. ``prepared`` (split, resolved request, groups) belongs to
    ``dataset``/``split_config``/``request``; it is None while being computed (``busy``),
    when there is no request, or when the request is invalid (``error`` says why)."""

    dataset: Dataset | None = None
    data_config: DataConfig | None = None
    split_config: SplitConfig = field(default_factory=SplitConfig)
    request: ForgetRequest | None = None
    prepared: Any = None  # core.experiment.Prepared
    error: str | None = None
    loading: DataConfig | None = None
    busy: bool = False

    @property
    def split(self):
        return self.prepared.split if self.prepared is not None else None

    @property
    def resolved(self) -> ResolvedRequest | None:
        return self.prepared.request if self.prepared is not None else None

    @property
    def groups(self):
        return self.prepared.groups if self.prepared is not None else None

    @property
    def ready(self) -> bool:
        """A run can start from these settings: a valid request, resolved for the current ones."""
        return self.prepared is not None and not self.busy


@dataclass(frozen=True)
class Change:
    """What changed: ``loading``, ``dataset``, ``load_failed`` (``exc`` set), ``preparing``
    or ``prepared`` (the request resolved or refused); ``state`` is the new snapshot."""

    what: str
    state: WorkspaceState
    exc: BaseException | None = None


Listener = Callable[[Change], None]


def load_dataset(data: DataConfig) -> Dataset:
    """The run's own loading step, for a data configuration alone."""
    from core.experiment import load_data

    return load_data(ExperimentConfig(data=data))


def removed_items_by_user(dataset: Dataset, resolved: ResolvedRequest | None) -> dict[int, np.ndarray]:
    """user index → item indices of that user's removed training rows (what the inspector marks)."""
    if resolved is None:
        return {}
    rows = resolved.removed_rows
    users, items = dataset.users[rows], dataset.items[rows]
    order = np.argsort(users, kind="stable")
    users, items = users[order], items[order]
    keys, starts = np.unique(users, return_index=True)
    return {int(u): part for u, part in zip(keys, np.split(items, starts[1:]))}


def removed_for_config(dataset: Dataset, config: ExperimentConfig) -> dict[int, np.ndarray]:
    """The removed items per user of a (stored) run's configuration, on ``dataset``."""
    from core.experiment import prepare_data

    return removed_items_by_user(dataset, prepare_data(config, dataset).request)


class Workspace:
    """The loaded dataset and what the current split and request make of it."""

    def __init__(self, tasks: TaskStarter | None = None, similar_top_n: int = 10) -> None:
        self._tasks = tasks or RunNow()
        self._similar_top_n = similar_top_n
        self._state = WorkspaceState()
        self._listeners: list[Listener] = []
        self._load_version = 0
        self._version = 0
        self._hint: str | None = None
        self._queue: list[Change] = []
        self._notifying = False

    @property
    def state(self) -> WorkspaceState:
        return self._state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _set(self, what: str, exc: BaseException | None = None, **fields) -> None:
        """New state, then tell the listeners. A change made by a listener is told after the
        current one has reached every listener, so all of them see changes in order."""
        self._state = replace(self._state, **fields)
        self._queue.append(Change(what, self._state, exc))
        if self._notifying:
            return
        self._notifying = True
        try:
            while self._queue:
                change = self._queue.pop(0)
                for listener in list(self._listeners):
                    listener(change)
        finally:
            self._notifying = False

    # -- dataset -------------------------------------------------------------------------------
    def load(self, data: DataConfig) -> None:
        """Load in the background; the current dataset stays until the new one is ready."""
        self._load_version += 1
        version = self._load_version
        self._set("loading", loading=data)
        self._tasks.start(
            "load",
            lambda task: load_dataset(data),
            on_done=lambda dataset: self._loaded(version, data, dataset),
            on_error=lambda exc: self._load_failed(version, exc),
        )

    def _loaded(self, version: int, data: DataConfig, dataset: Dataset) -> None:
        if version == self._load_version:
            self.set_dataset(dataset, data)

    def _load_failed(self, version: int, exc: BaseException) -> None:
        if version == self._load_version:
            self._set("load_failed", exc, loading=None)

    def set_dataset(self, dataset: Dataset, data: DataConfig | None = None) -> None:
        """Use an already loaded dataset (the split and request are recomputed for it)."""
        version = self._version
        self._set(
            "dataset",
            dataset=dataset,
            data_config=data or DataConfig(path=dataset.source),
            loading=None,
            prepared=None,
            error=None,
        )
        if self._version == version:  # no listener has changed the request for the new dataset
            self._prepare()

    # -- split and request -----------------------------------------------------------------
    def set_split(self, config: SplitConfig) -> None:
        if config != self._state.split_config:
            self._state = replace(self._state, split_config=config)
            self._prepare()

    def set_request(self, request: ForgetRequest | None, hint: str | None = None) -> None:
        """The request to resolve; None with a ``hint`` while the person is still choosing."""
        if request == self._state.request and hint == self._hint:
            return
        self._state = replace(self._state, request=request)
        self._hint = hint
        self._prepare()

    def _prepare(self) -> None:
        self._version += 1
        state = self._state
        if state.dataset is None or state.request is None:
            self._set(
                "prepared",
                prepared=None,
                busy=False,
                error=None if state.dataset is None else self._hint or "Choose what to forget.",
            )
            return
        version = self._version
        config = ExperimentConfig(
            data=state.data_config, split=state.split_config, request=state.request, similar_top_n=self._similar_top_n
        )
        dataset = state.dataset
        self._set("preparing", prepared=None, busy=True, error=None)
        self._tasks.start(
            "preview",
            lambda task: _prepare(config, dataset),
            on_done=lambda prepared: self._prepared(version, prepared, None),
            on_error=lambda exc: self._prepared(version, None, exc),
        )

    def _prepared(self, version: int, prepared, exc: BaseException | None) -> None:
        if version != self._version:
            return  # settings changed since: a newer computation is on its way
        if exc is not None and not isinstance(exc, CragruError):
            self._set("prepared", exc, prepared=None, busy=False, error=f"Unexpected problem: {exc}")
            return
        self._set("prepared", exc, prepared=prepared, busy=False, error=str(exc) if exc else None)

    # -- what a run needs --------------------------------------------------------------------
    def removed_items_by_user(self) -> dict[int, np.ndarray]:
        state = self._state
        return removed_items_by_user(state.dataset, state.resolved) if state.dataset is not None else {}

    def experiment_config(self, **settings) -> ExperimentConfig:
        """The run configuration for the current data, split and request plus ``settings``
        (model, methods, device...); refuses when the request is not resolved yet."""
        state = self._state
        if state.dataset is None or state.data_config is None:
            raise CragruError("open a dataset first (Dataset panel)")
        if not state.ready:
            raise CragruError(state.error or "the forget request is still being checked")
        config = ExperimentConfig(
            data=state.data_config,
            split=state.split_config,
            request=state.request,
            similar_top_n=self._similar_top_n,
            **settings,
        )
        config.validate()
        return config


def _prepare(config: ExperimentConfig, dataset: Dataset):
    from core.experiment import prepare_data

    return prepare_data(config, dataset)
