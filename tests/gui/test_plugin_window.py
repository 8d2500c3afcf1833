"""The window's Method plug-ins setting: the page's method, added from a file outside the
repository, appears with its form, runs, draws its declared curve and is loaded again at
the next start."""

from __future__ import annotations

import pytest

from tests.test_plugins import plugin_file  # noqa: F401 - the fixture


@pytest.fixture
def forget_plugin(monkeypatch):
    from core.methods import plugins
    from core.methods.registry import METHODS

    monkeypatch.setenv(plugins.PLUGINS_ENV, "")  # setenv, not delenv: an absent variable set later would stay set
    monkeypatch.setattr(plugins, "_loaded_files", {})
    yield
    METHODS.pop("shrink_users", None)


def test_a_plugin_added_in_the_window_runs_and_is_remembered(
    make_window,
    qtbot,
    plugin_file,  # noqa: F811 - the fixture imported above
    forget_plugin,
    monkeypatch,
    shown_errors,
):
    from cragru_gui.panels import plugin_setting

    window = make_window()
    monkeypatch.setattr(plugin_setting, "choose_plugin_file", lambda parent: str(plugin_file))
    assert window.add_plugin() == ["shrink_users"]
    entry = window.method_panel.entries["shrink_users"]
    assert set(entry.form.editors) == {"steps", "factor"}
    window.method_panel.check_only("retrain")
    entry.set_checked(True)
    window.start_run()
    with qtbot.waitSignal(window.tasks.finished, timeout=180_000, check_params_cb=lambda kind: kind == "run"):
        pass
    qtbot.waitUntil(lambda: not window.is_running(), timeout=10_000)
    assert not shown_errors, shown_errors.calls
    assert "shrink_users" in window.result.models
    x, y = window.charts.curve_points("shrink_users/shrink", "forgotten_norm")
    assert list(x) == [1, 2, 3, 4, 5] and y[-1] < y[0]
    assert plugin_setting.saved_plugins(window.settings) == [str(plugin_file)]


def test_a_broken_plugin_is_an_error_dialog_not_a_crash(make_window, tmp_path, forget_plugin, shown_errors):
    from cragru_gui.panels import plugin_setting

    window = make_window(tiny=False)
    bad = tmp_path / "bad.py"
    bad.write_text("def oops(:\n", encoding="utf-8")
    assert window.add_plugin(str(bad)) == []
    assert shown_errors.calls and "bad.py" in shown_errors.calls[0]["message"]
    assert plugin_setting.saved_plugins(window.settings) == []
