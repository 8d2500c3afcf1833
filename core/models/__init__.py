"""Base recommenders (BPR-MF, LightGCN) and the scorer interface evaluation relies on."""
