"""Former home of the experiment; kept so older scripts keep importing from here.

The experiment now lives in :mod:`core.experiment` (data, base model, method step, run).
"""

from core.experiment.data import Prepared, load_data, prepare_data
from core.experiment.data import prepare_data as prepare
from core.experiment.run import run_experiment

__all__ = ["Prepared", "load_data", "prepare", "prepare_data", "run_experiment"]
