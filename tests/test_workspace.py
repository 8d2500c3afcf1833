"""The window's workspace without Qt: dataset, split, request and groups kept in step."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import DataConfig, ExperimentConfig
from core.data.loaders import load_dataset
from core.errors import CragruError, DatasetError
from core.experiment import prepare_data
from core.forget_request import ForgetRequest
from core.split import SplitConfig
from core.workspace import Workspace, removed_for_config, removed_items_by_user


class ManualTasks:
    """A task starter whose tasks finish only when the test says so, in any order."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, object, object, object]] = []

    def start(self, kind, fn, *, on_done, on_error):
        self.queued.append((kind, fn, on_done, on_error))

    def finish(self, index: int) -> None:
        kind, fn, on_done, on_error = self.queued.pop(index)
        try:
            value = fn(None)
        except Exception as exc:  # noqa: BLE001
            on_error(exc)
        else:
            on_done(value)


@pytest.fixture(scope="module")
def demo():
    return load_dataset("demo")


def _recorded(workspace):
    seen = []
    workspace.subscribe(lambda change: seen.append(change))
    return seen


def test_load_then_request_gives_what_the_run_prepares(demo):
    workspace = Workspace()
    seen = _recorded(workspace)
    workspace.load(DataConfig(path="demo"))
    assert [c.what for c in seen[:2]] == ["loading", "dataset"]
    assert workspace.state.dataset.fingerprint() == demo.fingerprint()
    assert workspace.state.prepared is None and workspace.state.error  # nothing chosen yet
    request = ForgetRequest("users", "random", 0.1, seed=3)
    workspace.set_split(SplitConfig(seed=3))
    workspace.set_request(request)
    assert seen[-2].what == "preparing" and seen[-1].what == "prepared"
    state = workspace.state
    assert state.ready and state.error is None
    expected = prepare_data(ExperimentConfig(split=SplitConfig(seed=3), request=request), demo)
    np.testing.assert_array_equal(state.resolved.removed_rows, expected.request.removed_rows)
    np.testing.assert_array_equal(state.split.train, expected.split.train)
    for group in ("retain", "forget", "similar"):
        np.testing.assert_array_equal(state.groups.get(group), expected.groups.get(group))
    config = workspace.experiment_config(mia=False)
    assert config.request == request and config.split.seed == 3 and config.data.path == "demo" and not config.mia


def test_the_same_request_twice_is_not_recomputed(demo):
    workspace = Workspace()
    workspace.set_dataset(demo)
    workspace.set_request(ForgetRequest("users", "random", 0.05))
    seen = _recorded(workspace)
    workspace.set_request(ForgetRequest("users", "random", 0.05))
    workspace.set_split(SplitConfig())
    assert seen == []


def test_split_settings_reach_the_split(demo):
    workspace = Workspace()
    workspace.set_dataset(demo)
    workspace.set_request(ForgetRequest("users", "random", 0.05))
    workspace.set_split(SplitConfig(mode="loo", outsider_fraction=0.2))
    split = workspace.state.split
    assert split.config.mode == "loo" and len(split.outsiders) == round(0.2 * demo.n_users)
    assert workspace.experiment_config().split == SplitConfig(mode="loo", outsider_fraction=0.2)


def test_an_invalid_request_is_explained_and_blocks_the_run(demo):
    workspace = Workspace()
    workspace.set_dataset(demo)
    workspace.set_request(None, hint="Select users in the table.")
    assert workspace.state.error == "Select users in the table." and not workspace.state.ready
    workspace.set_request(ForgetRequest("users", "random", 0.05))
    outsider = str(demo.user_ids[int(workspace.state.split.outsiders[0])])
    workspace.set_request(ForgetRequest("users", "ids", 0.0, ids=(outsider,)))
    assert "no training interactions" in workspace.state.error and not workspace.state.ready
    with pytest.raises(CragruError, match="no training interactions"):
        workspace.experiment_config()


def test_a_result_for_older_settings_is_dropped(demo):
    tasks = ManualTasks()
    workspace = Workspace(tasks)
    workspace.set_dataset(demo)
    workspace.set_request(ForgetRequest("users", "random", 0.05))
    workspace.set_request(ForgetRequest("users", "random", 0.2))
    assert [q[0] for q in tasks.queued] == ["preview", "preview"] and workspace.state.busy
    seen = _recorded(workspace)
    tasks.finish(1)  # the newer one first
    assert workspace.state.resolved.request.fraction == 0.2 and workspace.state.ready
    tasks.finish(0)  # then the stale one: ignored
    assert workspace.state.resolved.request.fraction == 0.2
    assert [c.what for c in seen] == ["prepared"]


def test_a_failed_load_keeps_the_dataset_and_says_why(demo, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("user,item,rating\n1,10,4\n2,11\n")
    workspace = Workspace()
    workspace.set_dataset(demo)
    seen = _recorded(workspace)
    workspace.load(DataConfig(path=str(bad), fmt="csv"))
    assert [c.what for c in seen] == ["loading", "load_failed"]
    assert isinstance(seen[-1].exc, DatasetError)
    assert workspace.state.dataset is demo and workspace.state.loading is None


def test_a_superseded_load_never_replaces_the_newer_one(demo):
    tasks = ManualTasks()
    workspace = Workspace(tasks)
    workspace.load(DataConfig(path="demo"))
    workspace.load(DataConfig(path="demo", k_core=2))
    tasks.finish(1)
    newer = workspace.state.dataset
    tasks.finish(0)
    assert workspace.state.dataset is newer and workspace.state.data_config.k_core == 2


def test_removed_items_by_user_matches_the_rows(demo):
    workspace = Workspace()
    workspace.set_dataset(demo)
    workspace.set_request(ForgetRequest("interactions", "random", 0.1))
    removed = workspace.removed_items_by_user()
    rows = workspace.state.resolved.removed_rows
    assert sum(len(v) for v in removed.values()) == len(rows)
    for user in list(removed)[:20]:
        mine = rows[demo.users[rows] == user]
        assert list(removed[user]) == list(demo.items[mine])
    config = workspace.experiment_config()
    again = removed_for_config(demo, config)
    assert again.keys() == removed.keys()
    assert removed_items_by_user(demo, None) == {}


def test_listeners_see_changes_in_order_and_a_new_dataset_is_resolved_once(demo):
    """A panel that answers a new dataset with its own request: one preview, told after 'dataset'."""
    tasks = ManualTasks()
    workspace = Workspace(tasks)
    first, second = [], []
    workspace.subscribe(lambda change: first.append(change.what))

    def panel(change):
        if change.what == "dataset":
            workspace.set_request(ForgetRequest("items", "popular", 0.1))

    workspace.subscribe(panel)
    workspace.subscribe(lambda change: second.append(change.what))
    workspace.set_dataset(demo)
    assert first == second == ["dataset", "preparing"]
    assert [q[0] for q in tasks.queued] == ["preview"]
    tasks.finish(0)
    assert workspace.state.resolved.request.kind == "items" and second[-1] == "prepared"
