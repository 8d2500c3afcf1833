"""The experiment's base model (trained once, cached on disk with its curve) and the
trainer every method uses to train the same architecture on other rows."""

from __future__ import annotations

import time

import numpy as np
import torch

from core.config import ExperimentConfig
from core.events import Event, MetricEvent, Reporter, split_series
from core.experiment.data import Prepared
from core.model_cache import cache_key, cached_path, load_entry, save_entry
from core.models.base import Scorer
from core.result import CurveRecorder


class Trainer:
    """Trains the experiment's architecture on any rows, with its hyper-parameters."""

    def __init__(self, config: ExperimentConfig, prepared: Prepared, device: torch.device) -> None:
        self.config = config
        self.prepared = prepared
        self.device = device

    def __call__(
        self,
        rows: np.ndarray,
        *,
        stage: str = "train",
        reporter: Reporter | None = None,
        valid_rows: np.ndarray | None = None,
        epochs: int | None = None,
        model=None,
    ):
        from core.models.training import train_recommender

        ds = self.prepared.dataset
        if valid_rows is None:
            valid_rows = self.prepared.retrain_valid_rows
        return train_recommender(
            self.config.model,
            ds.n_users,
            ds.n_items,
            ds.users[rows],
            ds.items[rows],
            self.device,
            valid=(ds.users[valid_rows], ds.items[valid_rows]),
            reporter=reporter or Reporter(),
            stage=stage,
            model=model,
            epochs=epochs,
        )


def train_base(
    config: ExperimentConfig, prepared: Prepared, device: torch.device, reporter: Reporter
) -> tuple[Scorer, float, bool]:
    """The base model on all of train; cached on disk with its training curve, which is
    replayed when the cached model is used. Returns (model, seconds, from_cache)."""
    from core.models.persistence import model_payload
    from core.models.training import train_recommender

    ds, split = prepared.dataset, prepared.split
    key = cache_key(ds.fingerprint(), split.as_dict(), config.model.as_dict(), device.type)
    path = cached_path(key)
    if config.use_cache:
        cached = _from_cache(path, key, (ds.n_users, ds.n_items), device, reporter)
        if cached is not None:
            return cached, 0.0, True
    start = time.perf_counter()
    recorder = CurveRecorder()

    def keep(event: Event) -> None:
        if isinstance(event, MetricEvent):
            recorder.add(event.series, event.step, event.values)

    model = train_recommender(
        config.model,
        ds.n_users,
        ds.n_items,
        ds.users[split.train],
        ds.items[split.train],
        device,
        valid=(ds.users[split.valid], ds.items[split.valid]),
        reporter=reporter.tee(keep),
        stage="train",
    )
    seconds = time.perf_counter() - start
    if config.use_cache:
        facts = {
            "data": ds.fingerprint(),
            "split": split.as_dict(),
            "model": config.model.as_dict(),
            "n_users": ds.n_users,
            "n_items": ds.n_items,
        }
        warning = save_entry(path, key, model_payload(model, recorder.curves()), facts)
        if warning:
            reporter.log(warning, "warning")
    return model, seconds, False


def _from_cache(path, key: str, shape: tuple[int, int], device: torch.device, reporter: Reporter):
    """The cached base model of ``key`` when its file is that entry, intact and of the
    data's shape; otherwise None, with a warning saying why it was not used."""
    from core.models.persistence import model_from_payload

    payload, warning = load_entry(path, key)
    if payload is not None:
        try:
            model, curves = model_from_payload(payload, device)
            if (model.n_users, model.n_items) != shape:
                raise ValueError(
                    f"it holds {model.n_users} users × {model.n_items} items, the data has {shape[0]} × {shape[1]}"
                )
        except Exception as exc:  # noqa: BLE001 - a wrong entry is retrained, never used
            warning = f"cache entry {path.name} not used: {exc}; training again"
        else:
            reporter.log(f"base model loaded from cache ({path.name})")
            _replay(curves, reporter)
            return model
    if warning:
        reporter.log(warning, "warning")
    return None


def _replay(curves: dict[str, list[dict]], reporter: Reporter) -> None:
    """Send a cached model's stored curve again, as the events it was trained with."""
    for series, points in curves.items():
        model, stage = split_series(series)
        own = reporter.for_model(model)
        for point in points:
            own.metric(stage, int(point["step"]), **{k: v for k, v in point.items() if k != "step"})
