"""The Sweep tab's set-up: the grid a person builds by hand, turned into the same TOML-shaped
dict ``cragru-run sweep`` reads, so :func:`core.sweeps.grid.grid_from_dict` expands it.

The method list reuses the Method panel's :class:`~cragru_gui.panels.method_panel.MethodEntry`
(the registry's ParamSpec forms); base models, run switches and seeds come from their
specs too. Nothing here expands cells or runs anything: that is ``core``'s.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config import RUN_PARAMS, DataConfig, ExperimentConfig, MethodChoice
from core.errors import ConfigError
from core.forget_request import KINDS, SELECTORS
from core.models.base import MODEL_PARAMS
from core.params import spec_named
from core.split import SplitConfig
from core.sweeps.grid import Grid, grid_from_dict
from cragru_gui.common.param_form import ParamForm
from cragru_gui.panels.method_panel import MethodEntry

SIZED_SELECTORS = ("random", "core", "edge", "popular")  # the selectors that take a share, a size
DEFAULT_SIZES = "0.05, 0.1"
EXECUTOR_LABELS = (
    ("ray", "Ray (local cluster, or the address below)"),
    ("serial", "In this process, one cell after another"),
)


def request_kinds() -> list[str]:
    """``kind:selector`` pairs whose requests have a size (``users:random``, ``items:popular``...)."""
    return [f"{kind}:{sel}" for kind in KINDS for sel in SELECTORS[kind] if sel in SIZED_SELECTORS]


def parse_sizes(text: str) -> list[float]:
    """``"0.01, 0.02 0.05"`` → ``[0.01, 0.02, 0.05]``; every size a share strictly between 0 and 1."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        sizes = [float(p) for p in parts]
    except ValueError:
        raise ConfigError(f"request sizes must be numbers such as 0.05, 0.1; got {text!r}") from None
    if not sizes:
        raise ConfigError("give at least one request size, e.g. 0.05, 0.1")
    bad = [s for s in sizes if not 0.0 < s < 1.0]
    if bad:
        raise ConfigError(
            f"a request size is a share (of the users, items or interactions) strictly between 0 and 1, got {bad[0]}"
        )
    return list(dict.fromkeys(sizes))


def data_dict(data: DataConfig) -> dict:
    """The ``[data]`` table of a grid: the loaded dataset's settings."""
    out = {k: v for k, v in asdict(data).items() if v is not None}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


class SweepSetup(QWidget):
    """Request kind and sizes, methods, base models, seeds, where the cells run and where results go."""

    def __init__(self, default_out: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepSetup")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._request_box())
        layout.addWidget(self._model_box())
        self.methods_box = QGroupBox("Methods (each ticked one is a line on the plots)", self)
        self._methods_layout = QVBoxLayout(self.methods_box)
        self._methods_layout.setContentsMargins(2, 2, 2, 2)
        self.entries: dict[str, MethodEntry] = {}
        layout.addWidget(self.methods_box)
        layout.addWidget(self._where_box(default_out))
        layout.addStretch(1)

    def _request_box(self) -> QGroupBox:
        box = QGroupBox("Requests", self)
        form = QFormLayout(box)
        self.kind_combo = QComboBox(box)
        self.kind_combo.setObjectName("sweepKind")
        for kind in request_kinds():
            self.kind_combo.addItem(kind.replace(":", " — "), kind)
        self.kind_combo.setToolTip("What each request forgets and how it is chosen (as in the Forget panel)")
        self.sizes_edit = QLineEdit(DEFAULT_SIZES, box)
        self.sizes_edit.setObjectName("sweepSizes")
        self.sizes_edit.setToolTip(
            "Request sizes, shares of the users / items / interactions, separated by commas; "
            "the plots draw every figure against them"
        )
        form.addRow("Forget:", self.kind_combo)
        form.addRow("Sizes:", self.sizes_edit)
        return box

    def _model_box(self) -> QGroupBox:
        box = QGroupBox("Base models, seeds and run", self)
        layout = QVBoxLayout(box)
        names = spec_named(MODEL_PARAMS, "name")
        row = QHBoxLayout()
        self.model_checks: dict[str, QCheckBox] = {}
        for name in names.choices:
            check = QCheckBox(names.choice_label(name), box)
            check.setObjectName(f"sweepModel_{name}")
            check.setChecked(name == names.default)
            self.model_checks[name] = check
            row.addWidget(check)
        row.addStretch(1)
        layout.addLayout(row)
        self.model_form = ParamForm([spec_named(MODEL_PARAMS, n) for n in ("epochs", "dim")], box)
        self.run_form = ParamForm([spec_named(RUN_PARAMS, n) for n in ("device", "mia")], box)
        self.seeds_spin = QSpinBox(box)
        self.seeds_spin.setObjectName("sweepSeeds")
        self.seeds_spin.setRange(1, 50)
        self.seeds_spin.setValue(2)
        self.seeds_spin.setToolTip(
            "Every cell runs with seeds 0, 1, …: the plots show the mean and its 95 % "
            "interval over them (one seed: no interval)"
        )
        seeds = QFormLayout()
        seeds.addRow("Seeds:", self.seeds_spin)
        for part in (self.model_form, self.run_form):
            layout.addWidget(part)
        layout.addLayout(seeds)
        return box

    def _where_box(self, default_out: Path) -> QGroupBox:
        box = QGroupBox("Where the cells run, where the results go", self)
        form = QFormLayout(box)
        self.executor_combo = QComboBox(box)
        self.executor_combo.setObjectName("sweepExecutor")
        for value, label in EXECUTOR_LABELS:
            self.executor_combo.addItem(label, value)
        self.address_edit = QLineEdit(box)
        self.address_edit.setObjectName("sweepRayAddress")
        self.address_edit.setPlaceholderText("empty: a local cluster on this machine's cores")
        self.address_edit.setToolTip("An existing Ray cluster, e.g. ray://head-node:10001 or auto")
        self.executor_combo.currentIndexChanged.connect(
            lambda: self.address_edit.setEnabled(self.executor_combo.currentData() == "ray")
        )
        self.out_edit = QLineEdit(str(default_out), box)
        self.out_edit.setObjectName("sweepOut")
        self.out_edit.setToolTip("One JSON per finished cell goes here; starting the same sweep again skips them")
        choose = QPushButton("Choose…", box)
        choose.clicked.connect(self._choose_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(choose)
        form.addRow("Run on:", self.executor_combo)
        form.addRow("Ray address:", self.address_edit)
        form.addRow("Results in:", out_row)
        return box

    def _choose_out(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the sweep's results", self.out_edit.text())
        if chosen:
            self.out_edit.setText(chosen)

    # -- methods -----------------------------------------------------------------------------------
    def populate(self, specs) -> None:
        """One entry per registered method, as in the Method panel; retraining ticked (the reference)."""
        for spec in specs:
            entry = MethodEntry(spec, self.methods_box)
            self._methods_layout.addWidget(entry)
            self.entries[spec.name] = entry
        for name in ("retrain", "finetune"):
            if name in self.entries:
                self.entries[name].set_checked(True)

    def check_only(self, *names: str) -> None:
        for name, entry in self.entries.items():
            entry.set_checked(name in names)

    # -- reading -------------------------------------------------------------------------------------
    def methods(self) -> list[dict]:
        chosen = []
        for name, entry in self.entries.items():
            if entry.is_checked():
                try:
                    chosen.append({"name": name, "params": entry.form.values()})
                except ConfigError as exc:
                    raise ConfigError(f"{entry.spec.label}: {exc}") from None
        if not chosen:
            raise ConfigError("tick at least one method")
        return chosen

    def models(self) -> list[dict]:
        names = [n for n, check in self.model_checks.items() if check.isChecked()]
        if not names:
            raise ConfigError("tick at least one base model")
        return [{"name": n, **self.model_form.values()} for n in names]

    def grid_dict(
        self, data: DataConfig, split: SplitConfig, sizes: list[float] | None = None, seeds: list[int] | None = None
    ) -> dict:
        """The grid as ``cragru-run sweep`` reads it from TOML (sizes and seeds as given here when None)."""
        kind = self.kind_combo.currentData()
        sizes = parse_sizes(self.sizes_edit.text()) if sizes is None else sizes
        return {
            "label": f"{kind} sizes {', '.join(f'{s:g}' for s in sizes)}",
            "requests": [f"{kind}:{s:g}" for s in sizes],
            "seeds": list(range(self.seeds_spin.value())) if seeds is None else seeds,
            **self.run_form.values(),
            "data": data_dict(data),
            "split": {k: v for k, v in asdict(split).items() if k != "seed"},
            "models": self.models(),
            "methods": self.methods(),
        }

    def grid(self, data: DataConfig, split: SplitConfig) -> Grid:
        return grid_from_dict(self.grid_dict(data, split))

    def stream_config(self, data: DataConfig, split: SplitConfig, size: float) -> ExperimentConfig:
        """One experiment with every ticked method on the first ticked base model, seed 0: the
        grid's own cell (same seeds as ``cragru-run``) with all the methods at once."""
        raw = self.grid_dict(data, split, sizes=[size], seeds=[0])
        first = grid_from_dict({**raw, "models": raw["models"][:1], "methods": raw["methods"][:1]}).cells[0]
        methods = tuple(MethodChoice(m["name"], m["params"]) for m in raw["methods"])
        config = replace(first.config, methods=methods)
        config.validate()
        return config

    def options(self) -> dict:
        """Where the cells run: ``executor``, ``address`` (None: a local cluster) and ``out``."""
        address = self.address_edit.text().strip() or None
        out = self.out_edit.text().strip()
        if not out:
            raise ConfigError("choose a folder for the sweep's results")
        return {"executor": self.executor_combo.currentData(), "address": address, "out": Path(out).expanduser()}
