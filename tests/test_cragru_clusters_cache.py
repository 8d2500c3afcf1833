"""Issue 16, cache entries: CRAGRU's item clusters are a keyed, checksummed entry; another
key's file planted under its name, an altered, an unkeyed or a wrongly shaped one is refused
with a warning and the clusters fitted again; an unwritable cache is a warning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.demo import demo_dataset
from core.events import LogEvent, Reporter
from core.methods.cragru import clusters as clusters_module
from core.methods.cragru.clusters import CACHE_KIND, CACHE_VERSION, cached_item_clusters
from core.model_cache import ENTRY_MAGIC, cache_key, cached_path, save_entry
from core.split import SplitConfig, make_split

SETTINGS = dict(k=3, dim=8, epochs=1, seed=0)


@pytest.fixture(scope="module")
def data():
    ds = demo_dataset(0)
    return ds, make_split(ds, SplitConfig(seed=0))


def clusters(data, **settings):
    """Fit or load (memory memo cleared: the disk entry is what is tested); warnings logged."""
    ds, split = data
    clusters_module._MEMO.clear()
    logs: list[LogEvent] = []
    reporter = Reporter(lambda e: logs.append(e) if isinstance(e, LogEvent) else None)
    result, cached = cached_item_clusters(ds, split.as_dict(), split.train, reporter=reporter, **(settings or SETTINGS))
    return result, cached, [e.text for e in logs if e.level == "warning"]


def entry(data, **settings):
    ds, split = data
    key = cache_key(ds.fingerprint(), split.as_dict(), settings or SETTINGS, CACHE_VERSION)
    return cached_path(key, CACHE_KIND), key


def same(a, b) -> bool:
    return a.k == b.k and np.array_equal(a.labels, b.labels) and np.array_equal(a.vectors, b.vectors)


def test_clusters_entry_is_keyed_and_refuses_what_is_not_its_own(isolated_home, data):
    fitted, cached, warnings = clusters(data)
    path, _ = entry(data)
    assert not cached and not warnings and path.read_bytes().startswith(ENTRY_MAGIC)
    loaded, cached, warnings = clusters(data)
    assert cached and not warnings and same(loaded, fitted)

    other = dict(SETTINGS, seed=5)  # a valid entry of another key, planted under this one's name
    clusters(data, **other)
    path.write_bytes(entry(data, **other)[0].read_bytes())
    again, cached, warnings = clusters(data)
    assert not cached and any("another key" in w and "fitting again" in w for w in warnings)
    assert same(again, fitted)
    assert clusters(data)[1]  # the refitted entry replaced the planted one

    body = bytearray(path.read_bytes())
    body[-10] ^= 0xFF
    path.write_bytes(bytes(body))
    _, cached, warnings = clusters(data)
    assert not cached and any("checksum" in w for w in warnings)

    torch.save(
        {
            "vectors": torch.from_numpy(fitted.vectors),
            "labels": torch.from_numpy(fitted.labels),
            "k": torch.tensor(fitted.k),
        },
        path,
    )  # the older format: valid contents, no key
    _, cached, warnings = clusters(data)
    assert not cached and any("no key" in w for w in warnings)


@pytest.mark.parametrize("bad", ["rows", "labels"])
def test_an_entry_of_another_shape_or_range_is_refitted_not_a_crash(isolated_home, data, bad):
    ds, _ = data
    path, key = entry(data)
    n = ds.n_items + (7 if bad == "rows" else 0)
    labels = torch.full((n,), 9 if bad == "labels" else 0, dtype=torch.int64)  # label 9 with k = 3
    assert save_entry(path, key, {"vectors": torch.zeros(n, 8), "labels": labels, "k": torch.tensor(3)}) is None
    result, cached, warnings = clusters(data)
    assert not cached and any("not used" in w and "fitting again" in w for w in warnings)
    assert result.labels.shape == (ds.n_items,) and result.labels.max() < result.k


def test_an_unwritable_cache_is_a_warning(isolated_home, data, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(blocker))
    result, cached, warnings = clusters(data)
    assert not cached and result.labels.shape == (data[0].n_items,) and any("not saved" in w for w in warnings)
