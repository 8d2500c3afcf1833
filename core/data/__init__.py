"""Datasets: loading from files, the built-in demo generator, filters and summaries."""

from core.data.dataset import Dataset, DatasetSummary

__all__ = ["Dataset", "DatasetSummary"]
