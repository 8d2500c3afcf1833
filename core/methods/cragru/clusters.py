"""Item clusters: Word2Vec item vectors trained here, grouped by KMeans.

The retrieval strategies reason about a user's history per cluster ("how much of it is
comedy-like?"). As in the paper the clusters come from item co-occurrence; we train
the vectors locally (no downloaded embeddings, so the app works offline and the
vectors describe *this* catalogue) on each user's *training* sequence in time order,
never on valid/test rows. When the dataset has genres or titles, one extra sentence
per item ties the item token to its genre and title-word tokens, so rarely seen items
still land near similar ones. ``workers=1`` plus a fixed seed and hash make the
vectors reproducible. Results are cached on disk per dataset fingerprint and split.
"""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from core.data.dataset import Dataset
from core.events import NULL_REPORTER, Reporter
from core.model_cache import MemoryCache, cache_key, cached_path, load_entry, save_entry

CACHE_KIND = "cragru"
CACHE_VERSION = "cragru-clusters-v2"  # v2: keyed, checksummed entries
_STOPWORDS = {"the", "a", "an", "of", "and", "in", "on", "to", "for", "from", "with", "la", "le", "de", "les"}
_WORD = re.compile(r"[a-z][a-z']+")


@dataclass
class ItemClusters:
    """``vectors`` ``[n_items, dim]`` (float32) and ``labels`` ``[n_items]`` (0..k-1)."""

    vectors: np.ndarray
    labels: np.ndarray
    k: int
    fit_s: float = 0.0  # seconds the fit took when first computed (kept in the cache: cost of a reused set-up)

    def shares(self, items: np.ndarray) -> np.ndarray:
        """Counts of ``items`` per cluster, ``[k]``."""
        return np.bincount(self.labels[np.asarray(items, dtype=np.int64)], minlength=self.k)


def _stable_hash(text: str) -> int:
    """A process-independent hash: Python's ``hash`` of a str changes with PYTHONHASHSEED."""
    return zlib.crc32(text.encode())


def title_tokens(title: str) -> list[str]:
    """Lower-case title words without the year and common stop words."""
    title = re.sub(r"\(\d{4}\)", " ", str(title).lower())
    return [w for w in _WORD.findall(title) if w not in _STOPWORDS]


def training_sentences(dataset: Dataset, train_rows: np.ndarray, use_meta: bool = True) -> list[list[str]]:
    """One sentence per user (training items in time order), plus metadata sentences."""
    rows = np.asarray(train_rows, dtype=np.int64)
    order = np.lexsort((rows, dataset.timestamps[rows], dataset.users[rows]))
    users, items = dataset.users[rows][order], dataset.items[rows][order]
    cuts = np.flatnonzero(np.diff(users)) + 1
    sentences = [[f"i{i}" for i in part.tolist()] for part in np.split(items, cuts) if len(part)]
    if use_meta and dataset.item_meta is not None:
        genres = dataset.item_genres()
        has_title = "title" in dataset.item_meta
        for item in range(dataset.n_items):
            extra = [f"g:{g.lower()}" for g in genres[item]]
            if has_title:
                extra += [f"t:{w}" for w in title_tokens(dataset.item_title(item))]
            if extra:
                sentences.append([f"i{item}", *extra])
    return sentences


class _CheckedCorpus:
    """The sentences, read afresh each epoch, ending early once a stop is requested.

    gensim trains in C on a worker thread fed by a producer thread that iterates this
    corpus; ending the iteration is the one clean way to stop it within milliseconds (an
    exception there would be swallowed by the thread). Not stopped, it yields exactly the
    list, so the vectors are the same as from the list itself."""

    def __init__(self, sentences: list[list[str]], reporter: Reporter) -> None:
        self.sentences, self.reporter, self.stopped = sentences, reporter, False

    def __iter__(self):
        for n, sentence in enumerate(self.sentences):
            if n % 64 == 0 and self.reporter.stop_requested():
                self.stopped = True
                return
            yield sentence


def _word2vec(sentences: list[list[str]], dim: int, window: int, seed: int, epochs: int, reporter: Reporter):
    """Word2Vec (skip-gram) that honours a stop request within a fraction of a second."""
    from gensim.models import Word2Vec

    corpus = _CheckedCorpus(sentences, reporter)
    model = Word2Vec(
        vector_size=dim,
        window=window,
        min_count=1,
        sg=1,
        negative=5,
        workers=1,
        seed=int(seed),
        epochs=epochs,
        hashfxn=_stable_hash,
    )
    model.build_vocab(corpus)
    reporter.check()
    model.train(corpus, total_examples=model.corpus_count, epochs=epochs, callbacks=[_Progress(reporter, epochs)])
    if corpus.stopped:
        reporter.check()  # raises Cancelled (the flag is set)
    return model


class _Progress:
    """gensim callback: progress (and the cancel check) once per Word2Vec epoch."""

    def __init__(self, reporter: Reporter, epochs: int) -> None:
        self.reporter, self.epochs, self.epoch = reporter, epochs, 0

    def on_epoch_begin(self, model) -> None:
        return None

    def on_epoch_end(self, model) -> None:
        """Runs on the calling thread once the epoch's workers are done: raising here (a
        stop request, after :class:`_CheckedCorpus` cut the epoch short) ends ``train``."""
        self.epoch += 1
        self.reporter.progress(0.9 * self.epoch / self.epochs, f"item clusters: Word2Vec epoch {self.epoch}")

    def on_train_begin(self, model) -> None:
        return None

    def on_train_end(self, model) -> None:
        return None


def fit_item_clusters(
    dataset: Dataset,
    train_rows: np.ndarray,
    k: int = 5,
    dim: int = 32,
    epochs: int = 10,
    window: int = 5,
    seed: int = 0,
    use_meta: bool = True,
    reporter: Reporter = NULL_REPORTER,
) -> ItemClusters:
    """Train Word2Vec (skip-gram) on training sequences, then KMeans the item vectors.

    Items that never occur (no training row and no metadata) get the mean vector and
    the label of the nearest centroid: they cannot be in any history anyway. A stop
    request ends Word2Vec within a fraction of a second (:class:`_CheckedCorpus`) and is
    checked between KMeans restarts.
    """
    sentences = training_sentences(dataset, train_rows, use_meta)
    reporter.check()
    model = _word2vec(sentences, dim, window, seed, epochs, reporter)
    vectors = np.zeros((dataset.n_items, dim), dtype=np.float32)
    present = np.zeros(dataset.n_items, dtype=bool)
    for item in range(dataset.n_items):
        key = f"i{item}"
        if key in model.wv.key_to_index:
            vectors[item] = model.wv[key]
            present[item] = True
    if present.any():
        vectors[~present] = vectors[present].mean(0)
    n_clusters = max(1, min(int(k), int(present.sum())))
    km = _kmeans(_unit(vectors[present]) if present.any() else _unit(vectors), n_clusters, seed, reporter)
    labels = km.predict(_unit(vectors)).astype(np.int64)
    return ItemClusters(vectors=vectors, labels=labels, k=n_clusters)


def _kmeans(x: np.ndarray, k: int, seed: int, reporter: Reporter, n_init: int = 10):
    """KMeans with ``n_init`` restarts, the best inertia kept, a stop checked between
    restarts. The restarts share one generator seeded by ``seed``, as scikit-learn's own
    ``n_init`` loop does, so the result equals ``KMeans(n_init=10, random_state=seed)``'s."""
    from sklearn.cluster import KMeans

    rng = np.random.RandomState(int(seed))
    best = None
    for _ in range(n_init):
        reporter.check()
        km = KMeans(n_clusters=k, n_init=1, random_state=rng).fit(x)
        if best is None or km.inertia_ < best.inertia_:
            best = km
    return best


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


_MEMO = MemoryCache(8)


def cached_item_clusters(
    dataset: Dataset,
    split_dict: dict,
    train_rows: np.ndarray,
    *,
    use_cache: bool = True,
    reporter: Reporter = NULL_REPORTER,
    **kwargs,
) -> tuple[ItemClusters, bool]:
    """Clusters for (dataset fingerprint, split, settings): memory, then disk, then fit
    (``reporter``: progress and the stop flag while fitting). The disk entry is keyed and
    checksummed: another key's, an altered or a wrongly shaped file is refused with a
    warning and the clusters fitted again; a cache that cannot be written is a warning.

    Returns ``(clusters, from_cache)``.
    """
    key = cache_key(dataset.fingerprint(), split_dict, kwargs, CACHE_VERSION)
    if use_cache and key in _MEMO:
        return _MEMO.get(key), True
    path = cached_path(key, CACHE_KIND)
    clusters = _load_clusters(path, key, dataset.n_items, reporter) if use_cache else None
    if clusters is not None:
        _MEMO.put(key, clusters)
        return clusters, True
    started = time.perf_counter()
    clusters = fit_item_clusters(dataset, train_rows, reporter=reporter, **kwargs)
    clusters.fit_s = time.perf_counter() - started
    if use_cache:
        _MEMO.put(key, clusters)
        payload = {
            "vectors": torch.from_numpy(clusters.vectors),
            "labels": torch.from_numpy(clusters.labels),
            "k": torch.tensor(clusters.k),
            "fit_s": torch.tensor(clusters.fit_s, dtype=torch.float64),
        }
        warning = save_entry(path, key, payload, {"n_items": dataset.n_items, **kwargs})
        if warning:
            reporter.log(f"item clusters: {warning}", "warning")
    return clusters, False


def _load_clusters(path, key: str, n_items: int, reporter: Reporter) -> ItemClusters | None:
    """The clusters of the intact entry of ``key`` with ``n_items`` rows, or None (a
    refused entry is a warning: another key's, altered, unkeyed or of another shape)."""
    saved, warning = load_entry(path, key)
    if saved is not None:
        try:
            vectors, labels, k = saved["vectors"].numpy(), saved["labels"].numpy(), int(saved["k"])
            if vectors.ndim != 2 or vectors.shape[0] != n_items or labels.shape != (n_items,):
                raise ValueError(f"shapes {tuple(vectors.shape)} and {tuple(labels.shape)} for {n_items} items")
            if k < 1 or labels.min(initial=0) < 0 or labels.max(initial=0) >= k or not np.isfinite(vectors).all():
                raise ValueError("labels outside 0..k-1 or non-finite vectors")
            fit_s = float(saved["fit_s"]) if "fit_s" in saved else 0.0  # entries written before it: unknown
            return ItemClusters(vectors.astype(np.float32), labels.astype(np.int64), k, fit_s)
        except Exception as exc:  # noqa: BLE001 - a wrong entry is refitted, never used
            warning = f"cache entry {path.name} not used: {type(exc).__name__}: {str(exc)[:200]}; fitting again"
    if warning:
        reporter.log(f"item clusters: {warning.replace('training again', 'fitting again')}", "warning")
    return None
