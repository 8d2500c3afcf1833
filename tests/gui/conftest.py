"""Fixtures for the window tests: a main window on the demo dataset with its own history,
settings and error recorder (no modal dialog ever opens in a test)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

TINY_EPOCHS = 3


class ErrorRecorder:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, parent, title, message, details=None) -> None:
        self.calls.append({"title": title, "message": message, "details": details})

    def __bool__(self) -> bool:
        return bool(self.calls)


@pytest.fixture(autouse=True)
def gui_thread_collection():
    """A test's task runner moves garbage collection onto the GUI thread (cragru_gui.gc_guard);
    afterwards collect here and hand it back, so the engine tests that follow collect as usual."""
    yield
    from cragru_gui import gc_guard

    gc_guard.uninstall()


@pytest.fixture
def shown_errors(monkeypatch):
    from cragru_gui import errors

    recorder = ErrorRecorder()
    monkeypatch.setattr(errors, "show_error", recorder)
    return recorder


@pytest.fixture
def answers(monkeypatch):
    """Answers to ``errors.ask``: tests append True/False; default yes."""
    from cragru_gui import errors

    queue: list[bool] = []
    asked: list[str] = []

    def ask(parent, title, question):
        asked.append(question)
        return queue.pop(0) if queue else True

    monkeypatch.setattr(errors, "ask", ask)
    return type("Answers", (), {"queue": queue, "asked": asked})()


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "runs.sqlite"


@pytest.fixture
def make_window(qtbot, tmp_path, store_path, shown_errors, answers):
    """Factory: a MainWindow on the demo dataset, waited for; closed (run cancelled) at teardown."""
    from core.history import RunStore
    from cragru_gui.settings import Settings
    from cragru_gui.window.main_window import MainWindow

    windows = []

    def make(settings_name: str = "settings.ini", load_demo: bool = True, tiny: bool = True):
        window = MainWindow(
            settings=Settings(str(tmp_path / settings_name)), store_factory=lambda: RunStore(store_path)
        )
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        windows.append(window)
        qtbot.waitUntil(lambda: window.method_panel.methods_ready, timeout=120_000)
        if load_demo:
            window.initial_dataset(demo=True)
            qtbot.waitUntil(lambda: window.dataset is not None and window.forget_panel.is_valid(), timeout=30_000)
        if tiny:
            window.method_panel.set_epochs(TINY_EPOCHS)
            window.method_panel.check_only("retrain")
        return window

    yield make
    for window in windows:
        window.close()  # cancels a run (the answers fixture says yes) and shuts the task runner down


@pytest.fixture(scope="session")
def tiny_result():
    """One finished demo run (retraining, 3 epochs) shared by widget tests."""
    from core.config import ExperimentConfig, MethodChoice
    from core.data.loaders import load_dataset
    from core.experiment import prepare_data, run_experiment
    from core.forget_request import ForgetRequest
    from core.models.base import ModelConfig

    dataset = load_dataset("demo")
    config = ExperimentConfig(
        model=replace(ModelConfig(), epochs=TINY_EPOCHS),
        request=ForgetRequest("users", "random", 0.05),
        methods=(MethodChoice("retrain"),),
        mia=False,
    )
    result = run_experiment(config, dataset=dataset)
    prepared = prepare_data(config, dataset)
    rows = prepared.request.removed_rows
    users, items = dataset.users[rows], dataset.items[rows]
    removed = {int(u): items[users == u] for u in set(users.tolist())}
    return result, dataset, removed


@pytest.fixture(scope="session")
def method_result():
    """A finished demo run with an unlearning method (fine-tuning) beside retraining, attacks
    on, so every verdict question has evidence (3 epochs; about half a minute on a CPU)."""
    from core.config import ExperimentConfig, MethodChoice
    from core.data.loaders import load_dataset
    from core.experiment import run_experiment
    from core.forget_request import ForgetRequest
    from core.models.base import ModelConfig

    dataset = load_dataset("demo")
    config = ExperimentConfig(
        model=replace(ModelConfig(), epochs=TINY_EPOCHS),
        request=ForgetRequest("users", "random", 0.05),
        methods=(MethodChoice("retrain"), MethodChoice("finetune")),
        mia=True,
    )
    return run_experiment(config, dataset=dataset), dataset
