"""Method panel: the registered unlearning methods, their generated forms, base model and device.

Everything here is generated from specs: the methods from the registry (``list_methods()``)
and their ParamSpecs, the base model from :data:`core.models.base.MODEL_PARAMS`, the device,
cache and attack switches from :data:`core.config.RUN_PARAMS`, the number of split seeds from
:data:`core.seeds.SEEDS_PARAM`, the reference ensemble's size from
:data:`core.references.settings.REFERENCES_PARAM`. No method is special-cased.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from core.config import RUN_PARAMS, MethodChoice
from core.errors import ConfigError
from core.models.base import MODEL_PARAMS, ModelConfig, model_config
from core.params import spec_named
from core.references.settings import REFERENCES_PARAM
from core.seeds import SEEDS_PARAM
from cragru_gui.common.param_form import ParamForm
from cragru_gui.panels.method_presets import preset_row
from cragru_gui.worker import TaskRunner

MODEL_FIELDS = ("name", "epochs", "dim")  # the base-model settings the window offers
RUN_FIELDS = ("use_cache", "mia")


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
        self.form.fold(featured_fields(spec))  # the fields that matter first, "more…" for the rest
        self.form.setVisible(False)
        self.preset_note = QLabel(self)
        self.preset_note.setObjectName(f"presetNote_{spec.name}")
        self.preset_note.setWordWrap(True)
        self.preset_note.setProperty("role", "hint")
        self.preset_note.hide()
        self.demo_preset = False
        if spec.params:
            layout.addWidget(self.preset_note)
            layout.addWidget(self.form)
        self.checkbox.toggled.connect(self._on_toggled)

    def _on_toggled(self, checked: bool) -> None:
        self.form.setVisible(checked and bool(self.spec.params))
        self.preset_note.setVisible(checked and self.demo_preset and bool(self.spec.demo_changes()))
        self.toggled.emit(checked)

    def use_demo_preset(self, demo: bool) -> None:
        """Switch the preset-bearing fields to the demo preset (built-in demo) or back to the
        standard defaults, and say which fields the preset changed."""
        changes = self.spec.demo_changes()
        if demo == self.demo_preset or not changes:
            self.demo_preset = demo
            return
        self.demo_preset = demo
        self.form.set_values({name: (pair[1] if demo else pair[0]) for name, pair in changes.items()})
        labels = {p.name: p.label or p.name for p in self.spec.params}
        shown = lambda v: ("on" if v else "off") if isinstance(v, bool) else v  # noqa: E731 - words, not True/False
        listed = "; ".join(f"{labels[n]} {shown(d)} (standard {shown(s)})" for n, (s, d) in changes.items())
        self.preset_note.setText(
            f"Demo preset — sized so this method runs live on a laptop CPU: {listed}. "
            "Other datasets use the standard values."
        )
        self.preset_note.setVisible(demo and self.is_checked())

    def is_checked(self) -> bool:
        return self.checkbox.isChecked()

    def set_checked(self, checked: bool) -> None:
        self.checkbox.setChecked(checked)


def featured_fields(spec, fallback: int = 3) -> list[str]:
    """The fields a method's form shows before "more…": those its demo preset changes, else its first three."""
    changed = list(spec.demo_changes())
    return changed or [p.name for p in spec.params[:fallback]]


def _list_methods():
    from core.methods.registry import list_methods

    return list_methods()


class MethodPanel(QWidget):
    changed = Signal()
    methodsLoaded = Signal()

    def __init__(self, tasks: TaskRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("methodPanel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        model_box = QGroupBox("Base recommender", self)
        model_box.setToolTip("The model trained on all data (base); retraining and most methods reuse it.")
        box = QVBoxLayout(model_box)
        self.model_form = ParamForm([spec_named(MODEL_PARAMS, n) for n in MODEL_FIELDS], model_box)
        self.run_form = ParamForm([spec_named(RUN_PARAMS, n) for n in RUN_FIELDS], model_box)
        self.seeds_form = ParamForm([SEEDS_PARAM], model_box)
        self.seeds_spin = self.seeds_form.editors["seeds"]
        self.references_form = ParamForm([REFERENCES_PARAM], model_box)
        self.references_spin = self.references_form.editors["references"]
        box.addWidget(self.model_form)
        box.addWidget(self.run_form)
        box.addWidget(self.seeds_form)
        box.addWidget(self.references_form)
        outer.addWidget(model_box)
        device_box = QGroupBox("Device", self)
        self.device_form = ParamForm([spec_named(RUN_PARAMS, "device")], device_box)
        QVBoxLayout(device_box).addWidget(self.device_form)
        self.device_combo = self.device_form.editors["device"]
        _name_the_gpu(self.device_combo)
        outer.addWidget(device_box)
        outer.addWidget(self._methods_box(), 1)
        for form in (self.model_form, self.run_form, self.seeds_form, self.references_form, self.device_form):
            form.changed.connect(self.changed.emit)
        if "core.methods" in sys.modules:
            self._populate(_list_methods())
        else:  # importing every method (LLM libraries included) can take seconds: off the UI thread
            self._tasks = tasks or TaskRunner(self)
            self._tasks.start(
                "methods", lambda task: _list_methods(), on_done=self._populate, on_error=self._methods_failed
            )

    def _methods_box(self) -> QGroupBox:
        methods_box = QGroupBox("Unlearning methods (tick one or more)", self)
        methods_box.setToolTip(
            "Every ticked method unlearns the same request in one run; retraining is the "
            "reference the others are compared with"
        )
        box_layout = QVBoxLayout(methods_box)
        box_layout.setContentsMargins(2, 2, 2, 2)
        box_layout.addLayout(preset_row(self))  # tick all / none / quick / exact / LLM
        scroll = QScrollArea(methods_box)
        scroll.setMinimumHeight(220)  # on a small screen the page scrolls to it rather than squeezing it to a line
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget(scroll)
        holder.setObjectName("methodList")
        self._methods_layout = QVBoxLayout(holder)
        self._methods_layout.setContentsMargins(0, 0, 0, 0)
        self._holder = holder
        self.entries: dict[str, MethodEntry] = {}
        self.controls_label: QLabel | None = None
        self.methods_ready = False
        self._pending_state: dict | None = None
        self._demo_preset = False
        self.loading_label = QLabel("Loading the unlearning methods…", holder)
        self.loading_label.setProperty("role", "hint")
        self._methods_layout.addWidget(self.loading_label)
        self._methods_layout.addStretch(1)
        scroll.setWidget(holder)
        box_layout.addWidget(scroll)
        return methods_box

    # -- the registry ---------------------------------------------------------------------------
    def _populate(self, specs) -> None:
        self.loading_label.hide()
        self._add_entries(specs)
        if "retrain" in self.entries:
            self.entries["retrain"].set_checked(True)
        self.methods_ready = True
        logging.getLogger("cragru_gui").info(
            "%d unlearning methods available: %s", len(self.entries), ", ".join(self.entries)
        )
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.restore(state)
        self.use_demo_preset(self._demo_preset)
        self.methodsLoaded.emit()
        self.changed.emit()

    def _add_entries(self, specs) -> None:
        for spec in specs:
            if spec.has("control") and self.controls_label is None:  # controls listed apart, last
                self.controls_label = QLabel(
                    "<b>Controls</b> — not unlearning methods: their right answer is known, so they show whether "
                    "the verdicts can be trusted (a second retraining should pass, the others fail)",
                    self._holder,
                )
                self.controls_label.setWordWrap(True)
                self.controls_label.setProperty("role", "hint")
                self._methods_layout.insertWidget(self._methods_layout.count() - 1, self.controls_label)
            entry = MethodEntry(spec, self._holder)
            entry.toggled.connect(self._entry_toggled)
            entry.form.changed.connect(self.changed.emit)
            self._methods_layout.insertWidget(self._methods_layout.count() - 1, entry)
            self.entries[spec.name] = entry

    def add_methods(self, specs) -> None:
        """Methods registered after the list was built (a plug-in added from the window)."""
        self._add_entries([spec for spec in specs if spec.name not in self.entries])
        for spec in specs:
            self.entries[spec.name].use_demo_preset(self._demo_preset)
        self.changed.emit()

    def use_demo_preset(self, demo: bool) -> None:
        """The built-in demo takes every method's demo preset; other data the standard defaults."""
        self._demo_preset = demo
        for entry in self.entries.values():
            entry.use_demo_preset(demo)
        other = REFERENCES_PARAM.default_for(not demo)
        if self.n_references() == other:  # still the other data's default: follow the data
            self.references_form.set_values({"references": REFERENCES_PARAM.default_for(demo)})

    def _entry_toggled(self, _checked: bool) -> None:
        self.changed.emit()

    def _methods_failed(self, exc: BaseException) -> None:
        from cragru_gui import errors

        self.loading_label.setText(f"The unlearning methods could not be loaded: {errors.user_message(exc)}")
        self.loading_label.setProperty("role", "banner")
        errors.report_exception(self, exc, "Cannot load the unlearning methods")

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

    def selected_labels(self) -> list[str]:
        return [self.entries[name].spec.label for name in self.selected_methods()]

    def model_config(self, base: ModelConfig | None = None) -> ModelConfig:
        """The form's fields over ``base``, or over the chosen model's registered defaults."""
        values = self.model_form.values()
        return replace(base, **values) if base is not None else model_config(**values)

    def run_settings(self) -> dict:
        """``device``, ``use_cache``, ``mia`` and ``references`` of :class:`core.config.ExperimentConfig`."""
        return {**self.device_form.values(), **self.run_form.values(), "references": self.n_references()}

    def n_references(self) -> int:
        """The reference ensemble's size R (0: no ensemble)."""
        return int(self.references_form.values()["references"])

    def n_seeds(self) -> int:
        """How many split seeds the run repeats the experiment over (1: a single run)."""
        return int(self.seeds_form.values()["seeds"])

    # -- settings --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "base": self.model_form.raw_values(),
            "run": {**self.device_form.raw_values(), **self.run_form.raw_values()},
            "seeds": self.seeds_form.raw_values(),
            "references": self.references_form.raw_values(),
            "methods": {
                name: {"checked": e.is_checked(), "params": e.form.raw_values()} for name, e in self.entries.items()
            },
        }

    def restore(self, state: dict) -> None:
        if not state:
            return
        if not self.methods_ready:
            self._pending_state = state
        self.model_form.set_values(state.get("base") or {})
        run = dict(state.get("run") or {})
        index = self.device_combo.findData(run.pop("device", None))
        if index >= 0 and self.device_combo.model().item(index).isEnabled():
            self.device_combo.setCurrentIndex(index)
        self.run_form.set_values(run)
        self.seeds_form.set_values(state.get("seeds") or {})
        self.references_form.set_values(state.get("references") or {})
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
        self.model_form.set_values({"epochs": epochs})

    def check_only(self, *names: str) -> None:
        for name, entry in self.entries.items():
            entry.set_checked(name in names)


def _name_the_gpu(combo) -> None:
    """Say which GPU ``auto`` and ``cuda`` mean here; ``cuda`` is disabled without one."""
    gpu = _gpu_name()
    combo.setItemText(combo.findData("auto"), f"Automatic ({'GPU: ' + gpu if gpu else 'CPU'})")
    cuda = combo.findData("cuda")
    combo.setItemText(cuda, f"GPU: {gpu}" if gpu else "GPU (none detected)")
    if not gpu:
        item = combo.model().item(cuda)
        item.setEnabled(False)
        item.setToolTip("torch sees no CUDA GPU on this machine")
