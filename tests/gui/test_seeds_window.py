"""The Seeds spin box: the window runs the experiment over several split seeds through its
task runner and shows the mean ± std summary."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QWidget

from core.seeds import SEEDS_PARAM


def _fake_experiment(hand_built_result, calls):
    def run(config, on_event=None, should_stop=None, dataset=None, store=None):
        seed = config.split.seed
        calls.append(seed)
        models = dict(hand_built_result.models)
        models["close"] = replace(models["close"], forgotten_recall={"forgotten_recall@10": 0.1 + 0.02 * len(calls)})
        return replace(
            hand_built_result,
            run_id=f"seed-{seed}",
            models=models,
            config={**hand_built_result.config, "split": {"seed": seed}},
        )

    return run


def test_seeds_spin_box_comes_from_the_spec(make_window):
    window = make_window(load_demo=False)
    spin = window.method_panel.seeds_spin
    assert (spin.minimum(), spin.maximum(), spin.value()) == (SEEDS_PARAM.low, SEEDS_PARAM.high, SEEDS_PARAM.default)
    assert spin.toolTip() and window.method_panel.n_seeds() == 1
    spin.setValue(4)
    assert window.method_panel.state()["seeds"] == {"seeds": 4}
    window.method_panel.restore({**window.method_panel.state(), "seeds": {"seeds": 2}})
    assert window.method_panel.n_seeds() == 2


def test_window_runs_several_seeds_and_shows_the_summary(make_window, qtbot, hand_built_result, shown_errors):
    window = make_window()
    calls: list[int] = []
    window.experiment_fn = _fake_experiment(hand_built_result, calls)
    window.method_panel.seeds_spin.setValue(3)
    window.start_run()
    with qtbot.waitSignal(window.tasks.finished, timeout=60_000, check_params_cb=lambda kind: kind == "run"):
        pass
    assert not shown_errors, shown_errors.calls
    seed = window.build_config().split.seed
    assert calls == [seed, seed + 1, seed + 2]
    assert window.result.run_id == f"seed-{seed + 2}"  # the last seed fills the views
    dialog = window.seed_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.cell_text("forgotten_recall@10", "close") == "0.1400 ± 0.0200"
    assert dialog.cell_text("forgotten_recall@10", "base") == "0.4000 ± 0.0000"
    assert "forgotten_recall@5" not in dialog.keys  # one cut-off
    log = window.findChild(QWidget, "logView").toPlainText()
    assert "seed 3 of 3" in log


def test_a_later_seed_failing_shows_the_seeds_that_finished(make_window, qtbot, hand_built_result, shown_errors):
    from core.errors import DatasetError

    window = make_window()
    calls: list[int] = []
    fake = _fake_experiment(hand_built_result, calls)
    seed = window.build_config().split.seed

    def third_fails(config, *args, **kwargs):
        if config.split.seed == seed + 2:
            raise DatasetError("the data folder was unmounted")
        return fake(config, *args, **kwargs)

    window.experiment_fn = third_fails
    window.method_panel.seeds_spin.setValue(3)
    window.start_run()
    with qtbot.waitSignal(window.tasks.finished, timeout=60_000, check_params_cb=lambda kind: kind == "run"):
        pass
    assert len(shown_errors.calls) == 1 and "seed" in shown_errors.calls[0]["message"]
    assert "unmounted" in shown_errors.calls[0]["message"]
    assert window.result.run_id == f"seed-{seed + 1}"  # the last finished seed fills the views
    assert window.seed_dialog is not None and window.seed_dialog.isVisible()
