"""A form generated from a :class:`~core.params.ParamSpec` list (a method's parameters,
the base model's, the split's, the run's).

int → QSpinBox, float → QDoubleSpinBox, bool → QCheckBox, choices → QComboBox (showing
the spec's choice labels), str → QLineEdit; the range comes from the spec, the tooltip is
its help text, and every value goes through ``ParamSpec.coerce`` (errors shown under the form).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from core.errors import ConfigError

INT_LIMIT = 2_000_000_000
FLOAT_LIMIT = 1e12


def _decimals(spec) -> int:
    """Enough decimals to show the default and the bounds (learning rates such as 1e-4)."""
    values = [v for v in (spec.default, spec.low, spec.high) if isinstance(v, (int, float)) and v]
    smallest = min((abs(v) for v in values), default=1.0)
    return max(3, min(8, int(math.ceil(-math.log10(smallest))) + 2)) if smallest < 1 else 3


def make_editor(spec, parent: QWidget | None = None) -> QWidget:
    if spec.choices:
        editor = QComboBox(parent)
        for choice in spec.choices:
            editor.addItem(spec.choice_label(choice), choice)
    elif spec.type is bool:
        editor = QCheckBox(spec.label, parent) if spec.label else QCheckBox(parent)
    elif spec.type is int:
        editor = QSpinBox(parent)
        editor.setRange(
            int(spec.low) if spec.low is not None else -INT_LIMIT,
            int(spec.high) if spec.high is not None else INT_LIMIT,
        )
    elif spec.type is float:
        editor = QDoubleSpinBox(parent)
        editor.setDecimals(_decimals(spec))
        tick = 10 ** -editor.decimals()  # an excluded bound is one displayed step inside
        editor.setRange(
            float(spec.low) + (tick if spec.low_open else 0) if spec.low is not None else -FLOAT_LIMIT,
            float(spec.high) - (tick if spec.high_open else 0) if spec.high is not None else FLOAT_LIMIT,
        )
        step = abs(spec.default) / 10 if spec.default else 10 ** -min(editor.decimals(), 3)
        editor.setSingleStep(step)
    else:
        editor = QLineEdit(parent)
    bounds = ""
    if spec.type in (int, float) and (spec.low is not None or spec.high is not None):
        bounds = f" (range {spec.range_text()})"
    editor.setToolTip(f"{spec.help}{bounds}\ndefault: {spec.default}")
    editor.setObjectName(f"param_{spec.name}")
    set_editor_value(editor, spec, spec.default)
    return editor


def editor_value(editor: QWidget, spec):
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QSpinBox):
        return editor.value()
    if isinstance(editor, QDoubleSpinBox):
        return editor.value()
    return editor.text()


def set_editor_value(editor: QWidget, spec, value) -> None:
    value = spec.coerce(value)
    if isinstance(editor, QComboBox):
        editor.setCurrentIndex(max(0, editor.findData(value)))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        editor.setValue(value)
    else:
        editor.setText(str(value))


def _changed_signal(editor: QWidget):
    if isinstance(editor, QComboBox):
        return editor.currentIndexChanged
    if isinstance(editor, QCheckBox):
        return editor.toggled
    if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
        return editor.valueChanged
    return editor.textChanged


class ParamForm(QWidget):
    """Inputs for a list of ParamSpecs; ``values()`` returns coerced values or raises."""

    changed = Signal()

    def __init__(self, specs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = tuple(specs)
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for spec in self.specs:
            editor = make_editor(spec, self)
            if isinstance(editor, QCheckBox) and spec.label:  # the box carries its own label
                layout.addRow(editor)
            else:
                words = spec.label or spec.name.replace("_", " ")
                label = QLabel(words + ":", self)
                label.setToolTip(spec.help)
                label.setBuddy(editor)
                editor.setAccessibleName(words)  # what a screen reader announces (issue 23)
                layout.addRow(label, editor)
            editor.setAccessibleDescription(spec.help)
            self.editors[spec.name] = editor
            _changed_signal(editor).connect(self._on_changed)
        self.more_button: QToolButton | None = None
        self._folded: list[str] = []
        self.error_label = QLabel(self)
        self.error_label.setProperty("role", "banner")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addRow(self.error_label)

    def fold(self, featured) -> None:
        """Show only the ``featured`` fields, with a "more…" button for the rest (issue 23: each
        ticked method opened a form of up to 30 fields). Nothing folds when few would hide."""
        featured = [spec.name for spec in self.specs if spec.name in set(featured)]
        hidden = [spec.name for spec in self.specs if spec.name not in featured]
        if len(hidden) < 2 or self.more_button is not None:
            return
        self._folded = hidden
        layout = self.layout()
        self.more_button = QToolButton(self)
        self.more_button.setObjectName("moreFields")
        self.more_button.setCheckable(True)
        self.more_button.setAccessibleName("Show every parameter")
        self.more_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.more_button.toggled.connect(self._unfold)
        layout.insertRow(layout.rowCount() - 1, self.more_button)
        self._unfold(False)

    def _unfold(self, show: bool) -> None:
        layout = self.layout()
        for name in self._folded:
            layout.setRowVisible(self.editors[name], show)
        n = len(self._folded)
        self.more_button.setText(f"fewer (hide {n})" if show else f"more… ({n} more parameters)")

    def _on_changed(self, *_args) -> None:
        self.errors()
        self.changed.emit()

    def raw_values(self) -> dict:
        return {spec.name: editor_value(self.editors[spec.name], spec) for spec in self.specs}

    def values(self) -> dict:
        """Every value through ``ParamSpec.coerce``; raises ConfigError naming the first bad one."""
        return {spec.name: spec.coerce(editor_value(self.editors[spec.name], spec)) for spec in self.specs}

    def errors(self) -> list[str]:
        problems = []
        for spec in self.specs:
            try:
                spec.coerce(editor_value(self.editors[spec.name], spec))
            except ConfigError as exc:
                problems.append(str(exc))
        self.error_label.setText("\n".join(problems))
        self.error_label.setVisible(bool(problems))
        return problems

    def set_values(self, values: dict) -> None:
        """Set the known names (ignoring unknown ones and values the spec refuses)."""
        for spec in self.specs:
            if spec.name in values:
                try:
                    set_editor_value(self.editors[spec.name], spec, values[spec.name])
                except ConfigError:
                    pass

    def reset(self) -> None:
        self.set_values({spec.name: spec.default for spec in self.specs})
