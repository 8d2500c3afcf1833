"""The Sweep tab: a grid of experiments and a request stream, set up, run, and plotted."""
