"""Issue 16, cache entries: the dual memory's T5 main memory is a keyed, checksummed entry;
another key's file planted under its name, an altered file, an older unkeyed one or one of
another shape is refused with a warning and the T5 trained again, never used."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from core.events import LogEvent, Reporter
from core.methods.dual_memory.generative import build_t5
from core.methods.dual_memory.method import CACHE_KIND, CACHE_VERSION, _train_or_load, main_config
from core.methods.registry import get_method
from core.model_cache import ENTRY_MAGIC, cache_key, cached_path, save_entry
from tests.demo_context import demo_context

TINY = dict(history_len=5, model_dim=16, model_layers=1, model_heads=2, main_epochs=1, batch_size=1024)
LOGS: list[LogEvent] = []


@pytest.fixture(scope="module")
def ctx():
    return demo_context(
        "users:random:0.1", reporter=Reporter(lambda e: LOGS.append(e) if isinstance(e, LogEvent) else None)
    )


def main_memory(ctx, cfg):
    LOGS.clear()
    model, cached = _train_or_load(ctx, cfg, ctx.split.train, ctx.split.valid, (), "main memory", True)
    return model, cached, [e.text for e in LOGS if e.level == "warning"]


def entry(ctx, cfg):
    key = cache_key(ctx.dataset.fingerprint(), ctx.split.as_dict(), cfg.as_dict(), "cpu", CACHE_VERSION)
    return cached_path(key, CACHE_KIND), key


def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_main_memory_cache_is_keyed_and_refuses_what_is_not_its_own(isolated_home, ctx):
    cfg = main_config(get_method("dual_memory").validate(TINY), 0)
    trained, cached, warnings = main_memory(ctx, cfg)
    path, key = entry(ctx, cfg)
    assert not cached and not warnings and path.read_bytes().startswith(ENTRY_MAGIC)
    loaded, cached, warnings = main_memory(ctx, cfg)
    assert cached and not warnings and same(loaded, trained)

    other = replace(cfg, seed=7)  # valid weights of another key, planted under this run's name
    main_memory(ctx, other)
    path.write_bytes(entry(ctx, other)[0].read_bytes())
    model, cached, warnings = main_memory(ctx, cfg)
    assert not cached and any("another key" in w and "training again" in w for w in warnings)
    assert same(model, trained)  # trained again from its own seed, nothing of the planted file
    assert main_memory(ctx, cfg)[1]  # the retrained entry replaced the planted one

    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    _, cached, warnings = main_memory(ctx, cfg)
    assert not cached and any("checksum" in w for w in warnings)

    torch.save(trained.state_dict(), path)  # an older entry: valid weights, no key
    _, cached, warnings = main_memory(ctx, cfg)
    assert not cached and any("no key" in w for w in warnings)


def test_an_entry_of_another_shape_is_retrained_not_a_crash(isolated_home, ctx):
    cfg = main_config(get_method("dual_memory").validate(TINY), 0)
    path, key = entry(ctx, cfg)
    wrong = build_t5(ctx.dataset.n_items + 5, cfg)
    assert save_entry(path, key, wrong.state_dict()) is None  # right key and checksum, another vocabulary
    model, cached, warnings = main_memory(ctx, cfg)
    assert not cached and any("size mismatch" in w and "training again" in w for w in warnings)
    assert model.config.vocab_size == build_t5(ctx.dataset.n_items, cfg).config.vocab_size


def test_an_unwritable_cache_is_a_warning(isolated_home, ctx, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(blocker))
    cfg = main_config(get_method("dual_memory").validate(TINY), 0)
    model, cached, warnings = main_memory(ctx, cfg)
    assert model is not None and not cached and any("not saved" in w for w in warnings)
    assert np.isfinite(next(model.parameters()).detach().numpy()).all()
