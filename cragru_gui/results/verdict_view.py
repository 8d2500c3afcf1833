"""The Verdict tab: the first thing shown when a run ends. One card per unlearning method
with three plain questions — is the data forgotten, who else was affected, what did it
cost — each a traffic light, a word (so colour is never the only cue) and one sentence
naming its evidence; "Evidence" opens the figures each answer rests on.

Every light and every word comes from :func:`core.reporting.verdicts.verdicts`; this
module decides nothing, it lays the answers out.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.reporting.people_tests import named_request_lines
from core.reporting.verdicts import LIGHT_COLOURS, LIGHT_WORDS, MethodVerdict, Verdict, verdicts
from cragru_gui.common.glossary import HelpButton
from cragru_gui.common.run_notes import result_forgotten_users, sample_note

WAITING = (
    "The verdict appears here when a run ends: for each method, is the data forgotten, who else was "
    "affected, and what did it cost."
)
NO_METHOD = (
    "This run has no unlearning method to judge — only the original and the retrained model (the "
    "target) ran. Tick a method in the Method panel and start again."
)
HELP = (
    "Each card answers three questions about one unlearning method, always against the retrained model — a "
    "model trained again without the forgotten data, the gold standard. "
    f"Green = {LIGHT_WORDS['green']}, amber = {LIGHT_WORDS['amber']}, red = {LIGHT_WORDS['red']}, grey = "
    f"{LIGHT_WORDS['grey']}, blue = {LIGHT_WORDS['level']} (cost only: within retraining's own timing noise). "
    "When a figure's 95 % interval is wider than its tolerance there are not enough "
    "users to tell, and the card says so rather than guess. With a reference ensemble every figure is judged "
    "against how much retrainings with other seeds already differ. Is the data forgotten? reads what the model still "
    "recommends of the removed data, the membership attacks and, with a reference ensemble, a test for each "
    "forgotten person. Who else was affected? counts the people who "
    "asked for nothing whose recommendations or ranking quality changed. What did it cost? adds the one-off "
    "set-up to the time for this request and sets the total against retraining's. “Evidence” lists the "
    "figures behind each answer; the Results tab has every figure."
)


class TrafficLight(QLabel):
    """A coloured disc with its word beside it ("pass", "partly", "fail", "can't tell")."""

    def __init__(self, light: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.light = light
        self.setObjectName("trafficLight")
        self.setText(
            f"<span style='color:{LIGHT_COLOURS[light]}; font-size:20px'>●</span>&nbsp;"
            f"<b>{html.escape(LIGHT_WORDS[light], quote=False)}</b>"
        )
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("●  can't tell") + 12)
        self.setAccessibleName(f"verdict: {LIGHT_WORDS[light]}")


class VerdictCard(QFrame):
    """One method: its name, then the three answers; evidence behind a toggle."""

    def __init__(self, verdict: MethodVerdict, sample: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict = verdict
        self.setObjectName("verdictCard")
        self.setProperty("role", "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        head = QHBoxLayout()
        title = QLabel(f"<b>{html.escape(verdict.label)}</b> <span style='color:#5d6878'>({verdict.model})</span>")
        title.setObjectName("verdictTitle")
        title.setWordWrap(True)  # a long method name must not make the card wider than a small screen
        head.addWidget(title, 1)
        if sample or verdict.sampled:
            badge = QLabel(
                f"measured on a user sample — {html.escape(sample)}" if sample else "measured on a user sample"
            )
            badge.setObjectName("sampleBadge")
            badge.setProperty("role", "hint")
            badge.setWordWrap(True)
            head.addWidget(badge, 1)
        head.addStretch(0)
        self.evidence_button = QToolButton(self)
        self.evidence_button.setObjectName("evidenceButton")
        self.evidence_button.setText("Evidence")
        self.evidence_button.setCheckable(True)
        self.evidence_button.setToolTip("Show the figures each answer rests on")
        head.addWidget(self.evidence_button)
        layout.addLayout(head)
        self.rows = QGridLayout()
        self.rows.setHorizontalSpacing(10)
        self.rows.setColumnStretch(2, 1)
        self.lights: list[TrafficLight] = []
        self.sentences: list[QLabel] = []
        self.evidence: list[QLabel] = []
        for row, answer in enumerate(verdict.answers):
            self._answer(row, answer)
        layout.addLayout(self.rows)
        self.evidence_button.toggled.connect(self._show_evidence)
        self._show_evidence(False)

    def _answer(self, row: int, answer: Verdict) -> None:
        light = TrafficLight(answer.light, self)
        question = QLabel(f"<b>{html.escape(answer.question)}</b>", self)
        question.setWordWrap(True)  # large type (presentation) on a small screen: the question wraps, the card fits
        sentence = QLabel(answer.sentence, self)
        sentence.setTextFormat(Qt.TextFormat.PlainText)
        sentence.setObjectName("verdictSentence")
        sentence.setWordWrap(True)
        sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        evidence = QLabel("<br>".join("· " + html.escape(line) for line in answer.evidence) or "· no figure", self)
        evidence.setProperty("role", "hint")
        evidence.setWordWrap(True)
        evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = Qt.AlignmentFlag.AlignTop
        self.rows.addWidget(light, 2 * row, 0, top)
        self.rows.addWidget(question, 2 * row, 1, top)
        self.rows.addWidget(sentence, 2 * row, 2, top)
        self.rows.addWidget(evidence, 2 * row + 1, 2)
        self.lights.append(light)
        self.sentences.append(sentence)
        self.evidence.append(evidence)

    def _show_evidence(self, shown: bool) -> None:
        for label in self.evidence:
            label.setVisible(shown)


class VerdictView(QWidget):
    """The tab (object name ``verdictView``): a heading, then one card per method."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictView")
        self.result = None
        self.cards: list[VerdictCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.heading = QLabel(WAITING, self)
        self.heading.setObjectName("verdictHeading")
        self.heading.setWordWrap(True)
        top.addWidget(self.heading, 1)
        self.help_button = HelpButton("The verdict", text=HELP, parent=self)
        top.addWidget(self.help_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.body = QWidget(self)
        self.body.setObjectName("verdictCards")
        self.card_layout = QVBoxLayout(self.body)
        self.card_layout.setContentsMargins(0, 0, 0, 0)
        self.people = QLabel("", self.body)  # each forgotten person's test, below the cards
        self.people.setObjectName("verdictPeople")
        self.people.setWordWrap(True)
        self.people.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.people.setToolTip(
            "For each forgotten person: do the model's scores for them look like those of models trained on "
            "them (the original model's seeds) or like models that never were (retraining's seeds)?"
        )
        self.people.hide()
        self.card_layout.addWidget(self.people)
        self.card_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)
        layout.addWidget(scroll, 1)

    def _drop_cards(self) -> None:
        for card in self.cards:
            self.card_layout.removeWidget(card)
            card.deleteLater()
        self.cards = []

    def clear(self, text: str = WAITING) -> None:
        self.result = None
        self._drop_cards()
        self.heading.setText(text)
        self.people.hide()

    def show_result(self, result) -> None:
        self._drop_cards()
        self.result = result
        found = verdicts(result)
        self.heading.setText(self._heading(result, found))
        for mv in found:
            card = VerdictCard(mv, sample_note(result.models[mv.model]), self.body)
            self.card_layout.insertWidget(self.card_layout.count() - 2, card)  # above the people
            self.cards.append(card)
        lines = named_request_lines(result)
        self.people.setText(_people_html(lines))
        self.people.setVisible(bool(lines))

    @staticmethod
    def _heading(result, found: list[MethodVerdict]) -> str:
        req = result.request
        text = (
            f"<b>Verdict</b> — forgot <b>{html.escape(str(req.get('description', '?')))}</b> "
            f"({req.get('n_removed_rows', 0):,} training interactions) from "
            f"<b>{html.escape(str(result.dataset.get('name', '?')))}</b>. Each method against the retrained "
            "model, the gold standard."
        )
        who = result_forgotten_users(result)
        text += f"<br><span style='color:#5d6878'>{html.escape(who)}</span>" if who else ""
        return text if found else text + "<br>" + NO_METHOD

    def answers(self) -> dict[str, list[tuple[str, str, str]]]:
        """model → [(question, light, sentence)] as shown (for tests and screenshots)."""
        return {
            card.verdict.model: [
                (v.question, light.light, s.text())
                for v, light, s in zip(card.verdict.answers, card.lights, card.sentences)
            ]
            for card in self.cards
        }


def _people_html(lines: list[str]) -> str:
    """The per-person lines: the heading bold, each model's group result, its people indented."""
    if not lines:
        return ""
    head, *rest = lines
    rows = [
        f"<div style='margin-left:16px'>{html.escape(line.strip())}</div>"
        if line.startswith("  ")
        else _model_row(line)
        for line in rest
    ]
    return f"<b>{html.escape(head)}</b>" + "".join(rows)


def _model_row(line: str) -> str:
    """``Model — group result``: the model's name in bold, a little space above it."""
    model, sep, rest = line.partition(" — ")
    return f"<div style='margin-top:6px'><b>{html.escape(model)}</b>{html.escape(sep + rest)}</div>"
