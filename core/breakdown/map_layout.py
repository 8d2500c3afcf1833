"""A seeded 2-D map of users and of items, and what the map colours them by.

Positions come from the original (base) model: its user and item vectors where it has them
(BPR, LightGCN), otherwise the training histories (rows of the user × item matrix for users,
columns for items). PCA from scikit-learn (sign fixed by scikit-learn's ``svd_flip``,
``random_state`` = the run's seed) projects them to two dimensions; t-SNE on the first 50
principal components is offered for small maps. Both maps are computed once per run and
stored with it, so a run opened from history draws the same map.

What a point's colour means is computed from the run's top-10 lists (vectorised):
how far each person's top-10 under a method moved from retraining's (1 − Jaccard), and for
items how much more or less often a method shows an item than retraining does.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from core.breakdown.model import MapLayout
from core.cancel import cancel_point
from core.models.base import EmbeddingModel

MAX_MAP_POINTS = 200_000
"""Above this many users (or items) no map is stored with the run (its JSON would be too large)."""
TSNE_MAX_POINTS = 5_000
_ROWS_PER_CHUNK = 65_536
METHODS = ("pca", "tsne")


def layout_2d(features, seed: int, method: str = "pca") -> np.ndarray:
    """``[n, 2]`` positions of the rows of ``features`` (dense array or sparse matrix),
    scaled so the larger axis spans −1..1; the same seed and input give the same map."""
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r} (use {', '.join(METHODS)})")
    from sklearn.decomposition import PCA

    n = features.shape[0]
    if n == 0:
        return np.zeros((0, 2))
    width = min(2 if method == "pca" else 50, n, features.shape[1])
    if sp.issparse(features):
        solver = "arpack" if width < min(features.shape) else "full"
        data = features.astype(np.float64) if solver == "arpack" else features.toarray().astype(np.float64)
    else:
        data = np.asarray(features, dtype=np.float64)
        solver = "auto"
    cancel_point()
    # one BLAS thread: the SVD is small ([n, 64] vectors, 2 components) and OpenBLAS's worker threads
    # spin while they wait; beside torch's threads on a busy 2-core machine a 300 × 64 SVD took
    # 0.2-1.3 CPU s instead of 7 ms (the demo rerun's map: 1.45 s)
    with threadpool_limits(1, user_api="blas"):
        points = PCA(n_components=width, svd_solver=solver, random_state=seed).fit_transform(data)
    if method == "tsne":
        if n > TSNE_MAX_POINTS:
            raise ValueError(f"t-SNE is offered up to {TSNE_MAX_POINTS:,} points; this map has {n:,} (use PCA)")
        from sklearn.manifold import TSNE

        points = TSNE(n_components=2, random_state=seed, init="pca", perplexity=min(30.0, (n - 1) / 3)).fit_transform(
            points
        )
    out = np.zeros((n, 2))
    out[:, : points.shape[1]] = points[:, :2]
    scale = np.abs(out).max()
    return out / scale if scale > 0 else out


def run_maps(prepared, base, seed: int) -> tuple[dict[str, MapLayout], list[str]]:
    """The users' and the items' map of a run, from the original model (or the histories)."""
    ds = prepared.dataset
    if max(ds.n_users, ds.n_items) > MAX_MAP_POINTS:
        return {}, [f"no map stored: more than {MAX_MAP_POINTS:,} users or items"]
    if isinstance(base, EmbeddingModel):
        users, items = (t.detach().float().cpu().numpy() for t in base.layer0())
        source = "the original model's {} vectors"
    else:
        history = ds.matrix(prepared.split.train)
        users, items = history, history.T.tocsr()
        source = "training histories ({} rows of the user × item matrix)"
    return {
        "users": MapLayout("users", *layout_2d(users, seed).T, source=source.format("user")),
        "items": MapLayout("items", *layout_2d(items, seed).T, source=source.format("item")),
    }, []


def moved_from_retrain(lists: np.ndarray, retrain: np.ndarray) -> np.ndarray:
    """Per user, 1 − Jaccard of a model's top-10 with retraining's: 0 = the same items, 1 = none shared."""
    a, b = np.asarray(lists), np.asarray(retrain)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"lists must be two [n_users, K] arrays of one shape, got {a.shape} and {b.shape}")
    k = a.shape[1]
    common = np.empty(len(a))
    for start in range(0, len(a), _ROWS_PER_CHUNK):  # chunk × K × K booleans at a time
        part = slice(start, start + _ROWS_PER_CHUNK)
        common[part] = (a[part, :, None] == b[part, None, :]).sum(axis=(1, 2))
    return 1.0 - common / np.maximum(2 * k - common, 1)  # Jaccard as core.evaluation.agreement counts it


def exposure_change(
    lists: np.ndarray, retrain: np.ndarray, n_items: int, users: np.ndarray | None = None
) -> np.ndarray:
    """Per item, how many more people's top-10 (among ``users``; all when None) show it under a
    model than under retraining (negative: fewer)."""
    if users is not None:
        lists, retrain = lists[users], retrain[users]
    mine = np.bincount(np.asarray(lists).ravel(), minlength=n_items)
    theirs = np.bincount(np.asarray(retrain).ravel(), minlength=n_items)
    return (mine - theirs).astype(np.float64)


def inside_polygon(x: np.ndarray, y: np.ndarray, polygon: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """Bool per point: inside the closed ``polygon`` (``[m, 2]``, a lasso), by ray casting,
    vectorised over points in chunks of about ``chunk`` point × edge pairs."""
    poly = np.asarray(polygon, dtype=np.float64)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(poly) < 3:
        return np.zeros(len(x), dtype=bool)
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    out = np.zeros(len(x), dtype=bool)
    step = max(1, chunk // len(poly))
    for start in range(0, len(x), step):
        px, py = x[start : start + step, None], y[start : start + step, None]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        out[start : start + step] = ((crosses & (px < at)).sum(axis=1) % 2) == 1
    return out
