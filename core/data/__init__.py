"""Datasets: loading from files, the built-in demo generator, filters and summaries."""

from core.data.dataset import Dataset, DatasetSummary
from core.data.demo import demo_dataset
from core.data.loaders import load_dataset

__all__ = ["Dataset", "DatasetSummary", "demo_dataset", "load_dataset"]
