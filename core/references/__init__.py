"""The reference ensemble: R more retrainings and base models (other model seeds) whose
spread is the yardstick of every verdict (:mod:`.ensemble`, :mod:`.spread`,
:mod:`.evidence`); the run setting R is :mod:`.settings`, the stored figures :mod:`.results`.

Nothing heavy is imported here: :mod:`core.config` reads the setting from this package.
"""
