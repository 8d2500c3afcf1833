"""Tick several methods at once (issue 23: there was no "tick all"): all, none, and presets
chosen by what each method declares about itself (``MethodSpec.capabilities``), never by name —
retraining, the reference every verdict needs, is ticked by every preset that ticks anything.

* Quick: the approximate methods (no LLM, not exact): seconds on the demo;
* Exact: the methods that are exact by construction (retraining, SISA, RecEraser…);
* LLM: the methods that ask a language model (CRAGRU, E2URec).

Controls (``control``) are never ticked by a preset: they check the verdicts, they are not
candidates.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton

PRESETS = {
    "All": lambda spec: True,
    "None": lambda spec: False,
    "Quick": lambda spec: not spec.has("uses_llm") and not spec.has("exact"),
    "Exact": lambda spec: spec.has("exact"),
    "LLM": lambda spec: spec.has("uses_llm"),
}
TIPS = {
    "All": "Tick every unlearning method (controls stay as they are)",
    "None": "Untick every method",
    "Quick": "Retraining and the approximate methods without a language model: the quickest run",
    "Exact": "Retraining and the methods exact by construction (SISA, RecEraser…)",
    "LLM": "Retraining and the methods that ask a language model (CRAGRU, E2URec)",
}
REFERENCE = "exact"  # retraining: the exact method every preset keeps


def preset_names(panel, preset: str) -> list[str]:
    """The methods ``preset`` ticks among the panel's entries."""
    wanted = PRESETS[preset]
    names = [n for n, e in panel.entries.items() if not e.spec.has("control") and wanted(e.spec)]
    if names and preset != "None" and "retrain" in panel.entries and "retrain" not in names:
        names.insert(0, "retrain")
    return names


def apply_preset(panel, preset: str) -> list[str]:
    """Tick exactly the preset's methods (controls untouched except by None); returns them."""
    names = preset_names(panel, preset)
    for name, entry in panel.entries.items():
        if entry.spec.has("control") and preset != "None":
            continue
        entry.set_checked(name in names)
    return names


def preset_row(panel) -> QHBoxLayout:
    """ "Tick: All · None · Quick · Exact · LLM" buttons for ``panel`` (a MethodPanel)."""
    row = QHBoxLayout()
    row.setSpacing(4)
    row.addWidget(QLabel("Tick:"))
    panel.preset_buttons = {}
    for preset in PRESETS:
        button = QPushButton(preset)
        button.setObjectName(f"preset{preset}")
        button.setToolTip(TIPS[preset])
        button.setAccessibleName(
            f"Tick {preset.lower()} methods" if preset not in ("All", "None") else f"Tick {preset.lower()}"
        )
        button.setAutoDefault(False)
        button.clicked.connect(lambda _=False, p=preset: apply_preset(panel, p))
        row.addWidget(button)
        panel.preset_buttons[preset] = button
    row.addStretch(1)
    return row
