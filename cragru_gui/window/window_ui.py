"""The main window's widgets and menus, built once (what a Designer ``setupUi`` would do).

Each function gets what its widgets need (the workspace, the task runner, the store factory)
and returns the widgets it made in a small dataclass; the window keeps them, does the wiring
and the behaviour. The menus take the window itself: their commands are its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cragru_gui import errors
from cragru_gui.charts import MetricsChart
from cragru_gui.common.glossary import show_glossary
from cragru_gui.common.page_tabs import PageTabs
from cragru_gui.inspector.user_inspector import UserInspector
from cragru_gui.panels.dataset_panel import DatasetPanel
from cragru_gui.panels.forget_panel import ForgetPanel
from cragru_gui.panels.history_panel import HistoryPanel
from cragru_gui.panels.method_panel import MethodPanel
from cragru_gui.results.results_view import ResultsView
from cragru_gui.results.verdict_view import VerdictView
from cragru_gui.sweep.sweep_tab import SweepTab
from cragru_gui.window.presentation import Presentation
from cragru_gui.window.run_bar import RunBar


@dataclass
class SetupSide:
    """The left side: Dataset / Forget / Method tabs over the run bar."""

    widget: QWidget
    dataset_panel: DatasetPanel
    forget_panel: ForgetPanel
    method_panel: MethodPanel
    tabs: PageTabs
    run_bar: RunBar


@dataclass
class OutputSide:
    """The right side: the story line over Verdict / Charts / Results / Inspector / History / Log."""

    widget: QWidget
    story: QLabel
    charts: MetricsChart
    verdict_view: VerdictView
    results_view: ResultsView
    inspector: UserInspector
    affected_view: QWidget
    history_panel: HistoryPanel
    sweep_tab: SweepTab
    log_view: QPlainTextEdit
    tabs: PageTabs
    presentation: Presentation


@dataclass
class Actions:
    """The menu commands the window enables and disables as runs come and go."""

    export: QAction
    receipt: QAction
    start: QAction
    cancel: QAction


def build_setup(workspace, tasks) -> SetupSide:
    """The left side: Dataset / Forget / Method tabs and the run bar."""
    dataset_panel = DatasetPanel(workspace)
    forget_panel = ForgetPanel(workspace)
    method_panel = MethodPanel(tasks)
    tabs = PageTabs()
    tabs.setObjectName("setupTabs")
    for panel, title, tip in (
        (dataset_panel, "1 · Dataset", "Which data the recommender learns from"),
        (forget_panel, "2 · Forget", "What must be forgotten (users, items or interactions), on which split"),
        (method_panel, "3 · Method", "How to forget it, with which base model, on which device"),
    ):
        tabs.addTab(panel, title)
        tabs.setTabToolTip(tabs.count() - 1, tip)
    run_bar = RunBar()
    left = QWidget()
    layout = QVBoxLayout(left)
    layout.setContentsMargins(6, 6, 3, 6)
    layout.addWidget(tabs, 1)
    layout.addWidget(run_bar)
    return SetupSide(left, dataset_panel, forget_panel, method_panel, tabs, run_bar)


def build_output(top: QWidget, setup: SetupSide, workspace, tasks, store_factory) -> OutputSide:
    """The right side: the story line over Verdict / Charts / Results / Inspector / History / Log.
    ``top`` is the window presentation mode makes full screen."""
    charts = MetricsChart()
    verdict_view = VerdictView()
    results_view = ResultsView()
    inspector = UserInspector()
    from cragru_gui.inspector.affected_view import AffectedTab  # reads the Inspector's run when shown

    affected_view = AffectedTab(inspector, lambda: output_tabs.setCurrentWidget(inspector))
    history_panel = HistoryPanel(store_factory)
    sweep_tab = SweepTab(tasks, workspace, store_factory, history_panel.refresh)
    log_view = QPlainTextEdit()
    log_view.setObjectName("logView")
    log_view.setReadOnly(True)
    log_view.setMaximumBlockCount(5000)
    log_view.setToolTip("What the engine reported, with times")
    output_tabs = PageTabs()
    output_tabs.setObjectName("outputTabs")
    for widget, title, tip in (
        (verdict_view, "Verdict", "Per method: is the data forgotten, who else was affected, what did it cost"),
        (charts, "Charts", "Live training curves and, per model, utility, memory, attack and cost"),
        (results_view, "Results", "Every metric, with differences against base and retrain"),
        (inspector, "Inspector", "One user's top-10 before and after unlearning"),
        (affected_view, "Who was affected", "Every measure by age, gender, occupation and activity; a map"),
        (history_panel, "History", "Past runs: open, compare, delete"),
        (sweep_tab, "Sweep", "Many experiments: request sizes × methods × seeds on Ray, and request streams"),
        (log_view, "Log", "Messages from the run"),
    ):
        output_tabs.addTab(widget, title)
        output_tabs.setTabToolTip(output_tabs.count() - 1, tip)
    right = QWidget()
    layout = QVBoxLayout(right)
    layout.setContentsMargins(3, 6, 6, 6)
    story = QLabel()
    story.setObjectName("storyLine")
    story.setProperty("role", "info")
    story.setWordWrap(True)
    story.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    presentation = Presentation(
        top,
        {
            "request": lambda: setup.tabs.setCurrentWidget(setup.forget_panel),
            "training": lambda: output_tabs.setCurrentWidget(charts),
        },
    )
    layout.addWidget(presentation.strip)
    layout.addWidget(_story_scroll(story))
    layout.addWidget(output_tabs, 1)
    return OutputSide(
        right,
        story,
        charts,
        verdict_view,
        results_view,
        inspector,
        affected_view,
        history_panel,
        sweep_tab,
        log_view,
        output_tabs,
        presentation,
    )


def _story_scroll(story: QLabel) -> QScrollArea:
    """The story banner, at most about five lines high: a long story scrolls instead of
    pushing the Verdict off a small screen."""
    scroll = QScrollArea()
    scroll.setObjectName("storyScroll")
    scroll.setWidget(story)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMaximumHeight(story.fontMetrics().lineSpacing() * 5 + 20)
    scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    return scroll


def make_menus(self, setup: SetupSide, out: OutputSide) -> Actions:
    """File, Run, View and Help menus of the window ``self`` (their commands are its own);
    every shortcut shown beside its command."""

    def action(text: str, slot, shortcut=None) -> QAction:
        made = QAction(text, self)
        made.triggered.connect(slot)
        if shortcut is not None:
            made.setShortcut(shortcut)
        return made

    file_menu = self.menuBar().addMenu("&File")
    file_menu.addAction(action("Open the &demo dataset", lambda: self.load_dataset({"path": "demo"})))
    file_menu.addAction(
        action("Open dataset &folder…", setup.dataset_panel.choose_folder, QKeySequence("Ctrl+Shift+O"))
    )
    file_menu.addAction(action("&Open dataset file…", setup.dataset_panel.choose_file, QKeySequence.StandardKey.Open))
    file_menu.addSeparator()
    export = action("&Export report (HTML or PDF)…", lambda: self.export_report(), QKeySequence("Ctrl+E"))
    export.setEnabled(False)
    file_menu.addAction(export)
    receipt = action("Save &receipt…", lambda: self.save_receipt(), QKeySequence("Ctrl+Shift+E"))
    receipt.setEnabled(False)
    file_menu.addAction(receipt)
    file_menu.addSeparator()
    file_menu.addAction(action("Method &plug-ins…", lambda: self.add_plugin()))
    file_menu.addSeparator()
    file_menu.addAction(action("&Quit", self.close, QKeySequence.StandardKey.Quit))
    run_menu = self.menuBar().addMenu("&Run")
    start = action("&Start", self.start_run, QKeySequence("F5"))
    cancel = action("&Cancel", self.cancel_run, QKeySequence(CANCEL_KEY))  # Esc leaves full screen
    run_menu.addActions([start, cancel])
    view_menu = self.menuBar().addMenu("&View")
    next_tab = action("&Next tab", lambda: _step_tab(out.tabs, 1), QKeySequence("Ctrl+PgDown"))
    next_tab.setShortcuts([QKeySequence("Ctrl+PgDown"), QKeySequence("Ctrl+Tab")])
    previous_tab = action("&Previous tab", lambda: _step_tab(out.tabs, -1), QKeySequence("Ctrl+PgUp"))
    previous_tab.setShortcuts([QKeySequence("Ctrl+PgUp"), QKeySequence("Ctrl+Shift+Tab")])
    view_menu.addActions([next_tab, previous_tab])
    view_menu.addSeparator()
    for i, (key, words) in enumerate((("Ctrl+1", "&Dataset"), ("Ctrl+2", "&Forget"), ("Ctrl+3", "&Method"))):
        view_menu.addAction(
            action(f"{words} set-up tab", lambda _=False, i=i: _show_setup(setup.tabs, i), QKeySequence(key))
        )
    view_menu.addSeparator()
    view_menu.addActions([out.presentation.action, out.presentation.leave_action])
    help_menu = self.menuBar().addMenu("&Help")
    help_menu.addAction(
        action(
            "&Glossary — what every figure means", lambda: show_glossary(self), QKeySequence.StandardKey.HelpContents
        )
    )
    help_menu.addAction(
        action("Open the &log folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(errors.log_dir()))))
    )
    help_menu.addAction(action("&About CRAGRU Studio", lambda: about(self)))
    return Actions(export, receipt, start, cancel)


CANCEL_KEY = "Shift+Esc"


def _show_setup(tabs: QTabWidget, index: int) -> None:
    """Ctrl+1/2/3: that set-up tab, with the keyboard focus in it."""
    tabs.setCurrentIndex(index)
    tabs.currentWidget().setFocus(Qt.FocusReason.ShortcutFocusReason)


def _step_tab(tabs: QTabWidget, by: int) -> None:
    """The next (``by`` 1) or previous (-1) tab of ``tabs``, round the end."""
    tabs.setCurrentIndex((tabs.currentIndex() + by) % tabs.count())


def about(self) -> None:
    import core.signing

    QMessageBox.about(
        self,
        "About CRAGRU Studio",
        f"<b>CRAGRU Studio</b> {getattr(core, '__version__', '')}<br>"
        "Forget users, items or interactions from a recommender and measure what it still "
        "remembers and who else was hurt.<br><br>Logs: "
        + str(errors.log_dir())
        + f"<br>Receipt signing key: {core.signing.installation_fingerprint() or 'none yet'}",
    )
