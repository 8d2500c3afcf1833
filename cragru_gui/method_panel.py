"""Method panel: the registered unlearning methods, their generated forms, base model and device.

Everything here comes from the registry (``list_methods()``) and each method's
ParamSpecs: no method is special-cased.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config import MethodChoice
from core.errors import ConfigError
from core.models.base import ModelConfig
from cragru_gui.param_form import ParamForm

BASE_MODELS = (("bpr", "BPR-MF (matrix factorisation)"), ("lightgcn", "LightGCN (graph convolution)"))


def _gpu_name() -> str | None:
    try:
        from core.device import gpu_name

        return gpu_name()
    except Exception:  # a broken CUDA install must not stop the window
        return None


class MethodEntry(QFrame):
    """One method: a checkbox with its label, its description and its parameter form."""

    toggled = Signal(bool)

    def __init__(self, spec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"method_{spec.name}")
        self.setProperty("role", "methodEntry")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(3)
        self.checkbox = QCheckBox(spec.label, self)
        self.checkbox.setObjectName(f"methodCheck_{spec.name}")
        self.checkbox.setToolTip(f"{spec.name}: {spec.description}")
        font = self.checkbox.font()
        font.setBold(True)
        self.checkbox.setFont(font)
        layout.addWidget(self.checkbox)
        family = f" [{spec.family}]" if getattr(spec, "family", "") else ""
        self.description = QLabel(spec.description + family, self)
        self.description.setWordWrap(True)
        self.description.setProperty("role", "hint")
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.description)
        self.form = ParamForm(spec.params, self)
        self.form.setVisible(False)
        if spec.params:
            layout.addWidget(self.form)
        self.checkbox.toggled.connect(self._on_toggled)

    def _on_toggled(self, checked: bool) -> None:
        self.form.setVisible(checked and bool(self.spec.params))
        self.toggled.emit(checked)

    def is_checked(self) -> bool:
        return self.checkbox.isChecked()

    def set_checked(self, checked: bool) -> None:
        self.checkbox.setChecked(checked)


def _list_methods():
    from core.methods.registry import list_methods

    return list_methods()


class MethodPanel(QWidget):
    changed = Signal()
    methodsLoaded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("methodPanel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)

        # -- base model --------------------------------------------------------------
        model_box = QGroupBox("Base recommender", self)
        model_box.setToolTip("The model trained on all data (base); retraining and most methods reuse it.")
        form = QFormLayout(model_box)
        self.model_combo = QComboBox(model_box)
        self.model_combo.setObjectName("baseModelCombo")
        for name, label in BASE_MODELS:
            self.model_combo.addItem(label, name)
        self.model_combo.setToolTip("Architecture of the base model; retraining uses the same one")
        form.addRow("Model:", self.model_combo)
        defaults = ModelConfig()
        self.epochs_spin = QSpinBox(model_box)
        self.epochs_spin.setObjectName("epochsSpin")
        self.epochs_spin.setRange(1, 100_000)
        self.epochs_spin.setValue(defaults.epochs)
        self.epochs_spin.setToolTip(
            "Maximum training epochs of the base model (and of retraining). Training stops "
            f"earlier when validation NDCG@10 has not improved for {defaults.patience} epochs.")
        form.addRow("Max epochs:", self.epochs_spin)
        self.dim_spin = QSpinBox(model_box)
        self.dim_spin.setRange(1, 4096)
        self.dim_spin.setValue(defaults.dim)
        self.dim_spin.setToolTip("Embedding size of users and items")
        form.addRow("Embedding size:", self.dim_spin)
        self.cache_check = QCheckBox("Reuse a cached base model", model_box)
        self.cache_check.setChecked(True)
        self.cache_check.setToolTip("Skip training the base model when the same one (same data, split and "
                                    "settings) was trained before")
        form.addRow(self.cache_check)
        self.mia_check = QCheckBox("Membership-inference attack", model_box)
        self.mia_check.setChecked(True)
        self.mia_check.setToolTip("Measure how well an attacker can tell forgotten users from users the model "
                                  "never saw (AUC; retraining ≈ 0.5)")
        form.addRow(self.mia_check)
        outer.addWidget(model_box)

        # -- device --------------------------------------------------------------------
        device_box = QGroupBox("Device", self)
        device_layout = QFormLayout(device_box)
        self.device_combo = QComboBox(device_box)
        self.device_combo.setObjectName("deviceCombo")
        gpu = _gpu_name()
        self.device_combo.addItem(f"Automatic ({'GPU: ' + gpu if gpu else 'CPU'})", "auto")
        self.device_combo.addItem("CPU", "cpu")
        self.device_combo.addItem(f"GPU: {gpu}" if gpu else "GPU (none detected)", "cuda")
        if not gpu:
            item = self.device_combo.model().item(2)
            item.setEnabled(False)
            item.setToolTip("torch sees no CUDA GPU on this machine")
        self.device_combo.setToolTip("Where models train and score: automatic picks the GPU when there is one")
        device_layout.addRow("Run on:", self.device_combo)
        outer.addWidget(device_box)

        # -- methods -----------------------------------------------------------------------
        methods_box = QGroupBox("Unlearning methods (tick one or more)", self)
        methods_box.setToolTip("Every ticked method unlearns the same request in one run; retraining is the "
                               "reference the others are compared with")
        box_layout = QVBoxLayout(methods_box)
        box_layout.setContentsMargins(2, 2, 2, 2)
        scroll = QScrollArea(methods_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget(scroll)
        holder.setObjectName("methodList")
        self._methods_layout = QVBoxLayout(holder)
        self._methods_layout.setContentsMargins(0, 0, 0, 0)
        self._holder = holder
        self.entries: dict[str, MethodEntry] = {}
        self.methods_ready = False
        self._pending_state: dict | None = None
        self._loader = None
        self.loading_label = QLabel("Loading the unlearning methods…", holder)
        self.loading_label.setProperty("role", "hint")
        self._methods_layout.addWidget(self.loading_label)
        self._methods_layout.addStretch(1)
        scroll.setWidget(holder)
        box_layout.addWidget(scroll)
        outer.addWidget(methods_box, 1)
        if "core.methods" in sys.modules:
            self._populate(_list_methods())
        else:  # importing every method (LLM libraries included) can take seconds: off the UI thread
            from cragru_gui.worker import FunctionWorker

            self._loader = FunctionWorker(_list_methods)
            self._loader.returned.connect(self._populate)
            self._loader.errored.connect(self._methods_failed)
            self._loader.start()

        for signal in (self.model_combo.currentIndexChanged, self.epochs_spin.valueChanged,
                       self.dim_spin.valueChanged, self.device_combo.currentIndexChanged,
                       self.cache_check.toggled, self.mia_check.toggled):
            signal.connect(lambda *_: self.changed.emit())

    # -- the registry ---------------------------------------------------------------------------
    def _populate(self, specs) -> None:
        if self._loader is not None:
            self._loader.wait(5000)
        self.loading_label.hide()
        for spec in specs:
            entry = MethodEntry(spec, self._holder)
            entry.toggled.connect(self._entry_toggled)
            entry.form.changed.connect(self.changed.emit)
            self._methods_layout.insertWidget(self._methods_layout.count() - 1, entry)
            self.entries[spec.name] = entry
        if "retrain" in self.entries:
            self.entries["retrain"].set_checked(True)
        self.methods_ready = True
        logging.getLogger("cragru_gui").info("%d unlearning methods available: %s", len(self.entries),
                                             ", ".join(self.entries))
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.restore(state)
        self.methodsLoaded.emit()
        self.changed.emit()

    def _entry_toggled(self, _checked: bool) -> None:
        self.changed.emit()

    def _methods_failed(self, exc: BaseException) -> None:
        from cragru_gui import errors

        self.loading_label.setText(f"The unlearning methods could not be loaded: {errors.user_message(exc)}")
        self.loading_label.setProperty("role", "banner")
        errors.report_exception(self, exc, "Cannot load the unlearning methods")

    def wait_for_methods(self, msecs: int = 60_000) -> bool:
        if self._loader is not None:
            return self._loader.wait(msecs)
        return True

    # -- reading ------------------------------------------------------------------------------
    def selected_methods(self) -> list[str]:
        return [name for name, entry in self.entries.items() if entry.is_checked()]

    def choices(self) -> tuple[MethodChoice, ...]:
        """The ticked methods with validated parameters; ConfigError when none or one is invalid."""
        chosen = []
        for name, entry in self.entries.items():
            if entry.is_checked():
                try:
                    chosen.append(MethodChoice(name, entry.form.values()))
                except ConfigError as exc:
                    raise ConfigError(f"{entry.spec.label}: {exc}") from None
        if not chosen:
            raise ConfigError("tick at least one unlearning method in the Method panel")
        return tuple(chosen)

    def model_config(self, base: ModelConfig | None = None) -> ModelConfig:
        base = base or ModelConfig()
        return replace(base, name=self.model_combo.currentData(), epochs=self.epochs_spin.value(),
                       dim=self.dim_spin.value())

    def device(self) -> str:
        return self.device_combo.currentData()

    def use_cache(self) -> bool:
        return self.cache_check.isChecked()

    def mia(self) -> bool:
        return self.mia_check.isChecked()

    # -- settings --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "model": self.model_combo.currentData(),
            "epochs": self.epochs_spin.value(),
            "dim": self.dim_spin.value(),
            "device": self.device(),
            "cache": self.use_cache(),
            "mia": self.mia(),
            "methods": {
                name: {"checked": e.is_checked(), "params": e.form.raw_values()} for name, e in self.entries.items()
            },
        }

    def restore(self, state: dict) -> None:
        if not state:
            return
        if not self.methods_ready:
            self._pending_state = state
        index = self.model_combo.findData(state.get("model"))
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        if isinstance(state.get("epochs"), int):
            self.epochs_spin.setValue(state["epochs"])
        if isinstance(state.get("dim"), int):
            self.dim_spin.setValue(state["dim"])
        index = self.device_combo.findData(state.get("device"))
        if index >= 0 and self.device_combo.model().item(index).isEnabled():
            self.device_combo.setCurrentIndex(index)
        self.cache_check.setChecked(bool(state.get("cache", True)))
        self.mia_check.setChecked(bool(state.get("mia", True)))
        methods = state.get("methods") or {}
        if isinstance(methods, dict):
            for name, entry in self.entries.items():
                saved = methods.get(name)
                if isinstance(saved, dict):
                    entry.form.set_values(saved.get("params") or {})
                    entry.set_checked(bool(saved.get("checked")))
        if not self.selected_methods() and "retrain" in self.entries:
            self.entries["retrain"].set_checked(True)

    def set_epochs(self, epochs: int) -> None:
        self.epochs_spin.setValue(epochs)

    def check_only(self, *names: str) -> None:
        for name, entry in self.entries.items():
            entry.set_checked(name in names)
