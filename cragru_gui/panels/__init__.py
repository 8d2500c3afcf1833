"""The set-up panels on the left of the window (dataset, forget, method) and the History page: what to run, on what,
and past runs."""
