"""Sweeps and request streams: many ordinary experiments, run as Ray tasks.

- :mod:`.grid`: a TOML grid (request kinds and sizes, methods and their parameters,
  base models, seeds) expanded into cells, each one ordinary :class:`ExperimentConfig`;
- :mod:`.engine`: the cells run on Ray (a local cluster by default) or in-process, the
  distinct base models first so every cell loads its base from the disk cache;
- :mod:`.aggregate`: mean and 95 % interval over seeds, as series against request size;
- :mod:`.stream`: K deletion requests applied one after another to the same model,
  against retraining from scratch after each;
- :mod:`.svg`: the plots as plain SVG (``core`` draws without Qt).
"""
