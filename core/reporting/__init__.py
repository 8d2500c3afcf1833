"""What the numbers of a run mean, and how they are told: the metric catalogue, the
good/bad judgement, the story line and the HTML report. Qt-free, so the window and
``cragru-run`` say the same things."""
