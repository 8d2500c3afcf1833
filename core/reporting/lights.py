"""The verdicts' lights, words and answer types (shared by :mod:`core.reporting.verdicts` and the
modules that answer each question)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

GREEN, AMBER, RED, GREY, LEVEL = "green", "amber", "red", "grey", "level"
LIGHTS = (GREEN, AMBER, RED, GREY, LEVEL)
LIGHT_WORDS = {GREEN: "pass", AMBER: "partly", RED: "fail", GREY: "can't tell", LEVEL: "about the same"}
"""``level`` is the cost's own word: "about the same as retraining" (within the timing noise) is
neither a saving (pass) nor a loss (fail)."""
LIGHT_COLOURS = {GREEN: "#2e9d4f", AMBER: "#e0a100", RED: "#d0453a", GREY: "#8a94a3", LEVEL: "#4f7fb8"}
FORGOTTEN, AFFECTED, COST = "Is the data forgotten?", "Who else was affected?", "What did it cost?"
QUESTIONS = (FORGOTTEN, AFFECTED, COST)
UNSURE_WORDS = "not enough users to tell"
NO_ENSEMBLE = (
    "no reference ensemble in this run (references 0): judged against the one retraining with the catalogue's "
    "tolerance; retraining's own seed noise is not measured (cragru-run --references R)"
)


@dataclass(frozen=True)
class Verdict:
    """One answer: the question, its light, one sentence, and the evidence lines it rests on."""

    question: str
    light: str
    sentence: str
    evidence: tuple[str, ...] = ()

    @property
    def word(self) -> str:
        return LIGHT_WORDS[self.light]


@dataclass(frozen=True)
class MethodVerdict:
    """A method's three answers (a card in the window, a block in the report and the CLI)."""

    model: str
    label: str
    forgotten: Verdict
    affected: Verdict
    cost: Verdict
    sampled: bool = False  # measured on a user sample

    @property
    def answers(self) -> tuple[Verdict, Verdict, Verdict]:
        return self.forgotten, self.affected, self.cost

    def as_dict(self) -> dict:
        return asdict(self)
