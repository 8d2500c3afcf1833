"""The run setting R: how many reference retrainings (and reference base models) a run trains.

One spec (:data:`REFERENCES_PARAM`) gives ``cragru-run --references R``, the window's spin
box and the sweep grids' ``references`` key their range, default and help. ``None`` in a
configuration means "this dataset's default": :func:`references_for` resolves it (the
demo's is smaller, so the demo keeps its time budget), and the run records the number it used.
"""

from __future__ import annotations

from core.params import ParamSpec

MAX_REFERENCES = 32
DEFAULT_REFERENCES = 4
DEMO_REFERENCES = 4
REFERENCES_PARAM = ParamSpec(
    "references",
    int,
    DEFAULT_REFERENCES,
    "Reference ensemble: retrain this many more times (other model seeds) and train this many more base "
    "models, so every verdict is judged against retraining's own spread and each forgotten person gets a "
    "likelihood-ratio test; 0 = off (verdicts then compare with one retraining). Each costs about one "
    "retraining plus one base model the first time; they are cached",
    low=0,
    high=MAX_REFERENCES,
    label="Reference models",
    demo=DEMO_REFERENCES,
)
"""The run setting the window's spin box, ``cragru-run --references`` and sweep grids are built from."""


def check_references(value) -> int | None:
    """``value`` range-checked (None stays None: the dataset's default); ConfigError otherwise."""
    return None if value is None else REFERENCES_PARAM.coerce(value)


def references_for(references: int | None, demo: bool) -> int:
    """The R a run uses: the configured one, or the default of the demo / of other data."""
    return int(references) if references is not None else int(REFERENCES_PARAM.default_for(demo))
