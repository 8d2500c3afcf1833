"""One experiment, end to end: the prepared data (:mod:`.data`), the base model and the
trainer every method shares (:mod:`.base_model`), one method step (:mod:`.method_step`)
that the experiment, request streams, seeds and the reference ensemble all call, and the
whole run (:mod:`.run`)."""

from core.experiment.data import Prepared, load_data, prepare_data
from core.experiment.run import run_experiment

__all__ = ["Prepared", "load_data", "prepare_data", "run_experiment"]
