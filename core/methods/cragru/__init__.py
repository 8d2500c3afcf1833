"""CRAGRU (placeholder until its issue lands)."""
