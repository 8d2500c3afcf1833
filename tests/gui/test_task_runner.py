"""The window's one task runner: results on the GUI thread, latest task wins, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from core.errors import Cancelled, DatasetError
from core.events import AttackResultEvent, LogEvent, MetricEvent, ModelResultEvent, ProgressEvent, StageEvent


@pytest.fixture
def runner(qtbot):
    from PySide6.QtWidgets import QWidget

    from cragru_gui.worker import TaskRunner

    holder = QWidget()
    qtbot.addWidget(holder)
    tasks = TaskRunner(holder)
    yield tasks
    tasks.shutdown(10)


def _until_stopped(task):
    while not task.should_stop():
        time.sleep(0.005)
    raise Cancelled("stopped")


def test_results_and_events_arrive_on_the_gui_thread(qtbot, runner):
    gui = threading.get_ident()
    seen = []

    def work(task):
        task.emit("first")
        task.emit("second")
        return threading.get_ident()

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(
            "job",
            work,
            on_event=lambda e: seen.append(("event", e, threading.get_ident())),
            on_done=lambda v: seen.append(("done", v, threading.get_ident())),
            on_finished=lambda: seen.append(("finished", None, threading.get_ident())),
        )
    assert [s[0] for s in seen] == ["event", "event", "done", "finished"]
    assert [s[1] for s in seen[:2]] == ["first", "second"]
    assert seen[2][1] != gui  # the work ran elsewhere ...
    assert all(s[2] == gui for s in seen)  # ... every callback on the GUI thread
    assert not runner.is_running("job")


def test_starting_a_task_cancels_the_running_one_of_its_kind(qtbot, runner):
    seen = []
    first = runner.start(
        "preview",
        _until_stopped,
        on_done=lambda v: seen.append(("first done", v)),
        on_cancelled=lambda: seen.append("first cancelled"),
        on_finished=lambda: seen.append("first finished"),
    )
    other = runner.start("load", lambda task: "other", on_done=lambda v: seen.append(("other", v)))
    second = runner.start("preview", lambda task: "second", on_done=lambda v: seen.append(("second", v)))
    assert first.should_stop() and not second.should_stop() and not other.should_stop()
    third = runner.start("preview", lambda task: "third", on_done=lambda v: seen.append(("third", v)))
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)
    # the superseded task says nothing; the waiting one was replaced by the newest
    assert sorted(map(str, seen)) == sorted(map(str, [("other", "other"), ("third", "third")]))
    assert not first.is_alive() and second.thread is None and third.thread is not None


def test_cancel_reports_cancelled_and_errors_reach_on_error(qtbot, runner):
    seen = []
    runner.start(
        "run",
        _until_stopped,
        on_cancelled=lambda: seen.append("cancelled"),
        on_done=lambda v: seen.append("done"),
        on_finished=lambda: seen.append("finished"),
    )
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.cancel("run")
    assert seen == ["cancelled", "finished"]

    def broken(task):
        raise DatasetError("bad line", "x.csv", 3)

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start("load", broken, on_error=seen.append)
    assert isinstance(seen[-1], DatasetError)


def test_shutdown_stops_waits_and_delivers_nothing_more(qtbot, runner):
    seen = []
    task = runner.start(
        "run",
        _until_stopped,
        on_cancelled=lambda: seen.append("cancelled"),
        on_finished=lambda: seen.append("finished"),
    )
    waiting = runner.start("load", lambda t: time.sleep(0.2) or "loaded", on_done=seen.append)
    assert runner.shutdown(5)
    assert task.should_stop() and not task.is_alive() and not waiting.is_alive()
    later = runner.start("run", lambda t: "late", on_done=seen.append)
    qtbot.wait(100)
    assert seen == [] and later.thread is None and not runner.is_running()


def test_engine_events_become_typed_signals(qtbot):
    from cragru_gui.worker import EngineEvents, experiment_task

    def run_experiment(config, on_event, should_stop, dataset=None, store=None):
        for event in (
            StageEvent("one", 1, 2),
            ProgressEvent(0.5, "half"),
            MetricEvent("base", "train", 1, {"loss": 0.5}),
            ModelResultEvent("base", {"retain": {"hit@10": 0.5}}),
            AttackResultEvent("base", "mia", 0.6),
            LogEvent("hello"),
        ):
            on_event(event)
        return config

    events = EngineEvents()
    seen = []
    events.stage.connect(lambda *a: seen.append(("stage", a)))
    events.progress.connect(lambda *a: seen.append(("progress", a)))
    events.metric.connect(lambda e: seen.append(("metric", e.series)))
    events.model_result.connect(lambda e: seen.append(("model", e.model)))
    events.attack_result.connect(lambda e: seen.append(("attack", e.value)))
    events.log.connect(lambda *a: seen.append(("log", a)))

    class Collect:
        def __init__(self):
            self.emitted = []

        def emit(self, event):
            self.emitted.append(event)

        @staticmethod
        def should_stop():
            return False

    task = Collect()
    assert experiment_task("the config", experiment_fn=run_experiment)(task) == "the config"
    for event in task.emitted:
        events.dispatch(event)
    assert seen == [
        ("stage", ("one", 1, 2)),
        ("progress", (0.5, "half")),
        ("metric", "base/train"),
        ("model", "base"),
        ("attack", 0.6),
        ("log", ("hello", "info")),
    ]


def test_garbage_is_collected_on_the_gui_thread_while_tasks_run(qtbot, runner):
    """A cycle freed by a worker thread's allocations is collected by the GUI thread's timer."""
    import gc

    from PySide6.QtCore import QCoreApplication

    from cragru_gui.gc_guard import GuiThreadCollector

    collected_on = []

    class Node:
        def __del__(self):
            collected_on.append(threading.get_ident())

    def work(task):
        for _ in range(20_000):  # allocations enough to cross generation 0's threshold many times
            node = Node()
            node.me = node
        return None

    with qtbot.waitSignal(runner.finished, timeout=30_000):
        runner.start("job", work)
    assert not gc.isenabled()
    collector = QCoreApplication.instance().findChild(GuiThreadCollector)
    qtbot.waitUntil(lambda: len(collected_on) >= 1_000, timeout=10_000)
    assert collector.collections >= 1
    assert set(collected_on) == {threading.get_ident()}  # every cycle freed on the GUI thread
