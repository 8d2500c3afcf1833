"""Helpers shared by several unlearning methods (never by one method alone).

- :mod:`~core.methods.common.copies`: a trainable copy of the base model that knows only
  the retained rows (fine-tune, NegGrad, reverse BPR, UnlearnRec).
- :mod:`~core.methods.common.forget_retain`: the forget/retain loop NegGrad and reverse BPR share.
- :mod:`~core.methods.common.shards`: user shards trained one by one, each from its own seed
  (SISA, RecEraser); :mod:`~core.methods.common.forms`: the parameter forms they share.

Import the modules themselves; this package imports nothing, so a method's
``__init__`` (its registry entry) stays light.
"""
