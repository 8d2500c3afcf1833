"""The main window's widgets and menus, built once (what a Designer ``setupUi`` would do).

Each function takes the :class:`~cragru_gui.window.main_window.MainWindow` as ``self`` and sets the
widgets it names on it; the window does the wiring and the behaviour.
"""

from __future__ import annotations

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
from cragru_gui.panels.plugin_setting import add_plugin
from cragru_gui.results.results_view import ResultsView
from cragru_gui.results.verdict_view import VerdictView
from cragru_gui.sweep.sweep_tab import SweepTab
from cragru_gui.window.presentation import Presentation
from cragru_gui.window.run_bar import RunBar


def build_setup(self) -> QWidget:
    """The left side: Dataset / Forget / Method tabs and the run bar."""
    self.dataset_panel = DatasetPanel(self.workspace)
    self.forget_panel = ForgetPanel(self.workspace)
    self.method_panel = MethodPanel(self.tasks)
    self.setup_tabs = PageTabs()
    self.setup_tabs.setObjectName("setupTabs")
    for panel, title, tip in (
        (self.dataset_panel, "1 · Dataset", "Which data the recommender learns from"),
        (self.forget_panel, "2 · Forget", "What must be forgotten (users, items or interactions), on which split"),
        (self.method_panel, "3 · Method", "How to forget it, with which base model, on which device"),
    ):
        self.setup_tabs.addTab(panel, title)
        self.setup_tabs.setTabToolTip(self.setup_tabs.count() - 1, tip)
    self.run_bar = RunBar()
    left = QWidget()
    layout = QVBoxLayout(left)
    layout.setContentsMargins(6, 6, 3, 6)
    layout.addWidget(self.setup_tabs, 1)
    layout.addWidget(self.run_bar)
    return left


def build_output(self) -> QWidget:
    """The right side: the story line over Verdict / Charts / Results / Inspector / History / Log."""
    self.charts = MetricsChart()
    self.verdict_view = VerdictView()
    self.results_view = ResultsView()
    self.inspector = UserInspector()
    from cragru_gui.inspector.affected_view import AffectedTab  # reads the Inspector's run when shown

    self.affected_view = AffectedTab(self.inspector, lambda: self.output_tabs.setCurrentWidget(self.inspector))
    self.history_panel = HistoryPanel(self.store_factory)
    self.sweep_tab = SweepTab(self.tasks, self.workspace, self.store_factory, self.history_panel.refresh)
    self.log_view = QPlainTextEdit()
    self.log_view.setObjectName("logView")
    self.log_view.setReadOnly(True)
    self.log_view.setMaximumBlockCount(5000)
    self.log_view.setToolTip("What the engine reported, with times")
    self.output_tabs = PageTabs()
    self.output_tabs.setObjectName("outputTabs")
    for widget, title, tip in (
        (self.verdict_view, "Verdict", "Per method: is the data forgotten, who else was affected, what did it cost"),
        (self.charts, "Charts", "Live training curves and, per model, utility, memory, attack and cost"),
        (self.results_view, "Results", "Every metric, with differences against base and retrain"),
        (self.inspector, "Inspector", "One user's top-10 before and after unlearning"),
        (self.affected_view, "Who was affected", "Every measure by age, gender, occupation and activity; a map"),
        (self.history_panel, "History", "Past runs: open, compare, delete"),
        (self.sweep_tab, "Sweep", "Many experiments: request sizes × methods × seeds on Ray, and request streams"),
        (self.log_view, "Log", "Messages from the run"),
    ):
        self.output_tabs.addTab(widget, title)
        self.output_tabs.setTabToolTip(self.output_tabs.count() - 1, tip)
    right = QWidget()
    layout = QVBoxLayout(right)
    layout.setContentsMargins(3, 6, 6, 6)
    self.story = QLabel()
    self.story.setObjectName("storyLine")
    self.story.setProperty("role", "info")
    self.story.setWordWrap(True)
    self.story.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    self.presentation = Presentation(self)
    layout.addWidget(self.presentation.strip)
    layout.addWidget(_story_scroll(self.story))
    layout.addWidget(self.output_tabs, 1)
    return right


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


def make_menus(self) -> None:
    """File, Run, View and Help menus; every shortcut shown beside its command."""

    def action(text: str, slot, shortcut=None) -> QAction:
        made = QAction(text, self)
        made.triggered.connect(slot)
        if shortcut is not None:
            made.setShortcut(shortcut)
        return made

    file_menu = self.menuBar().addMenu("&File")
    file_menu.addAction(action("Open the &demo dataset", lambda: self.load_dataset({"path": "demo"})))
    file_menu.addAction(action("Open dataset &folder…", self.dataset_panel.choose_folder, QKeySequence("Ctrl+Shift+O")))
    file_menu.addAction(action("&Open dataset file…", self.dataset_panel.choose_file, QKeySequence.StandardKey.Open))
    file_menu.addSeparator()
    self.export_action = action("&Export report (HTML or PDF)…", lambda: self.export_report(), QKeySequence("Ctrl+E"))
    self.export_action.setEnabled(False)
    file_menu.addAction(self.export_action)
    self.receipt_action = action("Save &receipt…", lambda: self.save_receipt(), QKeySequence("Ctrl+Shift+E"))
    self.receipt_action.setEnabled(False)
    file_menu.addAction(self.receipt_action)
    file_menu.addSeparator()
    file_menu.addAction(action("Method &plug-ins…", lambda: add_plugin(self)))
    file_menu.addSeparator()
    file_menu.addAction(action("&Quit", self.close, QKeySequence.StandardKey.Quit))
    run_menu = self.menuBar().addMenu("&Run")
    self.start_action = action("&Start", self.start_run, QKeySequence("F5"))
    self.cancel_action = action("&Cancel", self.cancel_run, QKeySequence(CANCEL_KEY))  # Esc leaves full screen
    run_menu.addActions([self.start_action, self.cancel_action])
    view_menu = self.menuBar().addMenu("&View")
    next_tab = action("&Next tab", lambda: _step_tab(self.output_tabs, 1), QKeySequence("Ctrl+PgDown"))
    next_tab.setShortcuts([QKeySequence("Ctrl+PgDown"), QKeySequence("Ctrl+Tab")])
    previous_tab = action("&Previous tab", lambda: _step_tab(self.output_tabs, -1), QKeySequence("Ctrl+PgUp"))
    previous_tab.setShortcuts([QKeySequence("Ctrl+PgUp"), QKeySequence("Ctrl+Shift+Tab")])
    self.presentation_action = action(
        "&Presentation mode", lambda on: self.presentation.toggle(on), QKeySequence("F11")
    )
    self.presentation_action.setCheckable(True)
    self.leave_presentation_action = action("&Leave presentation mode", lambda: self.presentation.toggle(False))
    self.leave_presentation_action.setShortcut(QKeySequence("Esc"))
    self.leave_presentation_action.setEnabled(False)  # only while presenting: Esc means nothing else
    view_menu.addActions([next_tab, previous_tab])
    view_menu.addSeparator()
    for i, (key, words) in enumerate((("Ctrl+1", "&Dataset"), ("Ctrl+2", "&Forget"), ("Ctrl+3", "&Method"))):
        view_menu.addAction(action(f"{words} set-up tab", lambda _=False, i=i: _show_setup(self, i), QKeySequence(key)))
    view_menu.addSeparator()
    view_menu.addActions([self.presentation_action, self.leave_presentation_action])
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


CANCEL_KEY = "Shift+Esc"


def _show_setup(self, index: int) -> None:
    """Ctrl+1/2/3: that set-up tab, with the keyboard focus in it."""
    self.setup_tabs.setCurrentIndex(index)
    self.setup_tabs.currentWidget().setFocus(Qt.FocusReason.ShortcutFocusReason)


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
