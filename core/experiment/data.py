"""The data side of an experiment: load, split, resolve the request, compute the groups
and the evaluation targets. Cheap enough to be recomputed for previews (the workspace)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import ExperimentConfig
from core.data.dataset import Dataset
from core.evaluation.grouped import EvalTargets, make_targets
from core.forget_request import ResolvedRequest, resolve_request
from core.groups import Groups, make_groups
from core.split import Split, make_split


@dataclass
class Prepared:
    """What every model of a run shares: the data, its split, the request, groups and targets."""

    dataset: Dataset
    split: Split
    request: ResolvedRequest
    groups: Groups
    targets: EvalTargets

    @property
    def retrain_valid_rows(self) -> np.ndarray:
        """Validation rows of users not being forgotten: what retraining (and any method)
        may stop early or tune on, so nothing depends on a forgotten user."""
        valid = self.split.valid
        return valid[~np.isin(self.dataset.users[valid], self.request.forget_users)]

    def with_request(self, request: ResolvedRequest, similar_top_n: int, ks) -> Prepared:
        """The same data and split for another request (a request stream's steps): groups and
        targets follow the request."""
        groups = make_groups(self.dataset, self.split, request, similar_top_n)
        targets = make_targets(self.dataset, self.split, request, groups, ks)
        return Prepared(self.dataset, self.split, request, groups, targets)


def load_data(config: ExperimentConfig) -> Dataset:
    """The configured dataset (a file, a folder or the built-in demo)."""
    from core.data.loaders import load_dataset

    d = config.data
    return load_dataset(
        d.path,
        fmt=d.fmt,
        columns=d.columns,
        sep=d.sep,
        implicit_threshold=d.implicit_threshold,
        k_core=d.k_core,
    )


def prepare_data(config: ExperimentConfig, dataset: Dataset | None = None) -> Prepared:
    """Split, resolve the request and compute the groups and targets."""
    dataset = dataset if dataset is not None else load_data(config)
    split = make_split(dataset, config.split)
    request = resolve_request(dataset, split, config.request)
    groups = make_groups(dataset, split, request, config.similar_top_n)
    targets = make_targets(dataset, split, request, groups, config.ks)
    return Prepared(dataset, split, request, groups, targets)
