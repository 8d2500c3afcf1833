"""The Ray cluster the sweeps and the reference ensemble run on (joining, starting, cleaning up)."""
