"""Issue 23: the window fits the screen — it opened 1600×960 on a 1280×720 screen, its minimum
was 2282×1312 at 200 % on 1920×1080 (960×540 logical), presentation mode outgrew the screen
and Esc cancelled the run instead of leaving full screen."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

SMALLEST = (960, 540)  # 1920×1080 at 200 %, the smallest of the three target screens (logical pixels)
FRAME = (0, 40)  # room for a window frame and title bar


def test_the_window_can_shrink_to_the_smallest_target_screen(make_window):
    window = make_window(tiny=False)
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALLEST[0] - FRAME[0] and hint.height() <= SMALLEST[1] - FRAME[1], hint
    for tabs in (window.setup_tabs, window.output_tabs):  # every page scrolls rather than pushing the window
        for i in range(tabs.count()):
            holder = type(tabs).__mro__[1].widget(tabs, i)
            assert holder.minimumSizeHint().width() <= 400, tabs.tabText(i)


def test_first_start_takes_its_size_from_the_screen(qtbot, tmp_path):
    from core.history import RunStore
    from cragru_gui.settings import Settings
    from cragru_gui.window.main_window import MainWindow

    window = MainWindow(settings=Settings(str(tmp_path / "fresh.ini")), store_factory=lambda: RunStore(tmp_path / "r"))
    qtbot.addWidget(window)
    area = window.screen().availableGeometry()
    assert window.width() <= area.width() and window.height() <= area.height()
    assert area.contains(window.geometry().center())
    assert window.windowTitle() == "CRAGRU Studio"


def test_presentation_fits_and_esc_leaves_it_while_cancel_keeps_its_own_key(make_window, qtbot):
    window = make_window(tiny=False)
    assert window.windowTitle() == "CRAGRU Studio — demo"  # once, not "… — CRAGRU Studio" twice
    window.presentation.toggle(True)
    qtbot.wait(50)
    area = window.screen().geometry()
    assert window.width() <= area.width() and window.height() <= area.height()
    assert window.minimumSizeHint().width() <= area.width()
    assert window.leave_presentation_action.isEnabled()
    assert window.leave_presentation_action.shortcut() == QKeySequence("Esc")
    assert window.cancel_action.shortcut() != QKeySequence("Esc")
    window.leave_presentation_action.trigger()
    assert not window.presentation.active and not window.leave_presentation_action.isEnabled()


def test_ctrl_digits_open_the_three_setup_tabs(make_window, qtbot):
    window = make_window(tiny=False)
    keys = {a.shortcut().toString(): a for a in window.findChildren(type(window.start_action))}
    for i, key in enumerate(("Ctrl+1", "Ctrl+2", "Ctrl+3")):
        keys[key].trigger()
        assert window.setup_tabs.currentIndex() == i


def test_time_left_says_estimating_until_it_settles():
    from cragru_gui.window.run_bar import SmoothedTimeLeft

    smooth = SmoothedTimeLeft()
    assert smooth.update(None, 0.5) is None
    assert smooth.update(120.0, 2.0) is None  # one estimate, early: not shown yet
    shown = [smooth.update(raw, t) for t, raw in ((4, 4700.0), (6, 110.0), (8, 100.0), (10, 98.0), (12, 96.0))]
    assert shown[-1] is not None and shown[-1] < 600  # one wild estimate (1 h 18 min) did not take over
    for t in range(14, 40, 2):
        value = smooth.update(100.0 - (t - 12), float(t))
    assert value is not None and 60 < value < 110
